"""The clock guard: a clock behind the audit log refuses, within tolerance, until confirmed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from vault.errors import Refused
from vault.policy.clockguard import ClockRolledBack, check_clock

NEWEST = datetime(2017, 5, 7, 18, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def test_empty_log_and_forward_clock_pass() -> None:
    check_clock(NEWEST, None, confirmed_after=None)
    check_clock(NEWEST, NEWEST, confirmed_after=None)
    check_clock(NEWEST + timedelta(days=30), NEWEST, confirmed_after=None)


def test_rollback_is_detected() -> None:
    now = NEWEST - timedelta(days=2, hours=1)
    with pytest.raises(ClockRolledBack) as caught:
        check_clock(now, NEWEST, confirmed_after=None)
    error = caught.value
    assert isinstance(error, Refused)
    assert error.exit_code == 3
    assert (error.now, error.newest) == (now, NEWEST)
    assert "2017-05-05 17:00 UTC, 2 d 1 h before the newest audit entry" in error.message
    assert error.hint is not None
    assert "confirm" in error.hint


def test_tolerance_is_honoured() -> None:
    check_clock(NEWEST - 5 * MINUTE, NEWEST, confirmed_after=None)
    with pytest.raises(ClockRolledBack):
        check_clock(NEWEST - 5 * MINUTE - timedelta(seconds=1), NEWEST, confirmed_after=None)
    check_clock(NEWEST - 59 * MINUTE, NEWEST, tolerance=timedelta(hours=1), confirmed_after=None)
    with pytest.raises(ClockRolledBack):
        check_clock(
            NEWEST - timedelta(seconds=1), NEWEST, tolerance=timedelta(0), confirmed_after=None
        )


def test_confirmation_clears_it() -> None:
    confirmed = NEWEST - timedelta(days=3)  # the true time, confirmed after a future-dated entry
    check_clock(confirmed, NEWEST, confirmed_after=confirmed)
    check_clock(confirmed + timedelta(hours=5), NEWEST, confirmed_after=confirmed)
    check_clock(confirmed - 4 * MINUTE, NEWEST, confirmed_after=confirmed)


def test_going_back_behind_the_confirmation_trips_again() -> None:
    confirmed = NEWEST - timedelta(days=3)
    with pytest.raises(ClockRolledBack, match="gone back behind the time confirmed"):
        check_clock(confirmed - timedelta(hours=1), NEWEST, confirmed_after=confirmed)


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        check_clock(datetime(2017, 5, 7), NEWEST, confirmed_after=None)
    with pytest.raises(ValueError, match="negative"):
        check_clock(NEWEST, NEWEST, tolerance=-MINUTE, confirmed_after=None)
