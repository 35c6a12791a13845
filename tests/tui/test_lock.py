"""Locking: by key, from the palette, and after idle time; the vault is closed and data dropped."""

from __future__ import annotations

from datetime import timedelta

from textual.command import CommandPalette
from textual.widgets import Input

from tests.tui.helpers import drive, pilot_test, screen_text, settle, type_text, unlock
from tests.vaults import TestVault
from tui.app import VaultApp
from tui.screens.audit import AuditScreen
from tui.screens.browser import BrowserScreen
from tui.screens.dashboard import DashboardScreen
from tui.screens.unlock import UnlockScreen
from vault.clock import FixedClock


@pilot_test
async def test_ctrl_l_locks_and_drops_what_the_screens_held(
    tv: TestVault, clock: FixedClock
) -> None:
    app = VaultApp(tv.path, "alice", clock=clock, cursor_blink=False)
    async with drive(app, (100, 30)) as pilot:
        await unlock(app, pilot)
        app.open_collection("leak")
        await settle(app, pilot)
        browser = app.screen
        assert isinstance(browser, BrowserScreen)
        table = browser.table
        assert table.total == 5
        session = app.session
        assert session is not None

        await pilot.press("ctrl+l")
        await settle(app, pilot)
        assert isinstance(app.screen, UnlockScreen)
        assert len(app.screen_stack) == 2  # nothing of the vault left underneath
        assert app.session is None
        assert session.closed
        assert session.collections == []
        assert table.total == 0  # the documents were dropped, not just hidden
        assert "locked" in screen_text(app)

        await unlock(app, pilot)  # and it opens again
        assert isinstance(app.screen, DashboardScreen)


@pilot_test
async def test_idle_time_locks(tv: TestVault, clock: FixedClock) -> None:
    app = VaultApp(tv.path, "alice", clock=clock, idle_timeout=120, cursor_blink=False)
    async with drive(app, (80, 24)) as pilot:
        await unlock(app, pilot)
        clock.advance(timedelta(seconds=119))
        await app.lock_if_idle()
        assert app.session is not None

        await pilot.press("down")  # a key resets the idle time
        await settle(app, pilot)
        clock.advance(timedelta(seconds=119))
        await app.lock_if_idle()
        assert app.session is not None

        clock.advance(timedelta(seconds=1))
        session = app.session
        with session.use():  # a vault call under way (a long check-in) holds the lock off
            await app.lock_if_idle()
        assert app.session is session
        await app.lock_if_idle()
        await settle(app, pilot)
        assert app.session is None
        assert isinstance(app.screen, UnlockScreen)
        assert "locked after 2 minute(s) without input" in screen_text(app)


@pilot_test
async def test_palette_runs_the_main_actions(tv: TestVault, clock: FixedClock) -> None:
    with tv.open() as vault:
        vault.create_collection("[bold red]hot[/] files")  # markup in a name stays text
    app = VaultApp(tv.path, "alice", clock=clock, cursor_blink=False)
    async with drive(app, (100, 30)) as pilot:
        await pilot.press("ctrl+p")
        await settle(app, pilot)
        app.screen.query_one(Input).focus()
        await type_text(pilot, "lock")
        await settle(app, pilot)
        assert "Lock the vault" not in screen_text(app)  # nothing to lock yet
        await pilot.press("escape")
        await settle(app, pilot)

        await unlock(app, pilot)
        await pilot.press("ctrl+p")
        await settle(app, pilot)
        await type_text(pilot, "hot")
        await settle(app, pilot)
        assert "Open collection: [bold red]hot[/] files" in screen_text(app)
        await pilot.press("escape")
        await settle(app, pilot)
        for query, screen_type in (("audit", AuditScreen), ("open collection leak", BrowserScreen)):
            await pilot.press("ctrl+p")
            await settle(app, pilot)
            assert isinstance(app.screen, CommandPalette)
            await type_text(pilot, query)
            await settle(app, pilot)
            await pilot.press("enter")
            await settle(app, pilot)
            assert isinstance(app.screen, screen_type)
        assert isinstance(app.screen, BrowserScreen)
        assert app.screen.collection == "leak"
        assert len(app.screen_stack) == 3  # switching collection went back to the dashboard

        await pilot.press("ctrl+p")
        await settle(app, pilot)
        await type_text(pilot, "lock the")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, UnlockScreen)
        assert app.session is None
