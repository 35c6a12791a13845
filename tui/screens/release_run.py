"""Run a release: ask for the folder the bundle is written into (the queue screen then runs it).

The folder is created if it does not exist; the bundle is written beside it and renamed into
place by the service, so a half-written bundle never appears under its name.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, Static

from tui.host import vault_app
from tui.widgets.plain_input import PlainInput
from tui.widgets.safe import safe_text

DESTINATION = "~/publish"


class RunScreen(ModalScreen[Path | None]):
    """Choose where the bundle goes; Enter runs, Escape runs nothing."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    AUTO_FOCUS = "#run-destination"

    def __init__(self, ref: str, collection: str, destination: str = DESTINATION) -> None:
        super().__init__()
        self.ref = ref
        self.collection = collection
        self.destination = destination

    def compose(self) -> ComposeResult:
        with Vertical(id="run-box"):
            yield Label(
                Text.assemble(
                    "Run release ", (self.ref, "bold"), " of ", safe_text(self.collection, "bold")
                )
            )
            yield Static(
                Text("The bundle is written into this folder; anyone can verify it there."),
                classes="run-line",
            )
            yield PlainInput(
                self.destination, placeholder="destination folder", id="run-destination"
            )
            yield Static("", id="run-message", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        if not vault_app(self).cursor_blink:
            self.query_one(Input).cursor_blink = False

    @on(Input.Submitted)
    def confirm(self) -> None:
        """Run into the folder typed (`~` is the member's home)."""
        text = self.query_one("#run-destination", Input).value.strip()
        if not text:
            line = self.query_one("#run-message", Static)
            line.update(Text("give the folder the bundle is written into"))
            line.set_class(True, "error")
            return
        self.dismiss(Path(text).expanduser())

    def action_cancel(self) -> None:
        """Run nothing."""
        self.dismiss(None)
