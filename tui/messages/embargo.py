"""What the embargo editor's workers post: the embargoes with what policy lets the member do.

A row carries its instants parsed once, in the worker, so countdowns can tick every second on
the UI thread without parsing or asking the vault again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from textual.message import Message

from tui.screens.embargo_time import Zone, parse_instant
from vault.service import Decision, EmbargoView


@dataclass(frozen=True)
class EmbargoRow:
    """One embargo as listed, with its own and its effective lift instants (in UTC)."""

    view: EmbargoView
    until: datetime
    effective: datetime

    @classmethod
    def of(cls, view: EmbargoView) -> EmbargoRow:
        """The row for an embargo the service returned."""
        return cls(view, parse_instant(view.until_utc), parse_instant(view.effective_until))

    @property
    def ref(self) -> str:
        """What names the target to the service: a collection's name, or a document's id."""
        return self.view.name if self.view.kind == "collection" else self.view.target_id

    @property
    def zone(self) -> Zone:
        """The zone the embargo was entered in (the service keeps only known zones)."""
        return Zone(self.view.zone, ZoneInfo(self.view.zone))

    @property
    def label(self) -> str:
        """The target, unescaped: a collection's name, or a document's name and collection."""
        if self.view.kind == "collection":
            return self.view.name
        return f"{self.view.name} (in {self.view.collection})"


@dataclass(frozen=True)
class Permissions:
    """The policies' decisions on `set-embargo` and `lift-embargo`, by target reference."""

    set: dict[str, Decision] = field(default_factory=dict)
    lift: dict[str, Decision] = field(default_factory=dict)


@dataclass(frozen=True)
class EmbargoListing:
    """Everything the embargo editor shows: rows, the collections held, and the decisions."""

    rows: tuple[EmbargoRow, ...]
    collections: tuple[str, ...]
    permissions: Permissions


@dataclass(frozen=True)
class Change:
    """An embargo set, extended or lifted (`verb`), as the service returned it."""

    verb: str
    view: EmbargoView


class EmbargoesLoaded(Message):
    """The embargo editor's listing was read (`read` numbers the reads, so a late one is seen)."""

    def __init__(self, listing: EmbargoListing, read: int = 0) -> None:
        super().__init__()
        self.listing = listing
        self.read = read


class EmbargoChanged(Message):
    """An embargo changed through the app."""

    def __init__(self, change: Change) -> None:
        super().__init__()
        self.change = change
