"""Telling a container by its first bytes, never by its name.

`sniff(head)` looks at magic numbers: zip (`PK\\x03\\x04`, the empty archive's `PK\\x05\\x06`, or a
single-segment archive's `PK\\x07\\x08` marker), tar (`ustar` at offset 257, or an old v7 header
whose checksum adds up), gzip, bzip2, xz, 7z, an mbox `From ` line, or an e-mail message (header
lines at the very start, with at least two well-known header names among them, one of them one
that only mail carries). A gzip, bzip2 or xz head is decompressed a little (bounded) to see if a
tar is inside: then the kind is `tar.gz`, `tar.bz2` or `tar.xz`.

Give it at least the first `SNIFF_BYTES` of the item; a shorter head may only say `gzip` where
the whole file would say `tar.gz` (the readers check again, so the members come out right).
"""

from __future__ import annotations

import bz2
import lzma
import re
import zlib
from collections.abc import Iterator

from vault.ingest.containers.model import ContainerKind

SNIFF_BYTES = 64 * 1024

_TAR_BLOCK = 512
_GZIP = b"\x1f\x8b\x08"
_XZ = b"\xfd7zXZ\x00"
_SEVEN_ZIP = b"7z\xbc\xaf\x27\x1c"
_BZIP2 = re.compile(rb"BZh[1-9](1AY&SY|\x17rE8P\x90)")
_ZIP = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08PK\x03\x04")

# An mbox From_ line: "From sender asctime-date" (a time of day in it), or "From sender" followed
# at once by a header line.
_FROM_LINE = re.compile(rb"From \S+ .*\d:\d\d.*\r?\n|From \S+\r?\n[!-9;-~]+:")
_HEADER_LINE = re.compile(rb"([!-9;-~]+)[ \t]*:")
_MAIL_HEADERS = frozenset(
    b"from to cc bcc subject date received return-path message-id mime-version delivered-to "
    b"reply-to sender in-reply-to references x-mailer content-type dkim-signature "
    b"x-original-to x-originating-ip thread-topic user-agent".split()
)
_ONLY_MAIL = frozenset(
    b"from received return-path message-id mime-version delivered-to dkim-signature "
    b"x-original-to sender".split()
)
_MAX_HEADER_LINES = 64


def is_tar_header(block: bytes) -> bool:
    """Whether a 512-byte block is a tar header: ustar magic, or a v7 header's valid checksum."""
    if len(block) < _TAR_BLOCK:
        return False
    if block[257:262] == b"ustar":
        return True
    field = block[148:156]
    try:
        stored = int(field.replace(b"\x00", b" ").strip() or b"-1", 8)
    except ValueError:
        return False
    if stored < 0 or block[0] == 0:
        return False
    unsigned = sum(block[:148]) + 8 * 0x20 + sum(block[156:512])
    signed = unsigned - 2 * sum(b for b in block[:148] + block[156:512] if b >= 0x80)
    # A v7 header's numeric fields are octal digits, spaces or NULs.
    numeric = block[100:136] + block[136:148]
    if not all(b in b"01234567 \x00" for b in numeric):
        return False
    return stored in (unsigned, signed)


def _decompressed_head(head: bytes, kind: ContainerKind) -> bytes:
    try:
        if kind is ContainerKind.GZIP:
            return zlib.decompressobj(31).decompress(head, _TAR_BLOCK)
        if kind is ContainerKind.BZIP2:
            return bz2.BZ2Decompressor().decompress(head, _TAR_BLOCK)
        return lzma.LZMADecompressor(lzma.FORMAT_XZ, memlimit=64 << 20).decompress(head, _TAR_BLOCK)
    except (zlib.error, OSError, EOFError, lzma.LZMAError, ValueError):
        return b""


_TAR_OF = {
    ContainerKind.GZIP: ContainerKind.TAR_GZIP,
    ContainerKind.BZIP2: ContainerKind.TAR_BZIP2,
    ContainerKind.XZ: ContainerKind.TAR_XZ,
}


def _compressed(head: bytes) -> ContainerKind | None:
    if head.startswith(_GZIP):
        kind = ContainerKind.GZIP
    elif _BZIP2.match(head):
        kind = ContainerKind.BZIP2
    elif head.startswith(_XZ):
        kind = ContainerKind.XZ
    else:
        return None
    return _TAR_OF[kind] if is_tar_header(_decompressed_head(head, kind)) else kind


def _complete_lines(head: bytes, limit: int) -> Iterator[bytes]:
    """The first `limit` lines that end in a newline, without it; a line the head cuts off is
    not judged. Found one by one: splitting would copy the whole head."""
    start = 0
    for _ in range(limit):
        end = head.find(b"\n", start)
        if end < 0:
            return
        yield head[start:end]
        start = end + 1


def looks_like_mail(head: bytes) -> bool:
    """Whether the head starts with a block of RFC 822 header lines that only e-mail has."""
    names: set[bytes] = set()
    for number, line in enumerate(_complete_lines(head, _MAX_HEADER_LINES)):
        if line in (b"", b"\r"):
            break
        if line[:1] in (b" ", b"\t") and number > 0:
            continue  # a folded continuation line
        match = _HEADER_LINE.match(line)
        if match is None:
            return False
        names.add(match.group(1).lower())
    known = names & _MAIL_HEADERS
    return len(known) >= 2 and bool(known & _ONLY_MAIL)


def sniff(head: bytes) -> ContainerKind | None:
    """Which container the bytes are, by content; None if none this package opens.

    Args:
        head: the item's first bytes (`SNIFF_BYTES` or more is best).
    """
    if head.startswith(_ZIP):
        return ContainerKind.ZIP
    if head.startswith(_SEVEN_ZIP):
        return ContainerKind.SEVEN_ZIP
    compressed = _compressed(head)
    if compressed is not None:
        return compressed
    if is_tar_header(head[:_TAR_BLOCK]):
        return ContainerKind.TAR
    if _FROM_LINE.match(head):
        return ContainerKind.MBOX
    if looks_like_mail(head):
        return ContainerKind.EMAIL
    return None
