"""A message's header fields and canonical body, as dkimpy sees them but in bounded time.

dkimpy's own parser (`dkim.rfc822_parse`) splits the whole message into a list of lines — on a
64 MiB hostile body that is millions of objects — and grows a folded header by repeated
concatenation, which is quadratic in its number of lines; its `strip_trailing_lines` walks a run
of empty lines one Python iteration at a time, and its relaxed canonicalization runs regexes
that take tens of seconds on a large body full of short whitespace runs. `split_message`
reproduces dkimpy's parse exactly while reading only the header section line by line and leaving
the body as one bytes object; `Body` canonicalizes it as dkimpy does — its own helpers for the
trailing lines, `bytes.replace` passes for relaxed whitespace — after cutting trailing empty lines,
which both canonicalizations drop, down to one, so no step costs more than a few passes over the
body. The tests compare both with dkimpy's on generated input.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Final

from dkim.canonicalization import (
    Relaxed,
    correct_empty_body,
    strip_trailing_lines,
)

MAX_HEADER_BYTES: Final = 1024 * 1024

_LINE_END = re.compile(rb"\r?\n")
_FIELD_NAME = re.compile(rb"([\x21-\x7e]+?):")


class MalformedMessage(Exception):
    """The header section cannot be read as dkimpy would read it."""


Header = list[bytes]  # [name, value]: dkimpy's shape, value folded and ending in CRLF


def split_message(message: bytes) -> tuple[list[Header], bytes]:
    """Split a message into header fields and its raw body, as `dkim.rfc822_parse` does.

    Args:
        message: the message, lines ending in CRLF or LF.

    Returns:
        The header fields as `[name, value]` pairs (values keep their folding and end in CRLF;
        mbox `From ` lines are skipped) and the body after the first empty line, untouched.

    Raises:
        MalformedMessage: a line in the header section is neither a field, a continuation nor an
            mbox `From ` line, a continuation comes first, or the section exceeds
            `MAX_HEADER_BYTES`.
    """
    names: list[bytes] = []
    values: list[list[bytes]] = []
    pos = 0
    ends = _LINE_END.finditer(message)
    while True:
        end = next(ends, None)
        line_end = len(message) if end is None else end.start()
        if line_end > MAX_HEADER_BYTES:
            raise MalformedMessage(f"the header section is larger than {MAX_HEADER_BYTES} bytes")
        line = message[pos:line_end]
        if not line:
            body = b"" if end is None else message[end.end() :]
            break
        if line[0] in (0x09, 0x20):
            if not values:
                raise MalformedMessage("the message starts with a folded line")
            values[-1] += (line, b"\r\n")
        else:
            field = _FIELD_NAME.match(line)
            if field is not None:
                names.append(field.group(1))
                values.append([line[field.end() :], b"\r\n"])
            elif not line.startswith(b"From "):
                raise MalformedMessage(f"header line {len(names) + 1} is not a header field")
        if end is None:
            body = b""
            break
        pos = end.end()
    return [[name, b"".join(parts)] for name, parts in zip(names, values, strict=True)], body


def normalise_line_ends(body: bytes) -> bytes:
    """Turn every LF and CRLF into CRLF, as dkimpy does (a lone CR stays)."""
    return body.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _one_trailing_crlf(body: bytes) -> bytes:
    """Cut a trailing run of CRLFs down to one: canonicalization drops them all anyway."""
    tail = body[len(body.rstrip(b"\r\n")) :]
    if not tail.endswith(b"\r\n"):
        return body
    # The run of CRLF pairs that ends the tail starts after its last "\r\r" or "\n\n".
    last_break = max(tail.rfind(b"\r\r"), tail.rfind(b"\n\n"))
    start = last_break + 1 if last_break >= 0 else 0
    if tail[start : start + 1] == b"\n":
        start += 1
    pairs = (len(tail) - start) // 2
    return body[: len(body) - 2 * (pairs - 1)] if pairs > 1 else body


def _relaxed_whitespace(body: bytes) -> bytes:
    """dkimpy's `compress_whitespace(strip_trailing_whitespace(body))`, with no regex.

    Each run of spaces and tabs becomes one space, and one before a CRLF goes. dkimpy's regexes
    take tens of seconds on a 64 MiB body full of short runs; `bytes.replace` passes do not
    (halving the longest run each time, so a run of n spaces takes log n passes).
    """
    body = body.replace(b"\t", b" ")
    while b"  " in body:
        body = body.replace(b"  ", b" ")
    return body.replace(b" \r\n", b"\r\n")


class Body:
    """A message body, canonicalized at most once per algorithm and hashed on demand."""

    def __init__(self, raw: bytes) -> None:
        """Keep the body, line ends made CRLF.

        Args:
            raw: the body as `split_message` returned it.
        """
        self._crlf = normalise_line_ends(raw)
        self._canonical: dict[bytes, bytes] = {}

    def canonical(self, algorithm: Any) -> bytes:
        """The body under dkimpy's `Simple` or `Relaxed` body canonicalization.

        Args:
            algorithm: `dkim.canonicalization.Simple` or `Relaxed` (what a c= value names).
        """
        name: bytes = algorithm.name
        cached = self._canonical.get(name)
        if cached is not None:
            return cached
        body: bytes = self._crlf
        if algorithm is Relaxed:
            body = _relaxed_whitespace(body)
        body = strip_trailing_lines(_one_trailing_crlf(body))
        if algorithm is Relaxed:
            body = correct_empty_body(body)
        self._canonical[name] = body
        return body

    def digest(self, algorithm: Any, hash_name: str, length: int | None) -> bytes:
        """Hash the canonical body, or its first `length` bytes (the signature's l=).

        Args:
            algorithm: the body canonicalization.
            hash_name: a hashlib name, `sha256` or `sha1`.
            length: the l= value, or None to hash the whole canonical body.
        """
        body = memoryview(self.canonical(algorithm))
        return hashlib.new(hash_name, body if length is None else body[:length]).digest()
