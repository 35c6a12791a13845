"""Dashboard: the collections the member holds, at 100×30 and 80×24; Enter opens one."""

from __future__ import annotations

from tests.tui.helpers import SIZES, drive, on_top, pilot_test, resize, screen_text, settle, unlock
from tests.vaults import TestVault
from tui.app import VaultApp
from tui.screens.browser import BrowserScreen
from tui.screens.dashboard import DashboardScreen
from tui.widgets.collections_panel import CollectionsPanel
from vault.clock import FixedClock


@pilot_test
async def test_dashboard_lists_the_collection_and_opens_it(
    tv: TestVault, clock: FixedClock
) -> None:
    app = VaultApp(tv.path, "alice", clock=clock, cursor_blink=False)
    async with drive(app, SIZES[0]) as pilot:
        await unlock(app, pilot)
        dashboard = app.screen
        assert isinstance(dashboard, DashboardScreen)
        [leak] = dashboard.query_one(CollectionsPanel).table.shown_rows()
        assert (leak.name, leak.documents, leak.members) == ("leak", 5, ("alice", "bob"))
        assert app.session is not None
        assert app.session.collections == ["leak"]  # for the palette

        for size in SIZES:
            await resize(pilot, size)
            lines = screen_text(app).splitlines()
            assert len(lines) == size[1]
            assert "Embargo Vault — alice" in lines[0]
            assert "Collections" in lines[1]
            row = next(line for line in lines if " leak " in line)
            assert " 5 " in row
            assert "alice, bob" in row
            for binding in ("Open", "Check in", "Audit log", "Lock", "Quit"):
                assert binding in lines[-1]

        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, BrowserScreen)
        assert app.screen.collection == "leak"
        await pilot.press("escape")
        await settle(app, pilot)
        assert on_top(app, dashboard)
