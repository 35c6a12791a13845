"""Canonical unpadded base64: one spelling per byte string."""

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vault.age import b64


@given(st.binary(max_size=200))
def test_round_trip_without_padding(data: bytes) -> None:
    text = b64.encode(data)
    assert "=" not in text
    assert b64.decode(text) == data
    assert b64.decode(text.encode()) == data


@pytest.mark.parametrize(
    "text",
    [
        "AA==",  # padding
        "AA=",
        "AB",  # 1 byte with non-zero trailing bits
        "AAB",  # 2 bytes with non-zero trailing bits
        "A",  # impossible length
        "AA AA",
        "AA\nAA",
        "AA\rAA",
        "AA-_",  # URL-safe alphabet
        "AAé",
    ],
)
def test_non_canonical_is_refused(text: str) -> None:
    assert b64.decode(text) is None


def test_trailing_bits_checked_exhaustively() -> None:
    # For a 1-byte encoding, exactly the 4 second characters with the low 4 bits clear decode.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    accepted = [c for c in alphabet if b64.decode("Q" + c) is not None]
    assert accepted == ["A", "Q", "g", "w"]
    assert all(b64.decode("Q" + c) == base64.b64decode("Q" + c + "==") for c in accepted)


def test_empty() -> None:
    assert b64.encode(b"") == ""
    assert b64.decode("") == b""
