"""What the audit viewer's workers post: the log as plain lines, and the verdict of verifying it."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass(frozen=True)
class AuditLine:
    """One audit entry as shown: every field already escaped."""

    seq: int
    at: str
    actor: str
    action: str
    target: str
    details: str

    @property
    def key(self) -> str:
        """What the filter box matches."""
        return f"{self.seq} {self.at} {self.actor} {self.action} {self.target} {self.details}"


@dataclass(frozen=True)
class Verdict:
    """What verifying the log found."""

    ok: bool
    entries: int
    head: int
    problems: tuple[str, ...]


class AuditLoaded(Message):
    """The log's entries, as lines."""

    def __init__(self, lines: list[AuditLine]) -> None:
        super().__init__()
        self.lines = lines


class AuditVerified(Message):
    """The result of verifying the log."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__()
        self.verdict = verdict
