"""Hostile names: an escape sequence, a right-to-left override or markup in a name stays text.

The check-in recorded the names escaped (`evil\\x1b[2J…` as written characters); the app must
show exactly that, with no ESC, no U+202E and no markup reaching the terminal. This covers the
browser's table, the document screen (its header, preview and notes), and its dialogs; the
check-in tree and receipt are covered in `test_checkin`, the palette in `test_lock`, and names the
service did not escape in `test_scale`.
"""

from __future__ import annotations

from tests.tui.conftest import MARKUP
from tests.tui.helpers import drive, pilot_test, screen_text, settle, unlock
from tests.vaults import TestVault
from tui.app import VaultApp
from tui.screens.browser import BrowserScreen
from tui.screens.document import DocumentScreen
from tui.screens.mark import MarkScreen
from vault.clock import FixedClock
from vault.service import DocumentView

SHOWN = "evil\\x1b[2Jname\\u202etxt.exe"  # what the member must see, character for character
RAW = ("\x1b", "\u202e", "\x9b")  # what must never reach the terminal


def assert_safe(app: VaultApp) -> str:
    """The screen holds no raw control or bidi character, in text or in the SVG screenshot."""
    text = screen_text(app)
    svg = app.export_screenshot()
    for raw in RAW:
        assert raw not in text
        assert raw not in svg
    return text


@pilot_test
async def test_browser_document_and_dialog_show_names_escaped(
    tv: TestVault, clock: FixedClock
) -> None:
    app = VaultApp(tv.path, "alice", clock=clock, cursor_blink=False)
    async with drive(app, (100, 30)) as pilot:
        await unlock(app, pilot)
        app.open_collection("leak")
        await settle(app, pilot)
        browser = app.screen
        assert isinstance(browser, BrowserScreen)
        text = assert_safe(app)
        assert SHOWN in text
        assert MARKUP in text  # "[bold]" shown as written: no markup was read
        assert SHOWN in app.export_screenshot()

        # The table cell itself, as the line API draws it.
        table = browser.table
        index = next(i for i, d in enumerate(table.shown_rows()) if "evil" in d.name)
        strip = table.render_line(index + 1)  # line 0 is the header
        assert SHOWN in strip.text
        assert not any(raw in strip.text for raw in RAW)

        table.cursor = index
        await pilot.press("enter")
        await settle(app, pilot)
        text = assert_safe(app)
        assert f"Embargo Vault — {SHOWN}" in text  # the header
        assert text.count(SHOWN) >= 2  # the header and the name field

        await pilot.press("m")
        await settle(app, pilot)
        assert isinstance(app.screen, MarkScreen)
        assert f"Mark {SHOWN}" in assert_safe(app)


@pilot_test
async def test_preview_and_notes_of_hostile_material_stay_text(
    tv: TestVault, clock: FixedClock, stored: dict[str, DocumentView]
) -> None:
    evil = next(d for d in stored.values() if "evil" in d.name)
    with tv.open() as vault:
        vault.add_note(evil.oid, "looks like \x1b[31m red\u202e [bold]noted[/bold]")
    app = VaultApp(tv.path, "alice", clock=clock, cursor_blink=False)
    async with drive(app, (100, 30)) as pilot:
        await unlock(app, pilot)
        app.open_document(evil.oid)
        await settle(app, pilot)
        assert isinstance(app.screen, DocumentScreen)
        seen = assert_safe(app)
        for _ in range(3):  # down through the preview and the notes, by keyboard
            await pilot.press("pagedown")
            await settle(app, pilot)
            seen += assert_safe(app)
        assert "#!/bin/sh" in seen  # the script's text, never run
        assert "echo hi" in seen
        assert "looks like \\x1b[31m red\\u202e [bold]noted[/bold]" in seen

        await pilot.press("n")  # the note and tag dialogs name the document escaped too
        await settle(app, pilot)
        assert f"Note on {SHOWN}" in assert_safe(app)
        await pilot.press("escape")
        await settle(app, pilot)  # the note dialog gone before T reaches the document
        await pilot.press("t")
        await settle(app, pilot)
        assert f"Tags of {SHOWN}" in assert_safe(app)
        await pilot.press("escape")
        await settle(app, pilot)

        await pilot.press("escape")
        await settle(app, pilot)
        markup = stored[MARKUP].oid
        app.open_document(markup)
        await settle(app, pilot)
        seen = assert_safe(app)
        await pilot.press("end")
        await settle(app, pilot)
        seen += assert_safe(app)
        assert "shouting" in seen
        assert MARKUP in seen
