"""The age v1 header: stanzas, their strict text encoding, and the header MAC.

A header is the intro line `age-encryption.org/v1`, one or more stanzas, and the closing line
`--- <MAC>`. A stanza is `-> type arg…` followed by its body in canonical base64, wrapped at 64
columns; the body always ends with a line shorter than 64 columns, empty if need be. Parsing
accepts exactly one spelling of each header (no CR, no padding, no over-long or extra lines), so
the MAC, computed over the bytes as read up to and including `---`, covers what was parsed.

Reading from a stream is bounded: a header over `MAX_HEADER_SIZE` bytes or with more than
`MAX_STANZAS` stanzas is refused before more is read, so hostile input cannot make us allocate
without limit. Parse failures raise `HeaderError`; a MAC mismatch raises `HeaderMACError`.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from vault.age import b64
from vault.age.errors import HeaderError, HeaderMACError

INTRO = b"age-encryption.org/v1"
MAX_HEADER_SIZE = 64 * 1024
MAX_STANZAS = 1024
COLUMNS = 64

_FOOTER = b"---"
_STANZA_PREFIX = b"-> "
_MAC_SIZE = 32
_READ_BLOCK = 4096
# Stanza type and arguments: one or more visible ASCII characters (no space, no control).
_ARG = re.compile(rb"[\x21-\x7e]+")
_MALFORMED = "malformed age header"


@dataclass(frozen=True)
class Stanza:
    """One recipient stanza: who the file key is wrapped for, and the wrapped key.

    Attributes:
        type: the stanza type, e.g. `X25519` or `scrypt`.
        args: the stanza arguments, each non-empty visible ASCII.
        body: the decoded body bytes.
    """

    type: str
    args: tuple[str, ...]
    body: bytes


@dataclass(frozen=True)
class Header:
    """A parsed header, with what is needed to check its MAC.

    Attributes:
        stanzas: the recipient stanzas in file order.
        mac: the 32-byte header MAC as written.
        mac_input: the header bytes the MAC covers (up to and including `---`).
        size: the length of the whole header in bytes, including the MAC line.
    """

    stanzas: tuple[Stanza, ...]
    mac: bytes
    mac_input: bytes
    size: int


def header_mac(file_key: bytes, mac_input: bytes) -> bytes:
    """HMAC-SHA256 keyed with HKDF-SHA256(file key, salt empty, info "header")."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"", info=b"header").derive(file_key)
    mac = hmac.HMAC(key, hashes.SHA256())
    mac.update(mac_input)
    return mac.finalize()


def verify_mac(header: Header, file_key: bytes) -> None:
    """Check the header MAC in constant time.

    Raises:
        HeaderMACError: the MAC does not match this file key.
    """
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"", info=b"header").derive(file_key)
    mac = hmac.HMAC(key, hashes.SHA256())
    mac.update(header.mac_input)
    try:
        mac.verify(header.mac)
    except InvalidSignature:
        raise HeaderMACError("age header authentication failed") from None


def encode_stanza(stanza: Stanza) -> bytes:
    """Encode one stanza: its argument line, then its body wrapped at 64 columns.

    Raises:
        ValueError: the type or an argument is empty or holds a space or non-visible character.
    """
    words = [stanza.type, *stanza.args]
    if any(not w.isascii() or _ARG.fullmatch(w.encode()) is None for w in words):
        raise ValueError("stanza type and arguments must be visible ASCII")
    text = b64.encode(stanza.body).encode("ascii")
    lines = [text[i : i + COLUMNS] for i in range(0, len(text), COLUMNS)]
    # The body must end with a short line, so a full last line gets an empty one after it.
    if not lines or len(lines[-1]) == COLUMNS:
        lines.append(b"")
    return _STANZA_PREFIX + " ".join(words).encode("ascii") + b"\n" + b"\n".join(lines) + b"\n"


