"""Collection browser: documents after a check-in, filtering as you type, status and flags."""

from __future__ import annotations

import threading

import pytest
from textual.widgets import Select

from tests.tui.conftest import EVIL
from tests.tui.helpers import (
    SIZES,
    drive,
    pilot_test,
    resize,
    screen_text,
    settle,
    type_text,
    unlock,
)
from tests.vaults import TestVault
from tui.app import VaultApp
from tui.messages.loading import DocumentsLoaded
from tui.screens import browser
from tui.screens.browser import BrowserScreen
from tui.screens.document import DocumentScreen
from vault.clock import FixedClock
from vault.service import Vault
from vault.service.review import TRANSITIONS

NAMES = ["[bold]loud[red].txt", "budget.eml", EVIL, "ledger.csv", "memo.txt"]


def as_stored(name: str) -> str:
    """A name as the check-in recorded it: control and bidi characters written out."""
    return name.replace("\x1b", "\\x1b").replace("\u202e", "\\u202e")


def mark_through(vault: Vault, oid: str, status: str) -> None:
    """Mark a document, through `in-review` if the workflow wants that first."""
    if status not in TRANSITIONS[vault.show(oid).document.status]:
        vault.mark(oid, "in-review")
    vault.mark(oid, status)


async def open_leak(app: VaultApp) -> BrowserScreen:
    app.open_collection("leak")
    screen = app.screen
    assert isinstance(screen, BrowserScreen)
    return screen


@pilot_test
async def test_browse_filter_as_you_type_and_open(tv: TestVault, clock: FixedClock) -> None:
    app = VaultApp(tv.path, "alice", clock=clock, cursor_blink=False)
    async with drive(app, SIZES[0]) as pilot:
        await unlock(app, pilot)
        screen = await open_leak(app)
        await settle(app, pilot)
        assert sorted(d.name for d in screen.table.shown_rows()) == sorted(map(as_stored, NAMES))

        for size in SIZES:
            await resize(pilot, size)
            lines = screen_text(app).splitlines()
            assert len(lines) == size[1]
            assert "5 of 5 documents" in "\n".join(lines)
            header = next(line for line in lines if " id " in line and " name " in line)
            for title in ("type", "size", "status", "flags", "tags"):
                assert title in header
            memo = next(line for line in lines if "memo.txt" in line)
            assert "unverified" in memo
            assert "text/plain" in memo
            assert "[bold]loud[red].txt" in "\n".join(lines)  # as written: no markup was read
            for binding in ("Open", "Back", "Filter", "Check in"):
                assert binding in lines[-1]

        await pilot.press("slash")
        await settle(app, pilot)
        await type_text(pilot, "memo")
        await settle(app, pilot)
        assert [d.name for d in screen.table.shown_rows()] == ["memo.txt"]
        assert "1 of 5 documents" in screen_text(app)
        await type_text(pilot, "x")
        await settle(app, pilot)
        assert screen.table.shown_rows() == []
        assert "no documents" in screen_text(app)
        await pilot.press(*["backspace"] * 5)
        await settle(app, pilot)
        assert screen.table.count == 5
        await type_text(pilot, "EVIL")  # case does not matter
        await settle(app, pilot)
        [evil] = screen.table.shown_rows()
        assert evil.name == as_stored(EVIL)

        await pilot.press("enter")  # from the filter box to the table
        await settle(app, pilot)
        assert screen.table.has_focus
        await pilot.press("enter")  # open the document
        await settle(app, pilot)
        assert isinstance(app.screen, DocumentScreen)
        assert app.screen.ref == evil.oid


@pilot_test
async def test_status_and_flag_filters_ask_the_service(tv: TestVault, clock: FixedClock) -> None:
    with tv.open() as vault:
        memo = next(d for d in vault.documents("leak") if d.name == "memo.txt")
        mark_through(vault, memo.oid, "forged")
    app = VaultApp(tv.path, "alice", clock=clock, cursor_blink=False)
    async with drive(app, (100, 30)) as pilot:
        await unlock(app, pilot)
        screen = await open_leak(app)
        await settle(app, pilot)

        screen.query_one("#status-filter", Select).value = "forged"
        await settle(app, pilot)
        assert [d.name for d in screen.table.shown_rows()] == ["memo.txt"]
        assert "1 of 1 documents" in screen_text(app)

        screen.query_one("#status-filter", Select).clear()
        screen.query_one("#flag-filter", Select).value = "executable"
        await settle(app, pilot)
        [flagged] = screen.table.shown_rows()
        assert "executable" in flagged.flags
        assert flagged.name == as_stored(EVIL)


@pilot_test
async def test_a_long_listing_paints_its_first_page_then_the_rest(
    tv: TestVault, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(browser, "FIRST_PAGE", 2)
    heard: list[tuple[int, bool]] = []
    painted: list[threading.Event] = []
    show = BrowserScreen.on_documents_loaded

    def spy(screen: BrowserScreen, message: DocumentsLoaded) -> None:
        heard.append((len(message.rows), message.complete))
        if message.painted is not None:
            painted.append(message.painted)
        show(screen, message)

    monkeypatch.setattr(BrowserScreen, "on_documents_loaded", spy)
    app = VaultApp(tv.path, "alice", clock=clock, cursor_blink=False)
    async with drive(app, SIZES[0]) as pilot:
        await unlock(app, pilot)
        screen = await open_leak(app)
        await settle(app, pilot)
        assert heard == [(2, False), (5, True)]
        assert len(painted) == 1
        assert painted[0].is_set()  # the worker read on once the first page was painted
        assert screen.table.total == 5
        assert "5 of 5 documents" in screen_text(app)

        # What the first page looks like until the rest arrives.
        first = screen.table.shown_rows()[:2]
        screen.post_message(DocumentsLoaded(first, [], complete=False))
        await settle(app, pilot)
        assert "2 of the first 2 documents · listing the rest…" in screen_text(app)
