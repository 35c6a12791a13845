"""Release queue: every request, reviewing one in full, approving, and running when due.

Placeholder until the queue lands: it only shows that the screen exists.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Header, Static

from tui.screens.base import VaultScreen


class ReleasesScreen(VaultScreen):
    """The release queue."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", "Back")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("releases", markup=False)
        yield Footer()
