"""The Bech32 codec: BIP 173 vectors, age's case rules, and round trips."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vault.age import bech32
from vault.age.bech32 import _checksum

# BIP 173 "valid checksum" strings (the 82-zero one spelled out by construction).
VALID = [
    "A12UEL5L",
    "a12uel5l",
    "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
    "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
    "11" + "q" * 82 + "c8247j",
    "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
    "?1ezyfcl",
]

# BIP 173 "invalid" strings, less the over-90-characters one: age lifts that limit.
INVALID = [
    "\x201nwldj5",  # HRP character out of range
    "\x7f1axkwrx",
    "\x801eym55h",
    "pzry9x0s0muk",  # no separator
    "1pzry9x0s0muk",  # empty HRP
    "x1b4n0q5v",  # invalid data character
    "li1dgmt3",  # checksum too short
    "de1lg7wt\xff",  # invalid character in checksum
    "A1G7SGD8",  # checksum computed over the uppercase HRP
    "10a06t8",
    "1qzzfhee",
    "a12UEL5L",  # mixed case
    "a12uel5m",  # one character off
]


@pytest.mark.parametrize("text", VALID)
def test_valid_strings_decode_and_reencode(text: str) -> None:
    hrp, data = bech32.decode(text)
    assert bech32.encode(hrp, data) == text


@pytest.mark.parametrize("text", INVALID)
def test_invalid_strings_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="bech32"):
        bech32.decode(text)


def test_known_payload() -> None:
    assert bech32.decode("abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw") == (
        "abcdef",
        bytes.fromhex("00443214c74254b635cf84653a56d7c675be77df"),
    )


def test_non_zero_padding_is_refused() -> None:
    # One byte is 8 bits in two 5-bit groups: the last 2 bits are padding and must be zero.
    good = bech32.encode("age", b"\xff")
    assert bech32.decode(good) == ("age", b"\xff")
    values = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
    # Same first group, second group with a padding bit set, valid checksum recomputed.
    groups = [31, 29]
    bad = "age1" + "".join(values[v] for v in groups + _checksum("age", groups))
    with pytest.raises(ValueError, match="padding"):
        bech32.decode(bad)


def test_case_follows_the_hrp() -> None:
    assert bech32.encode("AGE-SECRET-KEY-", b"\x01\x02").isupper()
    assert bech32.encode("age", b"\x01\x02").islower()
    with pytest.raises(ValueError, match="mixed"):
        bech32.encode("Age", b"")
    with pytest.raises(ValueError, match="human-readable"):
        bech32.encode("", b"")


@given(
    hrp=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1).map(
        str.lower
    ),
    data=st.binary(max_size=300),
    upper=st.booleans(),
)
def test_round_trip(hrp: str, data: bytes, upper: bool) -> None:
    text = bech32.encode(hrp.upper() if upper else hrp, data)
    decoded_hrp, decoded = bech32.decode(text)
    assert decoded == data
    assert decoded_hrp == (hrp.upper() if upper else hrp)
