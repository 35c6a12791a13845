"""Lifting an embargo: a dialog that says what would be lifted and asks before it is.

Lifting lets a release of the target go ahead at once, so the dialog names the target, the time
it was held until and why, and starts on Keep: only `y` or the Lift button lifts.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Label

from tui.messages.embargo import EmbargoRow
from tui.widgets.safe import safe_text, shown


class LiftConfirm(ModalScreen[bool]):
    """Ask whether to lift `row`'s embargo now; True to lift."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "keep", "Keep"),
        Binding("y", "lift", "Lift now"),
    ]

    def __init__(self, row: EmbargoRow) -> None:
        super().__init__()
        self.row = row

    def compose(self) -> ComposeResult:
        view = self.row.view
        with Vertical(id="lift-box"):
            yield Label(Text.assemble("Lift the embargo on ", safe_text(self.row.label, "bold")))
            yield Label(Text(shown(view.rendering)))
            yield Label(Text.assemble("reason: ", safe_text(view.reason)))
            yield Label(Text("Once lifted, a release of it may run at once."))
            with Horizontal(id="lift-buttons"):
                yield Button("Lift now", variant="error", id="lift-ok")
                yield Button("Keep", id="lift-keep")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#lift-keep", Button).focus()

    @on(Button.Pressed, "#lift-ok")
    def action_lift(self) -> None:
        """Lift it."""
        self.dismiss(True)

    @on(Button.Pressed, "#lift-keep")
    def action_keep(self) -> None:
        """Leave the embargo as it is."""
        self.dismiss(False)
