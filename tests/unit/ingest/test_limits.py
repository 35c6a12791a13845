"""Limits and the per-intake budget."""

from __future__ import annotations

import pytest

from vault.errors import VaultError
from vault.ingest.limits import Budget, GiB, LimitExceeded, Limits, MiB


def test_defaults_are_the_documented_ones() -> None:
    limits = Limits()
    assert limits.max_depth == 8
    assert limits.max_members == 200_000
    assert limits.max_total_bytes == 64 * GiB
    assert limits.max_member_bytes == 16 * GiB
    assert limits.max_ratio == 200
    assert limits.ratio_floor == 1 * MiB
    assert limits.max_name_bytes == 255


@pytest.mark.parametrize("field", ["max_depth", "max_ratio", "chunk_bytes", "max_members"])
def test_limits_must_be_positive(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        Limits(**{field: 0})


def test_limits_are_frozen() -> None:
    limits = Limits()
    with pytest.raises(AttributeError):
        limits.max_depth = 100  # type: ignore[misc]


def test_budget_counts_members_and_bytes_across_containers() -> None:
    budget = Budget(Limits(max_members=2, max_total_bytes=10))
    budget.add_member(name="a.zip")
    budget.add_member(name="b.tar")
    with pytest.raises(LimitExceeded) as members:
        budget.add_member(name="c.zip")
    assert members.value.flag == "too-many-members"
    budget.add_bytes(10, name="a.zip")
    with pytest.raises(LimitExceeded) as size:
        budget.add_bytes(1, name="b.tar")
    assert size.value.flag == "too-large"
    assert (budget.members, budget.bytes) == (2, 11)


def test_depth_is_refused_at_the_limit() -> None:
    budget = Budget(Limits(max_depth=2))
    budget.check_depth(1, name="x")
    with pytest.raises(LimitExceeded) as deep:
        budget.check_depth(2, name="x")
    assert deep.value.flag == "too-deep"


def test_limit_exceeded_is_a_vault_error_with_a_hint() -> None:
    error = LimitExceeded("bomb-suspected", "x.zip: expands too much")
    assert isinstance(error, VaultError)
    assert error.exit_code == 1
    assert error.hint is not None
    assert "max_ratio" in error.hint
