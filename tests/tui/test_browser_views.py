"""Collection browser: full-text search as you type, the tree of containers, the embargo's lift
time, tags, and every binding in the footer at 100×30 and 80×24."""

from __future__ import annotations

import asyncio
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from textual.message import Message

from tests.tui.helpers import SIZES, drive, pilot_test, resize, screen_text, settle, unlock
from tests.tui.helpers import type_text as typed
from tests.vaults import TestVault
from tui.app import VaultApp
from tui.messages.loading import SearchDone
from tui.screens import browser
from tui.screens.browser import BrowserScreen
from tui.screens.document import DocumentScreen
from vault.clock import FixedClock
from vault.service import DocumentView

FOOTER = ("Open", "Back", "Filter", "Search", "Tree", "Check in", "Reload", "Lock", "Quit")


class Searches:
    """The searches answered, so a test waits for the debounced one without sleeping."""

    def __init__(self) -> None:
        self.answered = asyncio.Condition()
        self.queries: list[str] = []

    def hook(self, message: Message) -> None:
        if isinstance(message, SearchDone):
            self.queries.append(message.query)
            asyncio.get_running_loop().create_task(self._tell())

    async def _tell(self) -> None:
        async with self.answered:
            self.answered.notify_all()

    async def until(self, query: str) -> None:
        """Wait until `query` has been answered."""
        async with self.answered:
            await asyncio.wait_for(self.answered.wait_for(lambda: query in self.queries), 30)


def open_leak(app: VaultApp) -> BrowserScreen:
    app.open_collection("leak")
    screen = app.screen
    assert isinstance(screen, BrowserScreen)
    return screen


