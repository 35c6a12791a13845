"""Pasted or typed control characters never reach a field, and so never reach the terminal.

Textual's fields draw their value as it is; every field of the app refuses an insertion holding
a control or format character (`tui.widgets.plain_input`) and the app says why.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import events
from textual.notifications import Notification
from textual.widget import Widget
from textual.widgets import Input, TextArea

from tests.tui.helpers import drive, pilot_test, screen_text, settle, unlock
from tests.vaults import TestVault
from tui.app import VaultApp
from tui.screens.note import NoteScreen
from tui.widgets.plain_input import PlainInput, PlainTextArea, plain
from vault.clock import FixedClock
from vault.service import DocumentView

HOSTILE = "a\x1b[2Jb\u202ec"
REFUSED = "control and format characters cannot be typed or pasted here"


def test_plain_text_is_printable_text_and_lines_only_where_asked() -> None:
    assert plain("Budget 2017 — €7,500")
    assert not plain(HOSTILE)
    assert not plain("\x9b31m")  # a C1 control sequence introducer
    assert not plain("one\ntwo")
    assert plain("one\ntwo\tthree", lines=True)
    assert not plain("one\n\x1b[2J", lines=True)


def fields_are_plain(app: VaultApp) -> None:
    """Every field on screen refuses control characters (a passphrase field shows none)."""
    for field in app.screen.query(Input):
        assert isinstance(field, PlainInput) or field.password, field.id
    for area in app.screen.query(TextArea):
        assert isinstance(area, PlainTextArea), area.id


async def paste(widget: Widget, text: str) -> None:
    """Paste into a widget the way a terminal does: to the app, which hands it to the focus."""
    widget.focus()
    widget.app.post_message(events.Paste(text))


@pilot_test
async def test_a_hostile_paste_is_refused_in_every_screen_and_said(
    tv: TestVault, clock: FixedClock, stored: dict[str, DocumentView]
) -> None:
    notices: list[Notification] = []
    app = VaultApp(tv.path, "alice", clock=clock, cursor_blink=False)
    async with drive(app, notices=notices) as pilot:
        fields_are_plain(app)
        await unlock(app, pilot)
        openers: list[Callable[[], object]] = [
            lambda: app.open_collection("leak"),
            lambda: app.open_check_in("leak"),
            app.action_audit,
        ]
        for opener in openers:
            opener()
            await settle(app, pilot)
            fields_are_plain(app)
            await pilot.press("escape")
            await settle(app, pilot)

        app.open_collection("leak")
        await settle(app, pilot)
        name_filter = app.screen.query_one("#name-filter", PlainInput)
        await paste(name_filter, HOSTILE)
        await settle(app, pilot)
        assert name_filter.value == ""
        await paste(name_filter, "memo")
        await settle(app, pilot)
        assert name_filter.value == "memo"  # plain text still goes in

        app.open_document(stored["memo.txt"].oid)
        await settle(app, pilot)
        await pilot.press("n")
        await settle(app, pilot)
        assert isinstance(app.screen, NoteScreen)
        fields_are_plain(app)
        area = app.screen.query_one(PlainTextArea)
        await paste(area, HOSTILE)
        await settle(app, pilot)
        assert area.text == ""
        await paste(area, "line one\nline two")
        await settle(app, pilot)
        assert area.text == "line one\nline two"
        text = screen_text(app)
        for raw in ("\x1b", "\u202e"):
            assert raw not in text

    refusals = [n for n in notices if n.message == REFUSED]
    assert len(refusals) == 2
    assert [n for n in notices if n.severity == "error"] == []
