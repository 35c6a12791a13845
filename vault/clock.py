"""Where time comes from.

The library never reads the wall clock itself: every service takes a `Clock`, so embargo and
release logic can be tested with `FixedClock`. All instants are timezone-aware UTC datetimes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """A source of the current instant."""

    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The machine's wall clock."""

    def now(self) -> datetime:
        """The current instant from the operating system, in UTC."""
        return datetime.now(UTC)


class FixedClock:
    """A clock that says what it is told; tests move it with `advance`."""

    def __init__(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware instant")
        self._now = instant.astimezone(UTC)

    def now(self) -> datetime:
        """The instant this clock was set to."""
        return self._now

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward (or back, with a negative delta)."""
        self._now += delta

    def set(self, instant: datetime) -> None:
        """Jump to an instant."""
        self._now = instant.astimezone(UTC)