@pilot_test
async def test_search_as_you_type_shows_ranked_hits_with_snippets(
    tv: TestVault,
    clock: FixedClock,
    stored: dict[str, DocumentView],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    searches = Searches()
    app = VaultApp(tv.path, "alice", clock=clock, cursor_blink=False)
    async with drive(app, (100, 30), hook=searches.hook) as pilot:
        await unlock(app, pilot)
        screen = open_leak(app)
        await settle(app, pilot)

        await pilot.press("s")
        # How long the app waits for a pause in typing is real time, and a loaded machine can
        # be slower than that between two keys: the wait is made longer than any test while
        # most of the query is typed, so that no keystroke searches, then put back for the last.
        delay = browser.SEARCH_DELAY
        monkeypatch.setattr(browser, "SEARCH_DELAY", 3600.0)
        await typed(pilot, "rally budge")
        await settle(app, pilot)
        assert searches.queries == []  # not on every keystroke
        monkeypatch.setattr(browser, "SEARCH_DELAY", delay)
        await typed(pilot, "t")
        await searches.until("rally budget")  # once the member pauses
        assert searches.queries == ["rally budget"]
        await settle(app, pilot)
        assert [h.document.oid for h in screen.hits.shown_rows()] == [stored["budget.eml"].oid]
        text = screen_text(app)
        assert "1 hit for 'rally budget'" in text
        assert "The «rally budget» is" in text  # the snippet, cut to its column
        assert not screen.table.display

        await pilot.press("enter")  # from the search box to the hits
        await settle(app, pilot)
        assert screen.hits.has_focus
        await pilot.press("enter")  # open the hit
        await settle(app, pilot)
        assert isinstance(app.screen, DocumentScreen)
        assert app.screen.ref == stored["budget.eml"].oid
        await pilot.press("escape")
        await settle(app, pilot)

        await pilot.press("s")  # the box selects what it holds: typing replaces it
        await settle(app, pilot)
        await typed(pilot, '"unclosed')
        await searches.until('"unclosed')
        await settle(app, pilot)
        assert "cannot understand the search" in screen_text(app)  # said, not raised

        screen.query_one("#search").focus()
        await pilot.press("ctrl+u")  # clear the box: back to the listing
        await settle(app, pilot)
        assert screen.table.display
        assert not screen.hits.display
        assert "5 of 5 documents" in screen_text(app)


@pilot_test
async def test_tree_shows_an_archive_holding_its_members(
    tv: TestVault, clock: FixedClock, tmp_path: Path
) -> None:
    dump = tmp_path / "more"
    dump.mkdir()
    with zipfile.ZipFile(dump / "box.zip", "w") as archive:
        archive.writestr("inner/alpha.txt", "alpha\n")
        archive.writestr("beta.txt", "beta\n")
    with tv.open() as vault:
        vault.check_in([dump], collection="leak", source="second drop")
        by_name = {d.name: d for d in vault.documents("leak")}
    app = VaultApp(tv.path, "alice", clock=clock, cursor_blink=False)
    async with drive(app, (100, 30)) as pilot:
        await unlock(app, pilot)
        screen = open_leak(app)
        await settle(app, pilot)
        assert screen.table.count == 8  # the archive and its two members are listed flat

        await pilot.press("v")
        await settle(app, pilot)
        tree = screen.containers
        assert tree.display
        assert tree.has_focus
        top = [line.doc.name for line in tree.shown_rows()]
        assert "box.zip" in top
        assert "alpha.txt" not in top
        assert "beta.txt" not in top
        text = screen_text(app)
        assert "▸ box.zip  · holds 2" in text
        assert "1 container" in text
        assert "alpha.txt" not in text
        assert "evil\\x1b[2Jname\\u202etxt.exe" in text  # names in the tree are escaped too
        assert "\x1b" not in text
        assert "\u202e" not in text

        tree.cursor = top.index("box.zip")
        await pilot.press("space")  # open the archive
        await settle(app, pilot)
        lines = tree.shown_rows()
        inside = [line.doc.name for line in lines if line.path == (by_name["box.zip"].oid,)]
        assert sorted(inside) == ["alpha.txt", "beta.txt"]
        assert len(lines) == len(top) + 2
        text = screen_text(app)
        assert "▾ box.zip" in text
        assert "alpha.txt" in text
        await pilot.press("left")  # close it again, and open it once more
        await settle(app, pilot)
        assert len(tree.shown_rows()) == len(top)
        await pilot.press("right")
        await settle(app, pilot)
        assert len(tree.shown_rows()) == len(top) + 2

        await pilot.press("down", "enter")  # open the first member
        await settle(app, pilot)
        opened = app.screen
        assert isinstance(opened, DocumentScreen)
        assert opened.ref in {by_name["alpha.txt"].oid, by_name["beta.txt"].oid}
        assert opened.bundle is not None
        [seen] = opened.bundle.detail.occurrences
        assert seen.container == "box.zip"
        await pilot.press("escape")
        await settle(app, pilot)

        await pilot.press("v")  # and back to the table
        await settle(app, pilot)
        assert screen.table.display
        assert screen.table.has_focus


@pilot_test
async def test_embargo_lift_time_tags_and_footer_fit(
    tv: TestVault, clock: FixedClock, stored: dict[str, DocumentView]
) -> None:
    memo = stored["memo.txt"]
    with tv.open() as vault:
        until = clock.now() + timedelta(days=2, hours=3, minutes=30)
        vault.set_embargo("leak", until, zone="Europe/Paris", reason="polls close Sunday")
        vault.set_embargo(memo.oid, until + timedelta(days=1), zone="UTC", reason="a source")
        vault.tag(stored["ledger.csv"].oid, ["finance"])
    app = VaultApp(tv.path, "alice", clock=clock, cursor_blink=False, idle_timeout=0)
    async with drive(app, SIZES[0]) as pilot:
        await unlock(app, pilot)
        screen = open_leak(app)
        await settle(app, pilot)
        assert screen.own_embargoes == {memo.oid}
        for size in SIZES:
            await resize(pilot, size)
            lines = screen_text(app).splitlines()
            assert len(lines) == size[1]
            text = "\n".join(lines)
            assert "embargoed until" in text
            unwrapped = " ".join(line.strip() for line in lines)
            assert "Europe/Paris (lifts in 2 d 3 h 30 min)" in unwrapped
            assert "⧗ memo.txt" in text
            assert " tags" in next(line for line in lines if " id " in line)
            assert "finan" in next(line for line in lines if "ledger.csv" in line)  # maybe cut
            for binding in FOOTER:
                assert binding in lines[-1], (binding, lines[-1])
            assert ("palette" in lines[-1]) is (size[0] >= 90)

        # The countdown follows the clock without listing again, until the embargo lifts.
        clock.advance(timedelta(minutes=30))
        screen._tick()
        await settle(app, pilot)
        assert "(lifts in 2 d 3 h)" in " ".join(screen_text(app).split())
        clock.advance(timedelta(days=2, hours=3, minutes=5))
        screen._tick()
        await settle(app, pilot)
        assert "embargo lifted 5 min ago" in " ".join(screen_text(app).split())
