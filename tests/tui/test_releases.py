"""Release queue and its dashboard panels, against real vaults: request → review → approve → run.

dave (editor) asks for releases of `leak`; alice (editor-in-chief) and carol (legal) approve,
each typing their passphrase again; the release runs once the injected clock passes its time and
writes a bundle that `verify_bundle` accepts. Every app run unlocks the same private vault.
"""

from __future__ import annotations

from datetime import UTC, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select

from tests.tui.helpers import (
    SIZES,
    drive,
    on_top,
    pilot_test,
    resize,
    screen_text,
    settle,
    type_text,
)
from tests.vaults import PASSPHRASES, TestVault
from tui.app import VaultApp
from tui.screens.dashboard import DashboardScreen
from tui.screens.release_approve import ApproveScreen
from tui.screens.release_request import NewRequestScreen
from tui.screens.release_run import RunScreen
from tui.screens.releases import ReleasesScreen
from tui.widgets.release_panels import ApprovalsPanel, DueReleasesPanel
from vault.clock import FixedClock
from vault.service import DocumentView, Vault, verify_bundle

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
    await settle(app, pilot)  # the unlock screen shown, whatever came before
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
        await settle(app, pilot)
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
            await settle(app, pilot)
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


@pilot_test
async def test_a_request_made_in_the_dialog_is_signed_with_its_times(
    tv: TestVault, clock: FixedClock, request_id: str
) -> None:
    later = (clock.now() + timedelta(days=3)).astimezone(ZoneInfo("Europe/Paris"))
    local = later.strftime("%Y-%m-%d %H:%M")
    app = VaultApp(tv.path, "dave", clock=clock, cursor_blink=False)
    async with drive(app, SIZES[1]) as pilot:
        await unlock_as(app, pilot, "dave")
        screen = await open_queue(app, pilot)
        assert screen.check_action("new", ()) is True
        await pilot.press("n")
        await settle(app, pilot)
        dialog = app.screen
        assert isinstance(dialog, NewRequestScreen)
        assert dialog.query_one("#request-collection", Select).value == "leak"  # the only one
        assert dialog.query_one("#request-reason", Input).has_focus
        await type_text(pilot, "polls close")
        await pilot.press("enter")  # on to the time
        await settle(app, pilot)
        await type_text(pilot, local)
        await settle(app, pilot)
        dialog.query_one("#request-zone", Input).value = "Mars/Olympus"
        await settle(app, pilot)
        assert "Mars/Olympus" in screen_text(app)  # the line under the fields says what is wrong
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert on_top(app, dialog)  # nothing is signed with a time that cannot be read
        dialog.query_one("#request-zone", Input).value = "Europe/Paris"
        await settle(app, pilot)
        utc = later.replace(second=0, microsecond=0).astimezone(UTC)
        assert f"not before {utc.strftime('%Y-%m-%d %H:%M')} UTC" in screen_text(app)
        for binding in ("Cancel", "Request"):
            assert binding in screen_text(app).splitlines()[-1]
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert on_top(app, screen)
        assert screen.queue is not None
        [made] = [v for v in screen.queue.views if v.id != request_id]
        assert (made.reason, made.requester, made.not_before) == ("polls close", "dave", utc)
        assert made.status == "pending approvals"
        current = screen.table.current
        assert current is not None
        assert current.id == made.id  # the cursor is on the new request
    with Vault.open(tv.path, "dave", DAVE, clock=clock) as dave:
        _, request = dave.release_request(made.id)
        assert request.reason == "polls close"
        assert len(request.documents) == 5


