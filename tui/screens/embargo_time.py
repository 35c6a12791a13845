"""Embargo instants as the terminal app shows them, and checking a time an editor is typing.

An embargo is shown twice (DESIGN §8): in the zone it was entered in and in the workstation's
own zone, which is read from `TZ`, else `/etc/localtime` or `/etc/timezone`; a zone that is no
IANA name (a POSIX `TZ` string) still renders, through the C library, as "local". `assess` turns
the editor's date, time and zone fields into the instant they name, or says in words what is
wrong, using the same parser as `vault embargo set` so both refuse the same times.
"""

from __future__ import annotations

import os
import re
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tui.widgets.safe import shown
from vault.errors import UsageError
from vault.policy.embargo import countdown, utc_rendering
from vault.service import Vault

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = re.compile(r"\d{2}:\d{2}")


@dataclass(frozen=True)
class Zone:
    """A time zone to show instants in: an IANA name and its data, or the C library's local."""

    name: str | None
    tz: tzinfo | None

    @property
    def label(self) -> str:
        """The zone's name, or "local" when it has no IANA name."""
        return self.name or "local"

    def wall(self, instant: datetime) -> datetime:
        """The instant as wall-clock time in this zone."""
        return instant.astimezone(self.tz) if self.tz is not None else instant.astimezone()


def zone_named(name: str) -> Zone | None:
    """The IANA zone of that name, or None if there is none."""
    try:
        return Zone(name, ZoneInfo(name)) if name else None
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def workstation_zone() -> Zone:
    """The workstation's zone: `TZ`, else the system's configured zone, else the C library's."""
    configured = os.environ.get("TZ", "").removeprefix(":")
    candidates = [configured] if configured else _system_zones()
    for name in candidates:
        zone = zone_named(name)
        if zone is not None:
            return zone
    return Zone(None, None)


def _system_zones() -> list[str]:
    names: list[str] = []
    try:
        link = os.readlink("/etc/localtime")
    except OSError:
        link = ""
    if "zoneinfo/" in link:
        names.append(link.split("zoneinfo/", 1)[1])
    with suppress(OSError):
        names.append(Path("/etc/timezone").read_text(encoding="utf-8").strip())
    return names


def default_zone(workstation: Zone) -> str:
    """The zone a new embargo is offered in: the workstation's if it has a name, else UTC."""
    return workstation.name or "UTC"


def wall_text(instant: datetime, zone: Zone, *, offset: bool = True) -> str:
    """`2017-05-07 20:00 CEST (UTC+02:00)`: the instant's wall-clock time in `zone`.

    Without `offset`, only the zone's abbreviation follows the time (`2017-05-07 20:00 CEST`),
    or the offset for a zone that has none.
    """
    local = zone.wall(instant)
    delta = local.utcoffset() or timedelta(0)
    sign = "-" if delta < timedelta(0) else "+"
    minutes = abs(int(delta.total_seconds())) // 60
    label = numeric = f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    abbreviation = local.tzname() or ""
    if abbreviation and abbreviation[0] not in "+-":  # "+0530" says nothing the offset does not
        if not offset:
            label = abbreviation
        elif abbreviation != "UTC":
            label = f"{abbreviation} ({numeric})"
    pattern = "%Y-%m-%d %H:%M:%S" if local.second else "%Y-%m-%d %H:%M"
    return f"{local.strftime(pattern)} {label}"


def short_text(instant: datetime, zone: Zone, *, named: bool = True) -> str:
    """`2017-05-07 20:00 Europe/Paris`: date, time and (if `named`) zone, for a table cell."""
    wall = f"{zone.wall(instant):%Y-%m-%d %H:%M}"
    return f"{wall} {zone.label}" if named else wall


def remaining(until: datetime, now: datetime) -> str:
    """`1 d 23 h 12 min`, `lifted just now` or `lifted 3 h ago`, for a "lifts in" column."""
    return countdown(until, now).removeprefix("lifts in ")


@dataclass(frozen=True)
class Assessment:
    """What the editor's fields name: the instant and its renderings, or what is wrong.

    `lines` are safe display text: the renderings when `instant` is set, else the error.
    `warning` is set for a valid time that needs more than `set-embargo` (a partial lift).
    """

    instant: datetime | None
    lines: tuple[str, ...]
    warning: str = ""

    @property
    def valid(self) -> bool:
        """Whether the fields name an instant that may be saved."""
        return self.instant is not None


def assess(
    date: str,
    time: str,
    zone: str,
    *,
    now: datetime,
    workstation: Zone,
    current: datetime | None = None,
) -> Assessment:
    """Check an embargo time as typed, and render it in UTC, its zone and the workstation's.

    Args:
        date: `YYYY-MM-DD`.
        time: `HH:MM`.
        zone: an IANA zone name.
        now: the app's clock.
        workstation: the workstation's zone, for the second rendering.
        current: the instant the target's embargo holds until now, if it has one.

    Returns:
        The instant and its renderings, or the problem in words (unknown zone, bad date or
        time, a time the clocks skip or repeat naming both instants, a time already past).
    """
    date, time, zone = date.strip(), time.strip(), zone.strip()
    if not _DATE.fullmatch(date):
        return _problem("date: write it as YYYY-MM-DD, e.g. 2027-05-07")
    if not _TIME.fullmatch(time):
        return _problem("time: write it as HH:MM on a 24-hour clock, e.g. 20:00")
    if not zone:
        return _problem("zone: give an IANA zone name such as Europe/Paris, or UTC")
    try:
        instant = Vault.local_instant(f"{date} {time}", zone)
    except UsageError as error:
        return _problem(error.message)
    named = Zone(zone, ZoneInfo(zone))  # local_instant has just loaded it
    if instant <= now:
        return _problem(
            f"{utc_rendering(instant)} has already passed (the clock reads {utc_rendering(now)})"
        )
    lines = (
        f"UTC        {utc_rendering(instant)}",
        f"in zone    {wall_text(instant, named)} {named.label}",
        f"here       {wall_text(instant, workstation)} {workstation.label}",
        f"           {countdown(instant, now)}",
    )
    warning = ""
    if current is not None and instant < current:
        warning = (
            f"earlier than the embargo now in force ({utc_rendering(current)}): "
            "a partial lift, which needs lift-embargo"
        )
    return Assessment(instant, tuple(shown(line) for line in lines), shown(warning))


def _problem(text: str) -> Assessment:
    return Assessment(None, (shown(text),))


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant from an `EmbargoView`, in UTC."""
    return datetime.fromisoformat(text).astimezone(UTC)
