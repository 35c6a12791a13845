"""Padmé padding (Nikitin et al., PETS 2019): the properties the object store relies on.

The reference below follows the paper's pseudo-code with integer arithmetic only (no
`bit_length`, no masks), so it checks the implementation rather than restating it:

    E = floor(log2 L);  S = floor(log2 E) + 1;  round L up to a multiple of 2 ** (E - S)
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vault.store.padding import padme

LENGTHS = st.integers(min_value=0, max_value=1 << 48)


def _floor_log2(n: int) -> int:
    exponent = 0
    while 2 ** (exponent + 1) <= n:
        exponent += 1
    return exponent


def _reference(length: int) -> int:
    if length < 2:
        return length
    exponent = _floor_log2(length)
    significant = _floor_log2(exponent) + 1
    step = 1 << (exponent - significant)
    return -(-length // step) * step


@pytest.mark.parametrize(
    ("length", "padded"),
    [
        # Worked by hand from the definition above, e.g. 9: E=3, S=2, step 2 -> 10;
        # 100: E=6, S=3, step 8 -> 104; 65537: E=16, S=5, step 2048 -> 33 * 2048.
        (0, 0),
        (1, 1),
        (2, 2),
        (3, 3),
        (4, 4),
        (5, 5),
        (7, 7),
        (8, 8),
        (9, 10),
        (10, 10),
        (11, 12),
        (15, 16),
        (17, 18),
        (19, 20),
        (100, 104),
        (129, 144),
        (1000, 1024),
        (65535, 65536),
        (65536, 65536),
        (65537, 67584),
        ((1 << 20) + 1, 1081344),
        ((4 << 20) + 1, (4 << 20) + (128 << 10)),
    ],
)
def test_known_values(length: int, padded: int) -> None:
    assert padme(length) == padded
    assert _reference(length) == padded


@given(LENGTHS)
def test_matches_the_papers_definition(length: int) -> None:
    assert padme(length) == _reference(length)


@given(LENGTHS)
def test_never_shrinks(length: int) -> None:
    assert padme(length) >= length


@given(st.integers(min_value=2, max_value=1 << 48))
def test_overhead_is_at_most_twelve_percent(length: int) -> None:
    assert (padme(length) - length) * 100 <= 12 * length


def test_overhead_bound_is_tight_near_129_bytes() -> None:
    # The worst case over small sizes is 15 bytes on 129 (11.6 %): the bound is not vacuous.
    worst = max(range(2, 1 << 16), key=lambda n: (padme(n) - n) / n)
    assert worst == 129
    assert padme(worst) - worst == 15


@given(LENGTHS, LENGTHS)
def test_monotonic(a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert padme(low) <= padme(high)


@given(LENGTHS)
def test_idempotent(length: int) -> None:
    padded = padme(length)
    assert padme(padded) == padded


@given(st.integers(min_value=2, max_value=1 << 48))
def test_padded_length_keeps_only_its_significant_bits(length: int) -> None:
    # What hides the size: the padded length has at most S significant bits below the top one,
    # so only O(log log L) bits of L leak.
    padded = padme(length)
    exponent = _floor_log2(length)
    significant = _floor_log2(exponent) + 1
    assert padded % (1 << (exponent - significant)) == 0


def test_many_sizes_share_one_padded_length() -> None:
    # Every size in (2**20, padme(2**20 + 1)] pads to the same length: 32 KiB of sizes hidden.
    top = padme((1 << 20) + 1)
    assert {padme(n) for n in range((1 << 20) + 1, top + 1)} == {top}
    assert top - (1 << 20) == 32 * 1024
