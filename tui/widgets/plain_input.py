"""Text fields that refuse control and format characters, typed or pasted.

Textual's `Input` and `TextArea` draw their value as it is, so an escape sequence or a bidi
override pasted into one (a name copied from a file manager, a line from a hostile document)
would reach the terminal. Every field of the app is one of these instead: an insertion holding
such a character is refused whole, and `TextRefused` tells the app, which says why.
"""

from __future__ import annotations

from textual.message import Message
from textual.widgets import Input, TextArea
from textual.widgets.text_area import Edit, EditResult


def plain(text: str, *, lines: bool = False) -> bool:
    """Whether text holds no control or format character (newlines and tabs allowed if `lines`)."""
    if lines:
        text = text.replace("\n", "").replace("\t", "")
    return text.isprintable()


class TextRefused(Message):
    """Text holding control or format characters was refused."""


class PlainInput(Input):
    """A one-line field: every insertion passes through `replace`, which refuses such text."""

    def replace(self, text: str, start: int, end: int) -> None:
        if plain(text):
            super().replace(text, start, end)
        else:
            self.restricted()
            self.post_message(TextRefused())


class PlainTextArea(TextArea):
    """A text box: every insertion passes through `edit`, which refuses such text."""

    def edit(self, edit: Edit) -> EditResult:
        if plain(edit.text, lines=True):
            return super().edit(edit)
        self.app.bell()
        self.post_message(TextRefused())
        return EditResult(end_location=self.selection.end, replaced_text="")
