"""Embargo editor and the dashboard's countdowns, against real vaults.

The workstation's zone is pinned to Asia/Tokyo (`TZ`), so the "here" rendering differs from
both UTC and the embargo's zone and each can be told apart on the screen.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from textual import events
from textual.message import Message
from textual.notifications import Notification
from textual.pilot import Pilot
from textual.widgets import Button, Input

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
from tests.vaults import PASSPHRASES, TestVault
from tui.app import VaultApp
from tui.messages.embargo import EmbargoRow
from tui.messages.loading import PanelData
from tui.screens.dashboard import DashboardScreen
from tui.screens.embargo import EmbargoScreen
from tui.screens.embargo_editor import EmbargoEditor
from tui.screens.embargo_lift import LiftConfirm
from tui.screens.unlock import UnlockScreen
from tui.widgets.embargo_panel import EmbargoPanel
from vault.clock import FixedClock
from vault.service import DocumentView, Vault

SHOWN = "evil\\x1b[2Jname\\u202etxt.exe"
BINDINGS = ("Back", "Set", "Extend", "Lift", "Reload", "Lock", "Quit")


@pytest.fixture(autouse=True)
def workstation_in_tokyo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Tokyo")


def open_as_alice(tv: TestVault, clock: FixedClock) -> Vault:
    """The vault on the test's clock, so the clock guard only ever sees time move forward."""
    return Vault.open(tv.path, "alice", PASSPHRASES["alice"], clock=clock)


def field(app: VaultApp, name: str) -> Input:
    return app.screen.query_one(f"#embargo-{name}", Input)


def save_disabled(app: VaultApp) -> bool:
    return app.screen.query_one("#embargo-save", Button).disabled


async def retype(app: VaultApp, pilot: Pilot[None], name: str, text: str) -> None:
    """Empty one of the editor's fields and type into it, key by key."""
    box = field(app, name)
    box.value = ""
    box.focus()
    await type_text(pilot, text)
    await settle(app, pilot)


async def open_screen(
    app: VaultApp, pilot: Pilot[None], target: str | None = None
) -> EmbargoScreen:
    app.open_embargoes(target)
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, EmbargoScreen)
    return screen


@pilot_test
async def test_set_extend_and_lift_through_the_editor(tv: TestVault, clock: FixedClock) -> None:
    app = VaultApp(tv.path, "alice", clock=clock, cursor_blink=False)
    async with drive(app, SIZES[0]) as pilot:
        await unlock(app, pilot)
        await pilot.press("e")  # from the dashboard
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, EmbargoScreen)
        assert "no embargo on what you hold" in screen_text(app)

        await pilot.press("s")
        await settle(app, pilot)
        assert isinstance(app.screen, EmbargoEditor)
        assert field(app, "zone").value == "Asia/Tokyo"  # the workstation's zone
        assert field(app, "date").has_focus
        await type_text(pilot, "2027-05-07")
        await pilot.press("tab")
        await settle(app, pilot)
        await type_text(pilot, "20:00")
        await retype(app, pilot, "zone", "Europe/Par")
        assert "unknown time zone `Europe/Par`" in screen_text(app)
        await type_text(pilot, "is")
        await settle(app, pilot)
        text = screen_text(app)
        assert "2027-05-07 18:00 UTC" in text
        assert "2027-05-07 20:00 CEST (UTC+02:00) Europe/Paris" in text
        assert "2027-05-08 03:00 JST (UTC+09:00) Asia/Tokyo" in text
        assert save_disabled(app)  # no reason yet
        await retype(app, pilot, "reason", "polls close; electoral silence law")
        assert not save_disabled(app)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert on_top(app, screen)
        [row] = screen.table.shown_rows()
        assert (row.view.name, row.view.utc) == ("leak", "2027-05-07 18:00 UTC")
        assert "2027-05-08 03:00" in screen_text(app)  # the "here" column and pane

        await pilot.press("e")
        await settle(app, pilot)
        assert isinstance(app.screen, EmbargoEditor)
        assert (field(app, "date").value, field(app, "time").value) == ("2027-05-07", "20:00")
        assert field(app, "zone").value == "Europe/Paris"
        await retype(app, pilot, "time", "19:00")
        assert "earlier than the embargo now in force" in screen_text(app)
        await retype(app, pilot, "time", "22:00")
        assert "earlier than the embargo" not in screen_text(app)
        assert "2027-05-07 20:00 UTC" in screen_text(app)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert on_top(app, screen)
        [row] = screen.table.shown_rows()
        assert row.view.utc == "2027-05-07 20:00 UTC"
        assert row.view.reason == "polls close; electoral silence law"

        await pilot.press("l")
        await settle(app, pilot)
        assert isinstance(app.screen, LiftConfirm)
        await pilot.press("escape")  # Keep
        await settle(app, pilot)
        assert len(screen.table.shown_rows()) == 1
        await pilot.press("l")
        await settle(app, pilot)
        await pilot.press("y")
        await settle(app, pilot)
        assert on_top(app, screen)
        assert screen.table.shown_rows() == []
    with tv.open() as vault:
        assert vault.embargoes() == []
        changes = [e for e in vault.audit_entries() if e.action in ("embargo-set", "embargo-lift")]
    assert [(e.action, e.actor) for e in changes] == [
        ("embargo-set", "alice"),
        ("embargo-set", "alice"),
        ("embargo-lift", "alice"),
    ]
    assert changes[0].details["until"] == "2027-05-07T18:00:00+00:00"
    assert changes[0].details["zone"] == "Europe/Paris"
    assert changes[1].details["until"] == "2027-05-07T20:00:00+00:00"
    assert changes[1].details["previous"] == "2027-05-07T18:00:00+00:00"


