"""Embargo instants: entering them in local time, storing them in UTC, showing both.

An editor writes *hold until 2017-05-07 20:00 Europe/Paris*; the vault stores the instant in UTC
and the IANA zone it was entered in (DESIGN §8), and shows both. A local time that does not exist
(clocks jumped forward over it) or happens twice (clocks went back) is refused, naming both
instants it could mean: an embargo is exactly the place where guessing an hour is not acceptable.

Zone data comes from `zoneinfo`; with the `tzdata` package installed it works on a machine with no
system zone database (an air-gapped or minimal workstation).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from vault.errors import UsageError

_LOCAL = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[ T](?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?"
)
_FORMAT_HINT = "write the local time as YYYY-MM-DD HH:MM[:SS] and give its zone, e.g. Europe/Paris"


def zone_info(zone: str) -> ZoneInfo:
    """The `ZoneInfo` for an IANA zone name.

    Raises:
        UsageError: the zone is unknown (or not a valid zone name).
    """
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise UsageError(
            f"unknown time zone `{zone}`",
            hint="use an IANA zone name such as Europe/Paris, America/New_York or UTC",
        ) from None


def parse_local(text: str, zone: str) -> datetime:
    """The UTC instant a wall-clock time in `zone` names.

    Args:
        text: `2017-05-07 20:00`, `2017-05-07T20:00`, optionally with seconds (`20:00:30`).
        zone: an IANA zone name, e.g. `Europe/Paris`.

    Returns:
        The instant, timezone-aware, in UTC.

    Raises:
        UsageError: the text is not such a time, the zone is unknown, or the local time does not
            exist (DST gap) or is ambiguous (DST overlap) in that zone; the message then names both
            candidate instants in UTC and in local time.
    """
    tz = zone_info(zone)
    match = _LOCAL.fullmatch(text.strip())
    if match is None:
        raise UsageError(f"not a local date and time: {text!r}", hint=_FORMAT_HINT)
    try:
        naive = datetime.fromisoformat(
            f"{match['date']}T{match['hour']}:{match['minute']}:{match['second'] or '00'}"
        )
    except ValueError:
        raise UsageError(f"no such date or time: {text!r}", hint=_FORMAT_HINT) from None
    early = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    late = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    if early == late:
        return early
    first, second = sorted((early, late))
    shown = _local_text(naive)
    exists = early.astimezone(tz).replace(tzinfo=None) == naive
    if not exists:
        # In a gap the two readings land on either side of it: neither is the time written.
        raise UsageError(
            f"{shown} does not exist in {zone}: the clocks skipped it. It could mean "
            f"{_both(first, tz)} or {_both(second, tz)}",
            hint=(
                f"write {_local_text(first.astimezone(tz))} or "
                f"{_local_text(second.astimezone(tz))}, or give the time with --tz UTC"
            ),
        )
    raise UsageError(
        f"{shown} happens twice in {zone}: the clocks went back over it. It could mean "
        f"{_both(first, tz)} or {_both(second, tz)}",
        hint=(f"give the time with --tz UTC: {_local_text(first)} or {_local_text(second)}"),
    )


def _local_text(instant: datetime) -> str:
    pattern = "%Y-%m-%d %H:%M:%S" if instant.second else "%Y-%m-%d %H:%M"
    return instant.strftime(pattern)


def _offset(instant: datetime) -> str:
    offset = instant.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def local_rendering(instant: datetime, tz: ZoneInfo) -> str:
    """`2017-05-07 20:00 CEST (UTC+02:00)`: the instant's wall-clock time in `tz`."""
    local = instant.astimezone(tz)
    abbreviation = local.tzname() or ""
    offset = f"UTC{_offset(local)}"
    label = f"{abbreviation} ({offset})" if abbreviation and abbreviation != "UTC" else offset
    return f"{_local_text(local)} {label}"


def utc_rendering(instant: datetime) -> str:
    """`2017-05-07 18:00 UTC`."""
    return f"{_local_text(instant.astimezone(UTC))} UTC"


def _both(instant: datetime, tz: ZoneInfo) -> str:
    return f"{utc_rendering(instant)} = {local_rendering(instant, tz)}"


def countdown(until: datetime, now: datetime) -> str:
    """`lifts in 1 d 23 h 12 min`, `lifts in 40 s`, `lifted just now` or `lifted 3 h ago`.

    The embargo holds while `now < until` (the lift instant itself is already lifted). The
    remaining time is shown down to the minute (seconds under a minute), rounded down.
    """
    delta = until - now
    if delta > timedelta(0):
        return f"lifts in {_duration(delta)}"
    if -delta < timedelta(seconds=1):
        return "lifted just now"
    return f"lifted {_duration(-delta)} ago"


def due_in(until: datetime, now: datetime) -> str:
    """How long until `until`, short enough for a column: `in 2 d 3 h`, `in 4 min 5 s`, `now`."""
    seconds = int((until - now).total_seconds())
    if seconds <= 0:
        return "now"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"in {days} d {hours} h"
    if hours:
        return f"in {hours} h {minutes} min"
    return f"in {minutes} min {seconds} s"


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return f"{max(seconds, 1)} s"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [(days, "d"), (hours, "h"), (minutes, "min")]
    return " ".join(f"{n} {unit}" for n, unit in parts if n)


@dataclass(frozen=True)
class Embargo:
    """An embargo as stored: the UTC instant it lifts, the zone it was entered in, and why.

    `until` and `set_at` are normalised to UTC; `zone` must be a known IANA zone.
    """

    until: datetime
    zone: str
    reason: str
    set_by: str
    set_at: datetime

    def __post_init__(self) -> None:
        for name in ("until", "set_at"):
            value: datetime = getattr(self, name)
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError(f"Embargo.{name} must be timezone-aware")
            object.__setattr__(self, name, value.astimezone(UTC))
        zone_info(self.zone)

    def holds(self, now: datetime) -> bool:
        """True while the embargo is in force: `now` is before the lift instant."""
        return now < self.until

    def render(self, now: datetime) -> str:
        """Both renderings and a countdown, e.g.

        `until 2017-05-07 18:00 UTC = 2017-05-07 20:00 CEST (UTC+02:00) Europe/Paris;
        lifts in 1 d 23 h 12 min`
        """
        tz = zone_info(self.zone)
        local = "" if self.zone == "UTC" else f" = {local_rendering(self.until, tz)} {self.zone}"
        return f"until {utc_rendering(self.until)}{local}; {countdown(self.until, now)}"
