"""Document screen: metadata, flags explained, provenance, and marking the status."""

from __future__ import annotations

from textual.widgets import Input, OptionList

from tests.tui.helpers import (
    SIZES,
    drive,
    on_top,
    pilot_test,
    resize,
    screen_text,
    settle,
    type_text,
    unlock,
)
from tests.vaults import TestVault
from tui.app import VaultApp
from tui.screens.browser import BrowserScreen
from tui.screens.document import DocumentScreen
from tui.screens.mark import MarkScreen
from vault.clock import FixedClock
from vault.service import DocumentView
from vault.service.review import STATUSES, TRANSITIONS

SHOWN = "evil\\x1b[2Jname\\u202etxt.exe"


def find(stored: dict[str, DocumentView], name: str) -> DocumentView:
    return next(d for d in stored.values() if name in d.name)


def moves(status: str) -> list[str]:
    """The statuses the workflow allows next, in the order the dialog lists them."""
    return [s for s in STATUSES if s in TRANSITIONS[status]]


@pilot_test
async def test_document_shows_metadata_flags_and_provenance(
    tv: TestVault, clock: FixedClock, stored: dict[str, DocumentView]
) -> None:
    evil = find(stored, "evil")
    app = VaultApp(tv.path, "alice", clock=clock, cursor_blink=False)
    async with drive(app, SIZES[0]) as pilot:
        await unlock(app, pilot)
        app.open_document(evil.oid)
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, DocumentScreen)
        assert screen.bundle is not None
        [seen] = screen.bundle.detail.occurrences
        assert (seen.member, seen.source) == ("alice", "message board dump")

        for size in SIZES:
            await resize(pilot, size)
            await pilot.press("home")
            await settle(app, pilot)
            upper = screen_text(app)
            assert len(upper.splitlines()) == size[1]
            assert SHOWN in upper
            assert evil.oid[:40] in upper
            assert "unverified" in upper
            for binding in ("Back", "Mark status", "Lock"):
                assert binding in upper.splitlines()[-1]
            await pilot.press("end")  # the rest of the document, by keyboard
            await settle(app, pilot)
            bottom = screen_text(app)
            assert "a program or script" in upper + bottom  # the flag, explained
            assert "Provenance" in bottom
            assert "message board dump" in bottom
            assert f"dump/{SHOWN}" in bottom

        await pilot.press("m")
        await settle(app, pilot)
        assert isinstance(app.screen, MarkScreen)
        await pilot.press("escape")  # leaves the status as it was
        await settle(app, pilot)
        assert on_top(app, screen)
    with tv.open() as vault:
        assert vault.show(evil.oid).document.status == "unverified"


@pilot_test
async def test_marking_changes_the_status(
    tv: TestVault, clock: FixedClock, stored: dict[str, DocumentView]
) -> None:
    memo = find(stored, "memo.txt")
    app = VaultApp(tv.path, "alice", clock=clock, cursor_blink=False)
    async with drive(app, (100, 30)) as pilot:
        await unlock(app, pilot)
        app.open_collection("leak")
        await settle(app, pilot)
        browser = app.screen
        assert isinstance(browser, BrowserScreen)
        browser.table.cursor = [d.oid for d in browser.table.shown_rows()].index(memo.oid)
        await pilot.press("enter")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, DocumentScreen)

        status = "unverified"
        for _ in range(2):  # two steps, e.g. unverified → in-review → a verdict
            await pilot.press("m")
            await settle(app, pilot)
            dialog = app.screen
            assert isinstance(dialog, MarkScreen)
            assert dialog.allowed == moves(status)
            options = dialog.query_one(OptionList)
            options.focus()
            await pilot.press("end", "enter")  # the last move listed, then on to the note
            await settle(app, pilot)
            assert dialog.query_one("#mark-note", Input).has_focus
            await type_text(pilot, "two sources disagree")
            await pilot.press("enter")
            await settle(app, pilot)
            status = moves(status)[-1]
            assert screen.bundle is not None
            assert screen.bundle.detail.document.status == status
            assert status in screen_text(app)
            assert on_top(app, screen)

        await pilot.press("escape")  # the browser lists again: the status changed meanwhile
        await settle(app, pilot)
        assert on_top(app, browser)
        [shown] = [d for d in browser.table.shown_rows() if d.oid == memo.oid]
        assert shown.status == status
    with tv.open() as vault:
        assert vault.show(memo.oid).document.status == status
        assert status != "unverified"


@pilot_test
async def test_mark_is_greyed_out_when_the_policies_refuse(
    tv: TestVault, clock: FixedClock, stored: dict[str, DocumentView]
) -> None:
    memo = find(stored, "memo.txt")
    with tv.open() as vault:
        vault.grant("leak", "carol")  # legal reads, but may not mark
    app = VaultApp(tv.path, "carol", clock=clock, cursor_blink=False)
    async with drive(app, (100, 30)) as pilot:
        await unlock(app, pilot, "carol")
        app.open_document(memo.oid)
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, DocumentScreen)
        assert screen.check_action("mark", ()) is None
        assert "you may not mark this document" in screen_text(app)
        await pilot.press("m")
        await settle(app, pilot)
        assert on_top(app, screen)  # no dialog
