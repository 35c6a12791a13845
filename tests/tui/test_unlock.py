"""Unlock: a wrong passphrase or an unknown member says so and lets the member retry."""

from __future__ import annotations

from textual.widgets import Input

from tests.tui.helpers import drive, on_top, pilot_test, screen_text, settle, type_text, unlock
from tests.vaults import TestVault
from tui.app import VaultApp
from tui.screens.dashboard import DashboardScreen
from tui.screens.unlock import UnlockScreen
from vault.clock import FixedClock


@pilot_test
async def test_wrong_passphrase_and_unknown_member_then_unlock(
    tv: TestVault, clock: FixedClock
) -> None:
    app = VaultApp(tv.path, "alice", clock=clock, cursor_blink=False)
    async with drive(app, (100, 30)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, UnlockScreen)
        member = screen.query_one("#member", Input)
        passphrase = screen.query_one("#passphrase", Input)
        assert member.value == "alice"  # from --as
        assert passphrase.has_focus
        assert "Embargo Vault" in screen_text(app)

        await type_text(pilot, "not the passphrase")
        await pilot.press("enter")
        await settle(app, pilot)
        assert on_top(app, screen)
        assert app.session is None
        assert "wrong member name or passphrase" in screen_text(app)
        assert passphrase.value == ""  # emptied as soon as it was read
        assert passphrase.has_focus

        member.value = ""
        member.focus()
        await type_text(pilot, "mallory")
        await pilot.press("enter")  # on to the passphrase
        await settle(app, pilot)
        assert passphrase.has_focus
        await type_text(pilot, "whatever")
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.session is None
        assert "wrong member name or passphrase" in screen_text(app)

        await unlock(app, pilot, "bob")
        assert isinstance(app.screen, DashboardScreen)
        assert app.session is not None
        assert app.session.member == "bob"
        assert app.sub_title == "bob"