@pilot_test
async def test_times_that_name_no_single_future_instant_keep_save_disabled(
    tv: TestVault, clock: FixedClock
) -> None:
    app = VaultApp(tv.path, "alice", clock=clock, cursor_blink=False)
    async with drive(app, SIZES[1]) as pilot:
        await unlock(app, pilot)
        await open_screen(app, pilot)
        await pilot.press("s")
        await settle(app, pilot)
        await retype(app, pilot, "zone", "Europe/Paris")
        await retype(app, pilot, "reason", "polls close")
        await retype(app, pilot, "time", "02:30")

        await retype(app, pilot, "date", "2027-03-28")  # the clocks jump 02:00 → 03:00
        text = screen_text(app)
        assert "2027-03-28 02:30 does not exist in Europe/Paris" in text
        assert "2027-03-28 00:30 UTC = 2027-03-28 01:30 CET (UTC+01:00)" in text
        assert "2027-03-28 01:30 UTC = 2027-03-28 03:30 CEST (UTC+02:00)" in text
        assert save_disabled(app)

        await retype(app, pilot, "date", "2027-10-31")  # the clocks go back 03:00 → 02:00
        text = screen_text(app)
        assert "2027-10-31 02:30 happens twice in Europe/Paris" in text
        assert "2027-10-31 00:30 UTC = 2027-10-31 02:30 CEST (UTC+02:00)" in text
        assert "2027-10-31 01:30 UTC = 2027-10-31 02:30 CET (UTC+01:00)" in text
        assert save_disabled(app)
        await pilot.press("ctrl+s")  # greyed out: nothing happens
        await settle(app, pilot)
        assert isinstance(app.screen, EmbargoEditor)

        for date, time, problem in (
            ("2027-02-30", "10:00", "no such date or time: '2027-02-30 10:00'"),
            ("2027-5-7", "10:00", "date: write it as YYYY-MM-DD"),
            ("2027-05-07", "8pm", "time: write it as HH:MM"),
            ("2020-01-01", "10:00", "2020-01-01 09:00 UTC has already passed"),
        ):
            await retype(app, pilot, "date", date)
            await retype(app, pilot, "time", time)
            assert problem in screen_text(app)
            assert save_disabled(app)
        await retype(app, pilot, "time", "20:00")
        await retype(app, pilot, "date", "2027-05-07")
        assert not save_disabled(app)  # the same fields, now valid
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, EmbargoScreen)
    with tv.open() as vault:
        assert vault.embargoes() == []


