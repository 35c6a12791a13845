"""Release queue and its dashboard panels, against real vaults: request → review → approve → run.

dave (editor) asks for releases of `leak`; alice (editor-in-chief) and carol (legal) approve,
each typing their passphrase again; the release runs once the injected clock passes its time and
writes a bundle that `verify_bundle` accepts. Every app run unlocks the same private vault.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select

from tests.tui.helpers import SIZES, drive, on_top, pilot_test, resize, screen_text, settle
from tests.vaults import PASSPHRASES, TestVault
from tui.app import VaultApp
from tui.screens.dashboard import DashboardScreen
from tui.screens.release_approve import ApproveScreen
from tui.screens.release_request import NewRequestScreen
from tui.screens.release_run import RunScreen
from tui.screens.releases import ReleasesScreen
from tui.widgets.release_panels import ApprovalsPanel, DueReleasesPanel
from vault.clock import FixedClock
from vault.service import Vault, verify_bundle

DAVE = b"dave passphrase"
SECRETS = {**PASSPHRASES, "dave": DAVE}
WAIT = timedelta(hours=2)  # how long dave's request waits for its time
HOSTILE = "after the vote\x1b[2J\u202eesaeler"
SHOWN = "after the vote\\x1b[2J\\u202eesaeler"  # what the member must see
RAW = ("\x1b", "\u202e")
BINDINGS = ("Back", "New", "Approve", "Run", "Reload", "Lock", "Quit")


@pytest.fixture
def request_id(tv: TestVault, clock: FixedClock) -> str:
    """dave (editor) holds `leak`, as does carol (legal); dave asked to release it in two hours."""
    with Vault.open(tv.path, "alice", PASSPHRASES["alice"], clock=clock) as alice:
        alice.add_member("dave", ["editor"], DAVE)
        alice.grant("leak", "dave")
        alice.grant("leak", "carol")
    with Vault.open(tv.path, "dave", DAVE, clock=clock) as dave:
        view = dave.request_release("leak", reason=HOSTILE, not_before=clock.now() + WAIT)
    return view.id


async def unlock_as(app: VaultApp, pilot: Pilot[Any], member: str) -> None:
    """Unlock through the unlock screen as `member`."""
    app.screen.query_one("#member", Input).value = member
    field = app.screen.query_one("#passphrase", Input)
    field.focus()
    field.value = SECRETS[member].decode()
    await pilot.press("enter")
    await settle(app, pilot)


async def open_queue(app: VaultApp, pilot: Pilot[Any]) -> ReleasesScreen:
    """From the dashboard, P opens the release queue."""
    await pilot.press("p")
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, ReleasesScreen)
    return screen


async def approve(app: VaultApp, pilot: Pilot[Any], passphrase: bytes) -> ApproveScreen:
    """Type a passphrase into the approval dialog and press Enter."""
    dialog = app.screen
    assert isinstance(dialog, ApproveScreen)
    dialog.query_one("#approve-passphrase", Input).value = passphrase.decode()
    await pilot.press("enter")
    await settle(app, pilot)
    return dialog


def assert_escaped(app: VaultApp, *, shown: str = SHOWN) -> str:
    """The hostile reason shows escaped (as far as `shown`), and nothing raw reaches the screen."""
    text = screen_text(app)
    assert shown in text
    for raw in RAW:
        assert raw not in text
        assert raw not in app.export_screenshot()
    return text


@pilot_test
async def test_the_panels_show_a_pending_request_to_an_approver_not_to_its_requester(
    tv: TestVault, clock: FixedClock, request_id: str
) -> None:
    app = VaultApp(tv.path, "dave", clock=clock, cursor_blink=False)
    async with drive(app, SIZES[0]) as pilot:
        await unlock_as(app, pilot, "dave")
        dashboard = app.screen
        assert isinstance(dashboard, DashboardScreen)
        panel = dashboard.query_one(ApprovalsPanel)
        assert panel.queue is not None
        assert [v.id for v in panel.queue.views] == [request_id]  # listed, but not to approve
        assert panel.table.shown_rows() == []
        assert dashboard.query_one(DueReleasesPanel).table.shown_rows() == []  # not approved
        panel.table.focus()
        await pilot.pause()
        text = screen_text(app)
        assert "nothing waits for your approval" in text
        assert "no release is due or waiting for its time" in text

    app = VaultApp(tv.path, "alice", clock=clock, cursor_blink=False)
    async with drive(app, SIZES[0]) as pilot:
        await unlock_as(app, pilot, "alice")
        dashboard = app.screen
        assert isinstance(dashboard, DashboardScreen)
        panel = dashboard.query_one(ApprovalsPanel)
        assert [v.id for v in panel.table.shown_rows()] == [request_id]
        assert dashboard.query_one(DueReleasesPanel).table.shown_rows() == []
        for size in SIZES:
            await resize(pilot, size)
            panel.table.focus()
            await pilot.pause()
            text = assert_escaped(app, shown=SHOWN if size == SIZES[0] else "after the")
            assert "Waiting for your approval" in text
            assert request_id[:8] in text
            assert "dave" in text
        await pilot.press("enter")  # the row opens the queue, reviewing that request
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ReleasesScreen)
        assert screen.reviewing
        assert screen.detail.detail is not None
        assert screen.detail.detail.view.id == request_id
        await pilot.press("escape", "escape")  # the review, then the queue
        await settle(app, pilot)
        assert on_top(app, dashboard)
