"""Mark: a dialog to choose a document's next status (only the moves the workflow allows)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, OptionList
from textual.widgets.option_list import Option

from tui.host import vault_app
from tui.widgets.plain_input import PlainInput
from tui.widgets.safe import safe_text


@dataclass(frozen=True)
class MarkChoice:
    """The status chosen and the note that goes with it."""

    status: str
    note: str


class MarkScreen(ModalScreen[MarkChoice | None]):
    """Pick a status and write a note; Escape leaves the status as it was."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "confirm", "Mark"),
    ]

    def __init__(self, name: str, current: str, allowed: list[str]) -> None:
        super().__init__()
        self.document_name = name
        self.current = current
        self.allowed = allowed

    def compose(self) -> ComposeResult:
        with Vertical(id="mark-box"):
            yield Label(Text.assemble("Mark ", safe_text(self.document_name, "bold")))
            yield Label(Text(f"now {self.current}; choose the new status:"))
            yield OptionList(*(Option(Text(s), id=s) for s in self.allowed), id="mark-status")
            yield PlainInput(placeholder="note: why (optional)", id="mark-note")
            with Horizontal(id="mark-buttons"):
                yield Button("Mark", variant="primary", id="mark-ok")
                yield Button("Cancel", id="mark-cancel")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(OptionList).highlighted = 0
        if not vault_app(self).cursor_blink:
            self.query_one(Input).cursor_blink = False

    def chosen(self) -> str | None:
        """The highlighted status."""
        options = self.query_one(OptionList)
        if options.highlighted is None:
            return None
        return self.allowed[options.highlighted]

    @on(OptionList.OptionSelected)
    def status_picked(self) -> None:
        """Enter on a status moves to the note."""
        self.query_one("#mark-note", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#mark-ok")
    def action_confirm(self) -> None:
        """Mark with the highlighted status and the note."""
        status = self.chosen()
        if status is not None:
            self.dismiss(MarkChoice(status, self.query_one("#mark-note", Input).value.strip()))

    @on(Button.Pressed, "#mark-cancel")
    def action_cancel(self) -> None:
        """Leave the status as it was."""
        self.dismiss(None)
