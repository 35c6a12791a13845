"""Header encoding and parsing: canonical form, 64-column bodies, MAC, and size bounds."""

import io
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vault.age import HeaderError, HeaderMACError, Stanza
from vault.age.header import (
    MAX_HEADER_SIZE,
    MAX_STANZAS,
    encode_header,
    encode_stanza,
    parse_header,
    read_header,
    verify_mac,
)

KEY = bytes(range(16))
MAC = "A" * 43
READ_AHEAD = 4096  # the parser's read block: the most it may read past a limit

words = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1)
stanzas = st.builds(
    Stanza,
    type=words,
    args=st.lists(words, max_size=3).map(tuple),
    body=st.binary(max_size=200) | st.sampled_from([b"", bytes(48), bytes(96), bytes(97)]),
)


@given(st.lists(stanzas, min_size=1, max_size=5), st.binary(max_size=100))
def test_round_trip(items: list[Stanza], payload: bytes) -> None:
    data = encode_header(items, KEY)
    header, rest = read_header(io.BytesIO(data + payload))
    assert header.stanzas == tuple(items)
    assert header.size == len(data)
    assert rest == payload
    assert data.startswith(header.mac_input)
    assert header.mac_input.endswith(b"\n---")
    verify_mac(header, KEY)
    with pytest.raises(HeaderMACError):
        verify_mac(header, bytes(16))


@pytest.mark.parametrize(
    ("size", "lines"),
    [
        (0, [b""]),
        (1, [b"AA"]),
        (47, [b"A" * 63]),
        (48, [b"A" * 64, b""]),  # a full final line needs an empty line after it
        (49, [b"A" * 64, b"AA"]),
        (96, [b"A" * 64, b"A" * 64, b""]),
    ],
)
def test_body_wrapping(size: int, lines: list[bytes]) -> None:
    encoded = encode_stanza(Stanza("t", ("a",), bytes(size)))
    assert encoded == b"-> t a\n" + b"".join(line + b"\n" for line in lines)


def _header(*lines: bytes) -> bytes:
    return b"age-encryption.org/v1\n" + b"".join(line + b"\n" for line in lines)


def test_minimal_header_parses() -> None:
    header = parse_header(_header(b"-> t", b"", b"--- " + MAC.encode()))
    assert header.stanzas == (Stanza("t", (), b""),)


@pytest.mark.parametrize(
    "data",
    [
        _header(b"-> t", b"A" * 64, b"--- " + MAC.encode()),  # full line, no final short line
        _header(b"-> t", b"--- " + MAC.encode()),  # no body line at all
        _header(b"-> t", b"A" * 65, b"", b"--- " + MAC.encode()),  # line over 64 columns
        _header(b"-> t", b"AA", b"AA", b"--- " + MAC.encode()),  # two short lines
        _header(b"-> t", b"AA==", b"--- " + MAC.encode()),  # padding
        _header(b"-> t", b"AB", b"--- " + MAC.encode()),  # non-zero trailing bits
        _header(b"-> t", b"AA\r", b"--- " + MAC.encode()),  # stray CR
        _header(b"-> t a", b"", b"--- " + MAC.encode()).replace(b"\n", b"\r\n"),
        _header(b"-> t  a", b"", b"--- " + MAC.encode()),  # empty argument
        _header(b"-> ", b"", b"--- " + MAC.encode()),  # no type
        _header(b"->t", b"", b"--- " + MAC.encode()),
        _header(b"-> t \x7f", b"", b"--- " + MAC.encode()),  # invalid character
        _header(b"-> t", b"", b"---  " + MAC.encode()),  # extra space
        _header(b"-> t", b"", b"---" + MAC.encode()),  # no space
        _header(b"-> t", b"", b"--- " + MAC.encode() + b" "),  # trailing space
        _header(b"-> t", b"", b"--- " + MAC[:-1].encode()),  # truncated MAC
        _header(b"--- " + MAC.encode()),  # no stanza
        _header(b"x", b"--- " + MAC.encode()),
        b"age-encryption.org/v2\n-> t\n\n--- " + MAC.encode() + b"\n",
        b"age-encryption.org/v1\n-> t\n\n--- " + MAC.encode(),  # no final newline
    ],
)
def test_malformed_headers_are_refused(data: bytes) -> None:
    with pytest.raises(HeaderError):
        parse_header(data)
    with pytest.raises(HeaderError):
        read_header(io.BytesIO(data + os.urandom(64)))


def test_header_ends_at_the_footer() -> None:
    data = _header(b"-> t", b"", b"--- " + MAC.encode())
    with pytest.raises(HeaderError):
        parse_header(data + b"-> t\n\n")
    # Read from a stream, whatever follows the footer line is payload.
    assert read_header(io.BytesIO(data + b"-> t\n\n"))[1] == b"-> t\n\n"


@pytest.mark.parametrize("word", ["", "a b", "é", "a\nb", "a\x00"])
def test_encoding_refuses_invalid_words(word: str) -> None:
    with pytest.raises(ValueError, match="visible ASCII"):
        encode_stanza(Stanza(word, (), b""))
    with pytest.raises(ValueError, match="visible ASCII"):
        encode_stanza(Stanza("t", (word,), b""))


def test_encoding_needs_a_stanza() -> None:
    with pytest.raises(ValueError, match="at least one stanza"):
        encode_header([], KEY)


def test_stanza_count_is_bounded() -> None:
    at_limit = encode_header([Stanza("t", (), b"")] * MAX_STANZAS, KEY)
    assert len(read_header(io.BytesIO(at_limit))[0].stanzas) == MAX_STANZAS
    over = encode_header([Stanza("t", (), b"")] * (MAX_STANZAS + 1), KEY)
    with pytest.raises(HeaderError):
        read_header(io.BytesIO(over))


def test_header_size_is_bounded() -> None:
    big = encode_header([Stanza("t", (), bytes(480))] * 100, KEY)
    assert MAX_HEADER_SIZE < len(big) < 2 * MAX_HEADER_SIZE
    src = io.BytesIO(big)
    with pytest.raises(HeaderError):
        read_header(src)
    assert src.tell() <= MAX_HEADER_SIZE + READ_AHEAD


@pytest.mark.parametrize(
    "prefix", [b"age-encryption.org/v1\n", b"age-encryption.org/v1\n-> t\n", b""]
)
def test_endless_input_is_not_read_to_the_end(prefix: bytes) -> None:
    src = io.BytesIO(prefix + b"A" * (8 * 1024 * 1024))
    with pytest.raises(HeaderError):
        read_header(src)
    assert src.tell() <= MAX_HEADER_SIZE + READ_AHEAD


def test_non_age_input_is_refused_at_once() -> None:
    src = io.BytesIO(b"PK\x03\x04" + bytes(1024 * 1024))
    with pytest.raises(HeaderError):
        read_header(src)
    assert src.tell() <= READ_AHEAD


@pytest.mark.parametrize("cut", [0, 1, 10, 22, 30])
def test_truncated_header_is_refused(cut: int) -> None:
    data = encode_header([Stanza("t", ("a",), b"body")], KEY)
    with pytest.raises(HeaderError):
        read_header(io.BytesIO(data[:cut]))
    with pytest.raises(HeaderError):
        read_header(io.BytesIO(data[:-1]))
