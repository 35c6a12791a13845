"""Requests to move between screens, posted by widgets and handled by their screen."""

from __future__ import annotations

from textual.message import Message


class OpenCollection(Message):
    """Open the browser on a collection."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
