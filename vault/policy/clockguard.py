"""The clock guard: refuse time-dependent actions when the clock has gone back.

Embargoes, release schedules and request expiries all trust the clock. If the wall clock reads
earlier than the newest audit entry, then either the clock has been set back now, or it was set
forward when that entry was written (and an embargo may have lifted early). Either way, the vault
must not act on time until people have looked: `check_clock` raises `ClockRolledBack` (exit code 3)
before any time-dependent action (releases, embargo changes, approvals).

A small drift is normal (NTP steps, a second workstation): entries up to `tolerance` in the future
are accepted.

How a confirmation clears it. Members the policy allows to `confirm-time` (admin and
editor-in-chief in the shipped policies; the service decides how many must sign — a quorum)
sign a *time confirmation*: "the clock now reads T, and it is right". The service records it
in the audit log and passes its instant T as `confirmed_after`, but only if the confirmation
was logged *after* (in log order, not by timestamp) the entry whose time is
`newest_audit_time` — a confirmation only covers what its signers could see. While
the clock stays at or after T (minus the tolerance), the guard lets actions through; if the clock
goes back behind T, it trips again, and a later future-dated entry needs a new confirmation.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from vault.errors import Refused
from vault.policy.embargo import utc_rendering


class ClockRolledBack(Refused):
    """The clock reads earlier than the audit log says it has already been."""

    def __init__(self, message: str, *, now: datetime, newest: datetime, hint: str) -> None:
        super().__init__(message, hint=hint)
        self.now = now
        self.newest = newest


def _aware(name: str, value: datetime | None) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{name} must be timezone-aware")


def check_clock(
    now: datetime,
    newest_audit_time: datetime | None,
    *,
    tolerance: timedelta = timedelta(minutes=5),
    confirmed_after: datetime | None,
) -> None:
    """Refuse to go on if the clock has gone back behind the audit log.

    Args:
        now: the clock's current instant.
        newest_audit_time: the latest time recorded in any audit entry, or None for an empty log.
        tolerance: how far in the future an entry may be before the clock counts as rolled back.
        confirmed_after: the instant of the latest time confirmation logged after the entry holding
            `newest_audit_time`, or None if there is none (see the module docstring).

    Raises:
        ClockRolledBack: `now` is more than `tolerance` before `newest_audit_time`, and no
            confirmation covers it (or the clock has gone back behind the confirmation too).
        ValueError: a naive datetime, or a negative tolerance.
    """
    _aware("now", now)
    _aware("newest_audit_time", newest_audit_time)
    _aware("confirmed_after", confirmed_after)
    if tolerance < timedelta(0):
        raise ValueError("tolerance cannot be negative")
    if newest_audit_time is None or now >= newest_audit_time - tolerance:
        return
    if confirmed_after is not None and now >= confirmed_after - tolerance:
        return
    behind = newest_audit_time - now
    if confirmed_after is not None:
        detail = (
            f"; it has also gone back behind the time confirmed at {utc_rendering(confirmed_after)}"
        )
    else:
        detail = ""
    raise ClockRolledBack(
        f"the clock reads {utc_rendering(now)}, {_span(behind)} before the newest audit entry "
        f"({utc_rendering(newest_audit_time.astimezone(UTC))}): it has been set back, or was set "
        f"forward when that entry was written{detail}",
        now=now,
        newest=newest_audit_time,
        hint=(
            "correct the system clock; if it is right, members allowed to confirm-time must "
            "confirm the time before time-dependent actions run again"
        ),
    )


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "min"), (seconds, "s")]
    return " ".join(f"{n} {unit}" for n, unit in parts if n) or "0 s"