@pilot_test
async def test_a_reporter_sees_set_extend_and_lift_greyed_out_with_the_reason(
    tv: TestVault, clock: FixedClock
) -> None:
    with open_as_alice(tv, clock) as vault:
        vault.set_embargo("leak", "2027-05-07 20:00", zone="Europe/Paris", reason="polls close")
    clock.advance(timedelta(seconds=1))
    app = VaultApp(tv.path, "bob", clock=clock, cursor_blink=False)
    async with drive(app, SIZES[0]) as pilot:
        await unlock(app, pilot, "bob")
        screen = await open_screen(app, pilot, "leak")
        assert len(screen.table.shown_rows()) == 1  # reporters see embargoes
        for action in ("set", "extend", "lift"):
            assert screen.check_action(action, ()) is None
        text = screen_text(app)
        assert "you may not set or extend this embargo: refused: bob (reporter)" in text
        assert "you may not lift this embargo: refused: bob (reporter) to lift-embargo" in text
        for binding in BINDINGS:
            assert binding in text.splitlines()[-1]  # greyed out, still in the footer
        for key in ("s", "e", "l", "enter"):
            await pilot.press(key)
            await settle(app, pilot)
            assert on_top(app, screen)

        await pilot.press("ctrl+l")  # locking drops what the screen read
        await settle(app, pilot)
        assert isinstance(app.screen, UnlockScreen)
        assert screen.listing is None
    with tv.open() as vault:
        [held] = vault.embargoes()
        assert held.utc == "2027-05-07 18:00 UTC"


@pilot_test
async def test_dashboard_counts_down_without_reading_again_and_opens_the_editor(
    tv: TestVault, clock: FixedClock
) -> None:
    app = VaultApp(tv.path, "alice", clock=clock, cursor_blink=False)
    async with drive(app, SIZES[1]) as pilot:
        await unlock(app, pilot)
        assert "no embargo holds" in screen_text(app)
    clock.advance(timedelta(seconds=1))
    until = clock.now() + timedelta(days=2, hours=3, minutes=30, seconds=30)
    with open_as_alice(tv, clock) as vault:
        vault.set_embargo("leak", until, zone="America/New_York", reason="source safety")
    clock.advance(timedelta(seconds=1))

    loads: list[Message] = []

    def record(message: Message) -> None:
        data = message.data if isinstance(message, PanelData) else None
        if isinstance(data, list) and data and isinstance(data[0], EmbargoRow):
            loads.append(message)  # the embargo panel's own reads

    # The clock moves on by an hour without a key pressed: the idle lock (checked every second of
    # real time) would lock the vault at whatever moment it next looks, so it is off here.
    app = VaultApp(tv.path, "alice", clock=clock, cursor_blink=False, idle_timeout=0)
    async with drive(app, SIZES[1], hook=record) as pilot:
        await unlock(app, pilot)
        dashboard = app.screen
        assert isinstance(dashboard, DashboardScreen)
        panel = dashboard.query_one(EmbargoPanel)
        read = len(loads)
        assert read > 0
        tokyo = until.astimezone(ZoneInfo("Asia/Tokyo"))
        new_york = until.astimezone(ZoneInfo("America/New_York"))
        text = screen_text(app)
        assert "2 d 3 h 30 min" in text
        assert f"{new_york:%Y-%m-%d %H:%M} Americ" in text  # cut to the column at 80 wide
        assert "here: Asia/Tokyo" in text
        assert f"{tokyo:%Y-%m-%d %H:%M}" in text

        clock.advance(timedelta(minutes=61))
        panel.tick(clock.now())
        await settle(app, pilot)
        assert "2 d 2 h 29 min" in screen_text(app)
        assert len(loads) == read  # the countdown moved without asking the vault

        panel.table.focus()
        await pilot.press("enter")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, EmbargoScreen)
        assert screen.target == "leak"
        assert "2 d 2 h 29 min" in screen_text(app)
        clock.advance(timedelta(minutes=1))
        screen.tick()
        await settle(app, pilot)
        assert "2 d 2 h 28 min" in screen_text(app)


@pilot_test
async def test_vault_text_is_shown_escaped(
    tv: TestVault, clock: FixedClock, stored: dict[str, DocumentView]
) -> None:
    evil = next(d for d in stored.values() if "evil" in d.name)
    with open_as_alice(tv, clock) as vault:
        vault.set_embargo(evil.oid, "2027-06-07 20:00", zone="Europe/Paris", reason="[bold]loud")
    clock.advance(timedelta(seconds=1))
    app = VaultApp(tv.path, "alice", clock=clock, cursor_blink=False)
    async with drive(app, SIZES[0]) as pilot:
        await unlock(app, pilot)
        assert "evil\\x1b[2Jname" in screen_text(app)  # the dashboard panel
        screen = await open_screen(app, pilot)
        text = screen_text(app)
        assert f"{SHOWN} (in leak)" in text
        assert "reason [bold]loud" in text  # markup shown as written
        assert "\x1b" not in text
        assert "\u202e" not in text

        await pilot.press("e")
        await settle(app, pilot)
        assert isinstance(app.screen, EmbargoEditor)
        assert f"Change the embargo on {SHOWN}" in screen_text(app)
        reason = field(app, "reason")
        reason.focus()
        reason.post_message(events.Paste("quiet \x1b[2J until \u202etxt"))
        await settle(app, pilot)
        assert reason.value == "[bold]loud"  # the paste was refused whole
        text = screen_text(app)
        assert "control and format characters cannot be typed or pasted here" in text
        assert "\x1b" not in text
        assert "\u202e" not in text
        await pilot.press("escape")
        await settle(app, pilot)
        assert on_top(app, screen)
    with tv.open() as vault:
        [held] = vault.embargoes()
        assert held.reason == "[bold]loud"


