"""Local embargo times: conversion, DST gaps and overlaps refused, both renderings shown."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vault.clock import FixedClock
from vault.errors import UsageError
from vault.policy.embargo import Embargo, countdown, due_in, parse_local


@pytest.mark.parametrize(
    "text",
    ["2017-05-07 20:00", "2017-05-07T20:00", "2017-05-07 20:00:00", " 2017-05-07T20:00:00 "],
)
def test_paris_polls_close_at_18_utc(text: str) -> None:
    assert parse_local(text, "Europe/Paris") == datetime(2017, 5, 7, 18, 0, tzinfo=UTC)


def test_seconds_are_kept() -> None:
    assert parse_local("2017-05-07 20:00:30", "Europe/Paris") == datetime(
        2017, 5, 7, 18, 0, 30, tzinfo=UTC
    )


def test_result_is_utc() -> None:
    result = parse_local("2017-01-15 12:00", "America/New_York")
    assert result.tzinfo is UTC
    assert result == datetime(2017, 1, 15, 17, 0, tzinfo=UTC)


def test_dst_gap_is_refused_naming_both_candidates() -> None:
    with pytest.raises(UsageError) as caught:
        parse_local("2017-03-26 02:30", "Europe/Paris")
    error = caught.value
    assert "2017-03-26 02:30 does not exist in Europe/Paris" in error.message
    assert "2017-03-26 00:30 UTC = 2017-03-26 01:30 CET (UTC+01:00)" in error.message
    assert "2017-03-26 01:30 UTC = 2017-03-26 03:30 CEST (UTC+02:00)" in error.message
    assert (
        error.hint == "write 2017-03-26 01:30 or 2017-03-26 03:30, or give the time with --tz UTC"
    )


def test_dst_overlap_is_refused_naming_both_candidates() -> None:
    with pytest.raises(UsageError) as caught:
        parse_local("2017-10-29 02:30", "Europe/Paris")
    error = caught.value
    assert "2017-10-29 02:30 happens twice in Europe/Paris" in error.message
    assert "2017-10-29 00:30 UTC = 2017-10-29 02:30 CEST (UTC+02:00)" in error.message
    assert "2017-10-29 01:30 UTC = 2017-10-29 02:30 CET (UTC+01:00)" in error.message
    assert error.hint is not None
    assert "--tz UTC" in error.hint
    assert "2017-10-29 00:30" in error.hint
    assert "2017-10-29 01:30" in error.hint


def test_times_next_to_the_transitions_are_fine() -> None:
    assert parse_local("2017-03-26 01:59", "Europe/Paris") == datetime(
        2017, 3, 26, 0, 59, tzinfo=UTC
    )
    assert parse_local("2017-03-26 03:00", "Europe/Paris") == datetime(
        2017, 3, 26, 1, 0, tzinfo=UTC
    )
    assert parse_local("2017-10-29 03:00", "Europe/Paris") == datetime(
        2017, 10, 29, 2, 0, tzinfo=UTC
    )


@pytest.mark.parametrize("zone", ["Europe/Pariss", "Mars/Olympus", "../etc/passwd", ""])
def test_unknown_zone_is_named(zone: str) -> None:
    with pytest.raises(UsageError, match="unknown time zone") as caught:
        parse_local("2017-05-07 20:00", zone)
    assert f"`{zone}`" in caught.value.message


@pytest.mark.parametrize(
    "text",
    [
        "2017-05-07",
        "20:00",
        "2017-05-07 20h00",
        "2017-02-30 10:00",
        "2017-05-07 24:00",
        "2017-05-07T20:00Z",
        "2017-05-07T20:00+02:00",
        "7 May 2017 20:00",
    ],
)
def test_malformed_times_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError):
        parse_local(text, "Europe/Paris")


@pytest.fixture
def only_tzdata() -> Iterator[None]:
    """Hide the system zone database, as on a minimal air-gapped machine."""
    zoneinfo.reset_tzpath(to=[])
    zoneinfo.ZoneInfo.clear_cache()
    try:
        yield
    finally:
        zoneinfo.reset_tzpath()
        zoneinfo.ZoneInfo.clear_cache()


def test_works_from_the_tzdata_package_alone(only_tzdata: None) -> None:
    assert zoneinfo.TZPATH == ()
    assert parse_local("2017-05-07 20:00", "Europe/Paris") == datetime(2017, 5, 7, 18, tzinfo=UTC)
    with pytest.raises(UsageError):
        parse_local("2017-03-26 02:30", "Europe/Paris")


ZONES = ["Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]


@settings(max_examples=300, deadline=None)
@given(
    local=st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2040, 1, 1)),
    zone=st.sampled_from(ZONES),
)
def test_accepted_times_round_trip(local: datetime, zone: str) -> None:
    text = local.replace(microsecond=0).strftime("%Y-%m-%d %H:%M:%S")
    try:
        instant = parse_local(text, zone)
    except UsageError as error:
        refusal = error.message
    else:
        refusal = ""
    if refusal:
        assert "does not exist" in refusal or "happens twice" in refusal
        return
    assert instant.tzinfo is UTC
    back = instant.astimezone(zoneinfo.ZoneInfo(zone)).replace(tzinfo=None)
    assert back == local.replace(microsecond=0)


POLLS_CLOSE = datetime(2017, 5, 7, 18, 0, tzinfo=UTC)


def embargo(zone: str = "Europe/Paris") -> Embargo:
    return Embargo(
        until=POLLS_CLOSE,
        zone=zone,
        reason="polls close; electoral silence law",
        set_by="carol",
        set_at=datetime(2017, 5, 5, 12, 0, tzinfo=UTC),
    )


def test_render_shows_both_zones_and_a_countdown() -> None:
    clock = FixedClock(POLLS_CLOSE - timedelta(days=1, hours=23, minutes=12, seconds=30))
    assert embargo().render(clock.now()) == (
        "until 2017-05-07 18:00 UTC = 2017-05-07 20:00 CEST (UTC+02:00) Europe/Paris; "
        "lifts in 1 d 23 h 12 min"
    )
    clock.set(POLLS_CLOSE + timedelta(hours=3))
    assert embargo().render(clock.now()).endswith("; lifted 3 h ago")


def test_render_in_utc_shows_one_zone() -> None:
    assert embargo("UTC").render(POLLS_CLOSE) == "until 2017-05-07 18:00 UTC; lifted just now"


def test_render_in_a_zone_without_abbreviation() -> None:
    text = embargo("America/Sao_Paulo").render(POLLS_CLOSE)
    assert "2017-05-07 15:00 -03 (UTC-03:00) America/Sao_Paulo" in text


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(days=2), "lifts in 2 d"),
        (timedelta(hours=1, seconds=59), "lifts in 1 h"),
        (timedelta(minutes=5), "lifts in 5 min"),
        (timedelta(seconds=42), "lifts in 42 s"),
        (timedelta(microseconds=10), "lifts in 1 s"),
        (timedelta(0), "lifted just now"),
        (-timedelta(minutes=90), "lifted 1 h 30 min ago"),
    ],
)
def test_countdown(delta: timedelta, expected: str) -> None:
    assert countdown(POLLS_CLOSE, POLLS_CLOSE - delta) == expected


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(days=2, hours=3, minutes=59), "in 2 d 3 h"),
        (timedelta(days=2), "in 2 d 0 h"),
        (timedelta(hours=1, minutes=5, seconds=9), "in 1 h 5 min"),
        (timedelta(minutes=10), "in 10 min 0 s"),
        (timedelta(seconds=1), "in 0 min 1 s"),
        (timedelta(0), "now"),
        (-timedelta(hours=3), "now"),
    ],
)
def test_due_in_fits_a_column(delta: timedelta, expected: str) -> None:
    assert due_in(POLLS_CLOSE, POLLS_CLOSE - delta) == expected


def test_embargo_holds_until_its_instant() -> None:
    assert embargo().holds(POLLS_CLOSE - timedelta(seconds=1))
    assert not embargo().holds(POLLS_CLOSE)


def test_embargo_normalises_to_utc_and_checks_its_zone() -> None:
    paris = POLLS_CLOSE.astimezone(zoneinfo.ZoneInfo("Europe/Paris"))
    assert Embargo(paris, "Europe/Paris", "r", "c", paris).until.tzinfo is UTC
    with pytest.raises(ValueError, match="timezone-aware"):
        Embargo(datetime(2017, 5, 7, 18), "Europe/Paris", "r", "c", POLLS_CLOSE)
    with pytest.raises(UsageError, match="unknown time zone"):
        Embargo(POLLS_CLOSE, "Europe/Atlantis", "r", "c", POLLS_CLOSE)