@pilot_test
async def test_a_request_is_reviewed_in_full_at_every_size(
    tv: TestVault, clock: FixedClock, request_id: str, stored: dict[str, DocumentView]
) -> None:
    app = VaultApp(tv.path, "alice", clock=clock, cursor_blink=False)
    async with drive(app, SIZES[0]) as pilot:
        await unlock_as(app, pilot, "alice")
        screen = await open_queue(app, pilot)
        for size in SIZES:
            await resize(pilot, size)
            text = screen_text(app)
            lines = text.splitlines()
            assert len(lines) == size[1]
            row = next(line for line in lines if request_id[:8] in line and "pending" in line)
            assert "leak" in row
            assert "in 1 h 59 min" in row or "in 2 h 0 min" in row  # the countdown
            for binding in (*BINDINGS, "Open"):
                assert binding in lines[-1], (binding, lines[-1])

        await pilot.press("enter")
        await settle(app, pilot)
        assert screen.reviewing
        for size in SIZES:
            await resize(pilot, size)
            await pilot.press("home")
            await settle(app, pilot)
            text = assert_escaped(app)
            assert f"Release request {request_id} · pending approvals" in text
            assert "dave (editor)" in text
            assert "destination bundle" in text
            assert "approvals   none counted yet" in text
            assert "release-needs-approvals" in text  # what the policy asks, in its words
            for binding in BINDINGS:
                assert binding in text.splitlines()[-1]
            await pilot.press("end")
            await settle(app, pilot)
            bottom = screen_text(app)
            assert "documents (5)" in text + bottom
            memo = next(d for d in stored.values() if d.name.endswith("memo.txt"))
            lines = bottom.splitlines()
            at = next(i for i, line in enumerate(lines) if line.startswith(f"   {memo.name} "))
            assert lines[at + 1].startswith(f"     {memo.oid}")  # its name, then its id
        await pilot.press("escape")  # back to the list, not off the screen
        await settle(app, pilot)
        assert on_top(app, screen)
        assert not screen.reviewing


@pilot_test
async def test_approving_asks_for_the_passphrase_and_the_release_runs_once_due(
    tv: TestVault, clock: FixedClock, request_id: str, tmp_path: Path
) -> None:
    app = VaultApp(tv.path, "dave", clock=clock, cursor_blink=False)
    async with drive(app, SIZES[0]) as pilot:
        await unlock_as(app, pilot, "dave")
        screen = await open_queue(app, pilot)
        assert screen.check_action("approve", ()) is None  # one's own request
        assert "your own approval never counts" in screen_text(app)

    app = VaultApp(tv.path, "alice", clock=clock, cursor_blink=False)
    async with drive(app, SIZES[0]) as pilot:
        await unlock_as(app, pilot, "alice")
        screen = await open_queue(app, pilot)
        assert screen.check_action("approve", ()) is True
        assert screen.check_action("run", ()) is None  # approvals are missing
        await pilot.press("a")
        await settle(app, pilot)
        dialog = await approve(app, pilot, b"not alice's passphrase")
        assert on_top(app, dialog)
        assert "wrong passphrase — try again" in screen_text(app)
        field = dialog.query_one("#approve-passphrase", Input)
        assert field.value == ""
        assert field.has_focus
        await approve(app, pilot, PASSPHRASES["alice"])
        assert on_top(app, screen)
        current = screen.table.current
        assert current is not None
        assert current.approvers == ("alice",)
        assert screen.check_action("approve", ()) is None
        assert "you have already approved it" in screen_text(app)

    app = VaultApp(tv.path, "carol", clock=clock, cursor_blink=False)
    async with drive(app, SIZES[0]) as pilot:
        await unlock_as(app, pilot, "carol")
        dashboard = app.screen
        assert isinstance(dashboard, DashboardScreen)
        assert [v.id for v in dashboard.query_one(ApprovalsPanel).table.shown_rows()] == [
            request_id
        ]
        screen = await open_queue(app, pilot)
        await pilot.press("a")
        await settle(app, pilot)
        await approve(app, pilot, PASSPHRASES["carol"])
        assert on_top(app, screen)
        current = screen.table.current
        assert current is not None
        assert (current.approvers, current.status) == (("alice", "carol"), "waiting for embargo")

    out = tmp_path / "publish"
    # The clock moves on by hours without a key pressed: the idle lock (checked every second of
    # real time) would lock the vault at whatever moment it next looks, so it is off here.
    app = VaultApp(tv.path, "dave", clock=clock, cursor_blink=False, idle_timeout=0)
    async with drive(app, SIZES[1]) as pilot:
        await unlock_as(app, pilot, "dave")
        dashboard = app.screen
        assert isinstance(dashboard, DashboardScreen)
        due = dashboard.query_one(DueReleasesPanel)
        [soon] = due.table.shown_rows()
        assert (soon.id, soon.status) == (request_id, "waiting for embargo")
        due.table.focus()
        clock.advance(timedelta(hours=1))
        due.tick(clock.now())
        await settle(app, pilot)
        assert "in 1 h 0 min" in screen_text(app)  # the panel's countdown, moved on by tick
        screen = await open_queue(app, pilot)
        assert screen.check_action("run", ()) is None
        assert f"{request_id[:8]} cannot run: not yet: it may run from" in screen_text(app)
        await pilot.press("x")
        await settle(app, pilot)
        assert on_top(app, screen)  # greyed out: no dialog

        clock.advance(WAIT - timedelta(hours=1, minutes=10))
        screen.tick()
        await settle(app, pilot)
        assert "in 10 min 0 s" in screen_text(app)  # the countdown follows the clock
        clock.advance(timedelta(minutes=10, seconds=1))
        screen.tick()  # the time came: the queue is read again, without asking
        await settle(app, pilot)
        assert screen.check_action("run", ()) is True
        assert "cannot run" not in screen_text(app)
        await pilot.press("x")
        await settle(app, pilot)
        asking = app.screen
        assert isinstance(asking, RunScreen)
        destination = asking.query_one("#run-destination", Input)
        assert destination.value == "~/publish"
        destination.value = str(out)
        await pilot.press("enter")
        await settle(app, pilot)
        assert on_top(app, screen)
        current = screen.table.current
        assert current is not None
        assert current.status == "released"
        assert current.bundle is not None
        assert screen.check_action("run", ()) is None  # a request runs once
    bundle = Path(current.bundle)
    assert bundle.parent == out
    report = verify_bundle(bundle)
    assert report.ok, report.problems
    assert (report.files, sorted(report.approvers)) == (5, ["alice", "carol"])


