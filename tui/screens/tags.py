"""Tags: a dialog to add tags to a document and remove others.

Tags are typed separated by commas, or by spaces when there is no comma (so `finance source-a`
is two tags, and `source a, finance` keeps the tag `source a` whole).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label

from tui.host import vault_app
from tui.widgets.plain_input import PlainInput
from tui.widgets.safe import safe_text


def split_tags(text: str) -> tuple[str, ...]:
    """Tags as typed: comma-separated if there is a comma, else space-separated; no repeats."""
    parts = text.split(",") if "," in text else text.split()
    return tuple(dict.fromkeys(p.strip() for p in parts if p.strip()))


@dataclass(frozen=True)
class TagChange:
    """Tags to add and tags to remove."""

    add: tuple[str, ...]
    remove: tuple[str, ...]


class TagsScreen(ModalScreen[TagChange | None]):
    """Add and remove tags; Escape leaves them as they were."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "confirm", "Save tags"),
    ]

    def __init__(self, name: str, tags: tuple[str, ...]) -> None:
        super().__init__()
        self.document_name = name
        self.tags = tags

    def compose(self) -> ComposeResult:
        now = safe_text(", ".join(self.tags)) if self.tags else Text("no tags")
        with Vertical(id="tags-box", classes="dialog"):
            yield Label(Text.assemble("Tags of ", safe_text(self.document_name, "bold")))
            yield Label(Text.assemble("now: ", now), id="tags-now")
            yield PlainInput(placeholder="add: finance, source-a", id="tags-add")
            yield PlainInput(placeholder="remove", id="tags-remove")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save", variant="primary", id="tags-ok")
                yield Button("Cancel", id="tags-cancel")
        yield Footer()

    def on_mount(self) -> None:
        for field in self.query(Input):
            field.cursor_blink = vault_app(self).cursor_blink
        self.query_one("#tags-add", Input).focus()

    @on(Input.Submitted, "#tags-add")
    def to_remove(self) -> None:
        """Enter in the first box moves to the second."""
        self.query_one("#tags-remove", Input).focus()

    @on(Input.Submitted, "#tags-remove")
    @on(Button.Pressed, "#tags-ok")
    def action_confirm(self) -> None:
        """Save: add the tags of the first box, remove those of the second."""
        add = split_tags(self.query_one("#tags-add", Input).value)
        remove = split_tags(self.query_one("#tags-remove", Input).value)
        self.dismiss(TagChange(add, remove) if add or remove else None)

    @on(Button.Pressed, "#tags-cancel")
    def action_cancel(self) -> None:
        """Leave the tags as they were."""
        self.dismiss(None)
