"""A `DirectoryTree` that shows file names escaped: the folder being checked in is hostile too.

A USB stick's file names are chosen by whoever filled it; Textual's tree would draw an ESC or a
right-to-left override as it is. Every label goes through `shown` and becomes plain `Text`.
"""

from __future__ import annotations

from rich.text import Text, TextType
from textual.widgets import DirectoryTree

from tui.widgets.safe import shown


class SafeDirectoryTree(DirectoryTree):
    """A directory tree with escaped, markup-free labels."""

    def process_label(self, label: TextType) -> Text:
        plain = label if isinstance(label, str) else label.plain
        return Text(shown(plain), end="")
