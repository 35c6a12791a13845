"""Audit viewer: the entries, a filter as you type, and Verify with its result."""

from __future__ import annotations

from tests.tui.helpers import drive, pilot_test, screen_text, settle, type_text, unlock
from tests.vaults import TestVault
from tui.app import VaultApp
from tui.screens.audit import AuditScreen
from tui.screens.dashboard import DashboardScreen
from vault.clock import FixedClock


@pilot_test
async def test_audit_viewer_lists_filters_and_verifies(tv: TestVault, clock: FixedClock) -> None:
    app = VaultApp(tv.path, "alice", clock=clock, cursor_blink=False)
    async with drive(app, (100, 30)) as pilot:
        await unlock(app, pilot)
        await pilot.press("a")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        lines = screen.table.shown_rows()
        actions = [line.action for line in lines]
        assert actions[0] == "init"
        assert actions[-1] == "audit-show"  # reading the log is logged, before it is read
        assert "checkin" in actions
        assert "collection-create" in actions
        assert screen.table.current is lines[-1]  # the newest entry is under the cursor
        text = screen_text(app)
        assert f"{len(lines):,} of {len(lines):,} entries" in text
        assert "audit-show" in text

        await pilot.press("slash")
        await settle(app, pilot)
        await type_text(pilot, "checkin")
        await settle(app, pilot)
        assert {line.action for line in screen.table.shown_rows()} == {"checkin", "checkin-done"}

        await pilot.press("enter")  # from the filter box to the table
        await settle(app, pilot)
        await pilot.press("enter")  # one entry in full
        await settle(app, pilot)
        assert "checkin-done" in screen_text(app)
        await pilot.press("v")
        await settle(app, pilot)
        text = screen_text(app)
        assert "verified: ok" in text
        assert "Verify" in text.splitlines()[-1]

        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, DashboardScreen)
