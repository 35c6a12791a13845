"""Header parsing and body canonicalization agree with dkimpy's, in bounded time."""

from __future__ import annotations

import itertools
import time

import dkim
import pytest
from dkim.canonicalization import Relaxed, Simple
from hypothesis import example, given, settings
from hypothesis import strategies as st

from vault.review.dkim_message import (
    MAX_HEADER_BYTES,
    Body,
    MalformedMessage,
    normalise_line_ends,
    split_message,
)

_pieces = st.sampled_from(
    [
        b"From: a",
        b"Subject:x",
        b" folded",
        b"\tfolded",
        b"From mbox",
        b"X-A:",
        b"bad line",
        b"",
        b"\r",
    ]
)
_ends = st.sampled_from([b"\r\n", b"\n", b"\r"])
_body = st.lists(
    st.sampled_from(
        [b"text", b" ", b"\t", b"\r\n", b"\n", b"\r", b"  \t ", b"x y", b"\x0b", b"\x0c", b" " * 9]
    ),
    max_size=30,
).map(b"".join)


@st.composite
def messages(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(st.tuples(_pieces, _ends), max_size=8))
    return b"".join(p + e for p, e in lines) + draw(_body)


@settings(max_examples=250, deadline=None)
@given(messages())
@example(b"From: a\r\n\r\n")
@example(b"From: a")
@example(b"\r\nbody")
@example(b"")
def test_split_message_reads_what_dkimpy_reads(message: bytes) -> None:
    try:
        expected = dkim.rfc822_parse(message)
    except (dkim.MessageFormatError, IndexError):
        with pytest.raises(MalformedMessage):
            split_message(message)
        return
    headers, body = split_message(message)
    assert headers == expected[0]
    assert normalise_line_ends(body) == expected[1]


@settings(max_examples=250, deadline=None)
@given(_body, st.integers(0, 40))
@example(b"", 0)
@example(b"\r\n\r\n", 0)
@example(b"x\r\r\n\r\n\n", 0)
@example(b" \r\n \r\n", 0)
def test_canonical_bodies_are_dkimpys(raw: bytes, trailing: int) -> None:
    raw += b"\r\n" * trailing
    body = Body(raw)
    crlf = normalise_line_ends(raw)
    for algorithm in (Simple, Relaxed):
        assert body.canonical(algorithm) == algorithm.canonicalize_body(crlf)


def test_trailing_line_runs_are_cut_as_dkimpy_would_drop_them() -> None:
    for length in range(9):
        for chars in itertools.product(b"\r\nx", repeat=length):
            body = bytes(chars)
            for algorithm in (Simple, Relaxed):
                assert Body(body).canonical(algorithm) == algorithm.canonicalize_body(
                    normalise_line_ends(body)
                ), body


def test_the_canonical_body_is_made_once_per_algorithm() -> None:
    body = Body(b"a  b\n")
    assert body.canonical(Relaxed) is body.canonical(Relaxed)
    assert body.digest(Simple, "sha256", None) != body.digest(Relaxed, "sha256", None)


@pytest.mark.parametrize(
    "message",
    [
        b"X-Folded: a\r\n" + b" b\r\n" * 250_000,
        b"X-A: b\r\n" * 120_000,
        b"X" * (MAX_HEADER_BYTES - 10) + b": v\r\n",
    ],
)
def test_big_header_sections_do_not_hang(message: bytes) -> None:
    # A hang guard, not a benchmark: the quadratic parser this replaced took minutes here, so
    # the bound is generous enough for a loaded CI machine.
    started = time.perf_counter()
    headers, _ = split_message(message + b"\r\n")
    assert time.perf_counter() - started < 30
    assert headers


def test_the_header_section_is_bounded() -> None:
    with pytest.raises(MalformedMessage, match="larger than"):
        split_message(b"X-A: b\r\n" * (MAX_HEADER_BYTES // 8 + 1) + b"\r\nbody")
    headers, body = split_message(b"X-A: b\r\n\r\n" + b"body\n" * (MAX_HEADER_BYTES // 4))
    assert len(headers) == 1
    assert len(body) == 5 * (MAX_HEADER_BYTES // 4)
