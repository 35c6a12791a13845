"""Embargo editor: the embargoes the member can see, and setting, extending or lifting one.

Placeholder until the editor lands: it only shows that the screen exists.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Header, Static

from tui.screens.base import VaultScreen


class EmbargoScreen(VaultScreen):
    """Embargoes, optionally opened on one collection or document."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, target: str | None = None) -> None:
        super().__init__()
        self.target = target

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("embargoes", markup=False)
        yield Footer()
