"""Note: a dialog to write a note on a document (notes are kept for good: never edited)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Label, TextArea

from tui.host import vault_app
from tui.widgets.plain_input import PlainTextArea
from tui.widgets.safe import safe_text


class NoteScreen(ModalScreen[str | None]):
    """Write a note; Ctrl+S adds it, Escape drops it. Enter starts a new line."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "confirm", "Add note"),
    ]

    def __init__(self, name: str) -> None:
        super().__init__()
        self.document_name = name

    def compose(self) -> ComposeResult:
        with Vertical(id="note-box", classes="dialog"):
            yield Label(Text.assemble("Note on ", safe_text(self.document_name, "bold")))
            yield Label(Text("notes are signed with your name and kept for good"))
            yield PlainTextArea(id="note-text", tab_behavior="focus")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Add note", variant="primary", id="note-ok")
                yield Button("Cancel", id="note-cancel")
        yield Footer()

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.cursor_blink = vault_app(self).cursor_blink
        area.focus()

    @on(Button.Pressed, "#note-ok")
    def action_confirm(self) -> None:
        """Add the note as written (an empty note is not added)."""
        text = self.query_one(TextArea).text.strip()
        if not text:
            self.notify("the note is empty", severity="warning", markup=False)
            return
        self.dismiss(text)

    @on(Button.Pressed, "#note-cancel")
    def action_cancel(self) -> None:
        """Leave the document without a new note."""
        self.dismiss(None)