@pilot_test
async def test_the_screen_and_editor_fit_at_every_size(tv: TestVault, clock: FixedClock) -> None:
    with open_as_alice(tv, clock) as vault:
        vault.set_embargo("leak", "2027-05-07 20:00", zone="Europe/Paris", reason="polls close")
    clock.advance(timedelta(seconds=1))
    app = VaultApp(tv.path, "alice", clock=clock, cursor_blink=False)
    async with drive(app, SIZES[0]) as pilot:
        await unlock(app, pilot)
        screen = await open_screen(app, pilot)
        for size in SIZES:
            await resize(pilot, size)
            lines = screen_text(app).splitlines()
            assert len(lines) == size[1]
            for binding in BINDINGS:
                assert binding in lines[-1]
            text = "\n".join(lines)
            assert "until  2027-05-07 18:00 UTC" in text
            assert "zone   2027-05-07 20:00 CEST (UTC+02:00) Europe/Paris" in text
            assert "set by alice at" in text  # the whole pane shows
            assert "2027-05-08 03:00 JST (UTC+09:00) Asia/Tokyo" in text
            assert "lifts in" in text

            await pilot.press("s")
            await settle(app, pilot)
            text = screen_text(app)
            for words in ("Set an embargo", "Target", "Reason", "Save", "Cancel"):
                assert words in text
            assert field(app, "zone").value == "Europe/Paris"  # the row's embargo's zone
            assert "Save" in text.splitlines()[-1]
            await pilot.press("escape")
            await settle(app, pilot)
            assert on_top(app, screen)


@pilot_test
async def test_the_service_refusing_a_save_is_shown_and_keeps_the_fields(
    tv: TestVault, clock: FixedClock
) -> None:
    with open_as_alice(tv, clock) as vault:
        vault.add_member("dave", ["editor"], b"dave passphrase")
        vault.grant("leak", "dave")
        vault.set_embargo("leak", "2027-05-07 20:00", zone="Europe/Paris", reason="polls close")
    clock.advance(timedelta(seconds=1))
    app = VaultApp(tv.path, "dave", clock=clock, cursor_blink=False)
    notices: list[Notification] = []
    async with drive(app, SIZES[0], notices=notices) as pilot:
        await settle(app, pilot)
        app.screen.query_one("#member", Input).value = "dave"
        secret = app.screen.query_one("#passphrase", Input)
        secret.value = "dave passphrase"
        secret.focus()
        await pilot.press("enter")
        await settle(app, pilot)
        screen = await open_screen(app, pilot)
        assert screen.check_action("extend", ()) is True  # editors set and extend
        assert screen.check_action("lift", ()) is None  # only the editor-in-chief lifts
        assert "you may not lift this embargo: refused: dave (editor)" in screen_text(app)

        await pilot.press("e")
        await settle(app, pilot)
        editor = app.screen
        assert isinstance(editor, EmbargoEditor)
        await retype(app, pilot, "time", "18:00")  # earlier: a partial lift
        assert "earlier than the embargo now in force" in screen_text(app)
        assert not save_disabled(app)  # the policies decide, in the service
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert on_top(app, editor)  # still open, with what was typed
        assert field(app, "time").value == "18:00"
        assert "not saved:" in screen_text(app)
        [notice] = [n for n in notices if n.severity == "error"]
        assert "lift-embargo" in notice.message

        await retype(app, pilot, "time", "21:00")  # later: dave may extend it
        assert "not saved" not in screen_text(app)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert on_top(app, screen)
        [row] = screen.table.shown_rows()
        assert row.view.utc == "2027-05-07 19:00 UTC"
    with tv.open() as vault:
        [held] = vault.embargoes()
        assert (held.utc, held.set_by) == ("2027-05-07 19:00 UTC", "dave")