def encode_header(stanzas: Sequence[Stanza], file_key: bytes) -> bytes:
    """Encode a complete header, MAC line included.

    Args:
        stanzas: at least one stanza.
        file_key: the file key the MAC is derived from.

    Returns:
        The header bytes, ending with the newline after the MAC.

    Raises:
        ValueError: no stanzas, or a stanza that cannot be encoded.
    """
    if not stanzas:
        raise ValueError("an age header needs at least one stanza")
    mac_input = b"".join([INTRO + b"\n", *(encode_stanza(s) for s in stanzas), _FOOTER])
    return mac_input + b" " + b64.encode(header_mac(file_key, mac_input)).encode("ascii") + b"\n"


def parse_header(data: bytes) -> Header:
    """Parse a complete header: from the intro line through the newline after the MAC.

    Raises:
        HeaderError: anything but the one canonical encoding of a header.
    """
    if len(data) > MAX_HEADER_SIZE or not data.endswith(b"\n"):
        raise HeaderError(_MALFORMED)
    lines = data[:-1].split(b"\n")
    if lines[0] != INTRO:
        raise HeaderError(_MALFORMED)
    stanzas: list[Stanza] = []
    offset = len(INTRO) + 1
    words: list[bytes] | None = None  # the stanza whose body is being read
    body: list[bytes] = []
    for index, line in enumerate(lines[1:], start=1):
        if words is not None:
            if len(line) > COLUMNS:
                raise HeaderError(_MALFORMED)
            chunk = b64.decode(line)
            if chunk is None:
                raise HeaderError(_MALFORMED)
            body.append(chunk)
            if len(line) < COLUMNS:
                # A short line ends the body.
                stanzas.append(
                    Stanza(words[0].decode(), tuple(w.decode() for w in words[1:]), b"".join(body))
                )
                if len(stanzas) > MAX_STANZAS:
                    raise HeaderError(_MALFORMED)
                words, body = None, []
        elif line.startswith(_STANZA_PREFIX):
            words = line[len(_STANZA_PREFIX) :].split(b" ")
            if any(_ARG.fullmatch(word) is None for word in words):
                raise HeaderError(_MALFORMED)
        elif line.startswith(_FOOTER) and index == len(lines) - 1 and stanzas:
            mac_input = data[: offset + len(_FOOTER)]
            return Header(tuple(stanzas), _parse_mac(line), mac_input, len(data))
        else:
            raise HeaderError(_MALFORMED)
        offset += len(line) + 1
    raise HeaderError(_MALFORMED)


def _parse_mac(line: bytes) -> bytes:
    if not line.startswith(_FOOTER + b" "):
        raise HeaderError(_MALFORMED)
    mac = b64.decode(line[len(_FOOTER) + 1 :])
    if mac is None or len(mac) != _MAC_SIZE:
        raise HeaderError(_MALFORMED)
    return mac


def read_header(src: BinaryIO) -> tuple[Header, bytes]:
    """Read and parse a header from a stream, reading no more than needed plus one block.

    Args:
        src: positioned at the start of an age file.

    Returns:
        The header, and the bytes read past its end (the start of the payload).

    Raises:
        HeaderError: the header is malformed, too large, or the stream ends inside it.
    """
    buf = bytearray()
    searched = 0
    while True:
        block = src.read(_READ_BLOCK)
        if not block:
            raise HeaderError(_MALFORMED)
        buf += block
        # Refuse anything that is not an age file without reading further.
        if buf[: len(INTRO) + 1] != (INTRO + b"\n")[: len(buf)]:
            raise HeaderError(_MALFORMED)
        # Body lines are base64, which has no '-', so the first line starting with '-' that is
        # not a stanza line must be the footer.
        start = buf.find(b"\n" + _FOOTER, max(searched - len(_FOOTER), 0))
        if start < 0:
            searched = len(buf)
        elif (end := buf.find(b"\n", start + 1)) >= 0:
            if end + 1 > MAX_HEADER_SIZE:
                raise HeaderError(_MALFORMED)
            return parse_header(bytes(buf[: end + 1])), bytes(buf[end + 1 :])
        if len(buf) > MAX_HEADER_SIZE:
            raise HeaderError(_MALFORMED)