@pilot_test
async def test_a_hostile_reason_shows_escaped_in_the_queue_and_the_dialogs(
    tv: TestVault, clock: FixedClock, request_id: str
) -> None:
    app = VaultApp(tv.path, "alice", clock=clock, cursor_blink=False)
    async with drive(app, SIZES[0]) as pilot:
        await unlock_as(app, pilot, "alice")
        await open_queue(app, pilot)
        assert_escaped(app)  # the line over the table
        await pilot.press("enter")
        await settle(app, pilot)
        assert_escaped(app)
        await pilot.press("a")
        await settle(app, pilot)
        assert isinstance(app.screen, ApproveScreen)
        assert_escaped(app)
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, ReleasesScreen)


@pilot_test
async def test_what_the_policies_refuse_is_greyed_out_with_their_reason(
    tv: TestVault, clock: FixedClock, request_id: str
) -> None:
    app = VaultApp(tv.path, "bob", clock=clock, cursor_blink=False)  # a reporter, holding leak
    async with drive(app, SIZES[1]) as pilot:
        await unlock_as(app, pilot, "bob")
        dashboard = app.screen
        assert isinstance(dashboard, DashboardScreen)
        assert dashboard.query_one(ApprovalsPanel).table.shown_rows() == []
        screen = await open_queue(app, pilot)
        assert screen.check_action("new", ()) is None
        assert screen.check_action("approve", ()) is None
        text = screen_text(app)
        assert "you may not request a release: refused: bob (reporter)" in text
        assert f"you may not approve {request_id[:8]}: refused: bob (reporter)" in text
        for binding in BINDINGS:
            assert binding in text.splitlines()[-1]  # shown, greyed out
        await pilot.press("n", "a")
        await settle(app, pilot)
        assert on_top(app, screen)  # neither dialog opens


@pilot_test
async def test_run_is_greyed_out_with_the_policy_reason_for_a_member_who_may_not_run(
    tv: TestVault, clock: FixedClock, request_id: str
) -> None:
    for member in ("alice", "carol"):
        with Vault.open(tv.path, member, SECRETS[member], clock=clock) as vault:
            vault.approve_release(request_id)
    clock.advance(WAIT + timedelta(seconds=1))

    app = VaultApp(tv.path, "carol", clock=clock, cursor_blink=False)
    async with drive(app, SIZES[0]) as pilot:
        await unlock_as(app, pilot, "carol")
        screen = await open_queue(app, pilot)
        current = screen.table.current
        assert current is not None
        assert current.status == "due"
        assert screen.check_action("run", ()) is None  # legal approves; it does not run
        assert f"{request_id[:8]} cannot run: " in screen_text(app)
        assert "run-release" in screen_text(app)

    app = VaultApp(tv.path, "dave", clock=clock, cursor_blink=False)
    async with drive(app, SIZES[0]) as pilot:
        await unlock_as(app, pilot, "dave")
        screen = await open_queue(app, pilot)
        assert screen.check_action("run", ()) is True
