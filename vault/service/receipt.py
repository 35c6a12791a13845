"""What a check-in reports: one line per item, the chain-of-custody record of an intake."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Outcome = Literal["new", "duplicate", "skipped", "failed"]


@dataclass(frozen=True)
class ItemResult:
    """What happened to one input item."""

    path: str
    outcome: Outcome
    oid: str | None = None
    size: int = 0
    container: str | None = None
    flags: tuple[str, ...] = ()
    reason: str = ""


@dataclass(frozen=True)
class Progress:
    """A progress report: counts so far and the item being read.

    `files` counts container members too; `bytes` counts only what was read from the files
    given, so that it ends at `total_bytes`.
    """

    files: int
    bytes: int
    total_files: int
    total_bytes: int
    flagged: int
    current: str


@dataclass
class Receipt:
    """The result of a check-in."""

    intake_id: int
    collection: str
    source: str
    items: list[ItemResult] = field(default_factory=list)
    cancelled: bool = False

    def counts(self) -> dict[str, int]:
        """How many items had each outcome, and how many were flagged."""
        tally = Counter(item.outcome for item in self.items)
        counts = {k: tally.get(k, 0) for k in ("new", "duplicate", "skipped", "failed")}
        counts["flagged"] = sum(1 for item in self.items if item.flags)
        return counts

    @property
    def ok(self) -> bool:
        """True when nothing failed and the run was not cancelled."""
        return not self.cancelled and not any(i.outcome == "failed" for i in self.items)

    def to_json(self) -> dict[str, Any]:
        """The receipt as one JSON document."""
        return {
            "intake": self.intake_id,
            "collection": self.collection,
            "source": self.source,
            "cancelled": self.cancelled,
            "counts": self.counts(),
            "items": [asdict(item) for item in self.items],
        }
