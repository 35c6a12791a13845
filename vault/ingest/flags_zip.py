"""Cheap, bounded reading of zip structures seen in a sample's head and tail.

Only the bytes a `Sample` carries are read: local file headers found in the head, central
directory headers and the end-of-central-directory record found in the head or tail. Every field
is bounds-checked; nothing here follows an offset outside those bytes, and `read_member` inflates
at most `cap` bytes. It runs inside a detection worker, never in the vault's main process.
"""

from __future__ import annotations

import itertools
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace

LOCAL_SIG = b"PK\x03\x04"
CENTRAL_SIG = b"PK\x01\x02"
EOCD_SIG = b"PK\x05\x06"
_LOCAL = struct.Struct("<4sHHHHHIIIHH")  # 30 bytes
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")  # 46 bytes
_EOCD = struct.Struct("<4sHHHHIIH")  # 22 bytes
MAX_ENTRIES = 20_000
FLAG_ENCRYPTED = 0x0001
FLAG_UTF8 = 0x0800


@dataclass(frozen=True)
class ZipEntry:
    """One zip header seen in the sample (a member usually appears twice: local and central).

    Attributes:
        name: the entry name, decoded as UTF-8 or CP437 as its flag says.
        flags: the general-purpose bit flags (bit 0: encrypted).
        method: the compression method.
        csize: the compressed size the header states (0 when a data descriptor follows).
        data: for a local header in the head, where its data starts in the head; else -1.
    """

    name: str
    flags: int
    method: int
    csize: int
    data: int

    @property
    def encrypted(self) -> bool:
        """Whether the encryption bit is set."""
        return bool(self.flags & FLAG_ENCRYPTED)


@dataclass(frozen=True)
class ZipView:
    """What the sample shows of a zip.

    Attributes:
        entries: local and central headers found, in order of discovery.
        eocd_gap: how many bytes follow the last consistent end-of-central-directory record
            (and its comment) up to the end of the file; None when there is none. A zip reader
            finds the record anywhere in the last 64 KiB, but one that ends the file is the mark
            of a zip appended to something else; one far from the end is usually a zip embedded
            as data (Word keeps its themes so).
        at_start: the file starts with a zip signature.
    """

    entries: tuple[ZipEntry, ...]
    eocd_gap: int | None
    at_start: bool

    @property
    def names(self) -> frozenset[str]:
        """The distinct entry names."""
        return frozenset(e.name for e in self.entries)


def regions(head: bytes, tail: bytes, size: int) -> list[tuple[int, bytes]]:
    """The sample's bytes as (file offset, bytes) pairs; the tail only when it adds something."""
    if size <= len(head):
        return [(0, head)]
    return [(0, head), (size - len(tail), tail)]


def starts_as_zip(head: bytes) -> bool:
    """Whether the bytes start with a zip local header, empty-zip or spanning marker."""
    return head[:4] in (LOCAL_SIG, EOCD_SIG, b"PK\x07\x08", b"PK00")


def scan(head: bytes, tail: bytes, size: int, eocd_gap: int | None) -> ZipView:
    """Collect the zip headers visible in head and tail (at most `MAX_ENTRIES`).

    Args:
        head: the first bytes of the item.
        tail: the last bytes of the item.
        size: the item's size.
        eocd_gap: what `find_eocd` said of the same bytes.
    """
    found = itertools.chain.from_iterable(
        itertools.chain(_local_headers(data, in_head=base == 0), _central_headers(data))
        for base, data in regions(head, tail, size)
    )
    return ZipView(tuple(itertools.islice(found, MAX_ENTRIES)), eocd_gap, starts_as_zip(head))


def find_eocd(head: bytes, tail: bytes, size: int) -> int | None:
    """The gap after the last self-consistent end-of-central-directory record (see ZipView)."""
    base, data = regions(head, tail, size)[-1]
    window_start = max(0, len(data) - (0xFFFF + _EOCD.size))
    pos = data.rfind(EOCD_SIG, window_start)
    while pos >= 0:
        if _eocd_consistent(data, pos, base, size):
            comment: int = struct.unpack_from("<H", data, pos + 20)[0]
            return size - (base + pos + _EOCD.size + comment)
        pos = data.rfind(EOCD_SIG, window_start, pos)
    return None


def _eocd_consistent(data: bytes, pos: int, base: int, size: int) -> bool:
    if pos + _EOCD.size > len(data):
        return False
    fields: tuple[int, ...] = _EOCD.unpack_from(data, pos)[1:]
    disk, cd_disk, here, total, cd_size, cd_offset, comment = fields
    if base + pos + _EOCD.size + comment > size:
        return False
    # The last segment of a split archive names its disk and counts only its own entries.
    if here > total or cd_disk > disk or (disk == 0 and here != total):
        return False
    if total == 0:
        return bool(cd_size == 0)
    if cd_size > base + pos:
        return False
    start = pos - cd_size
    if start >= 0:
        return data[start : start + 4] == CENTRAL_SIG
    return cd_offset == 0xFFFFFFFF or cd_offset + cd_size <= base + pos


def local_members(view: ZipView) -> list[ZipEntry]:
    """Local headers whose data lies in the head, sizes filled in from the central directory.

    A member written with a data descriptor states no size in its local header; the central
    directory entry of the same name does.
    """
    central = {e.name: e.csize for e in view.entries if e.data < 0 and e.csize > 0}
    out = []
    for e in view.entries:
        if e.data >= 0:
            out.append(replace(e, csize=central.get(e.name, 0)) if e.csize == 0 else e)
    return out


def read_member(head: bytes, entry: ZipEntry, cap: int) -> bytes | None:
    """Inflate at most `cap` bytes of a member whose data lies in the head.

    Returns:
        The (possibly partial) content, or None when it is encrypted, uses an unsupported method,
        is not in the head, or is corrupt.
    """
    if entry.data < 0 or entry.encrypted or entry.data >= len(head):
        return None
    end = entry.data + entry.csize if entry.csize > 0 else len(head)
    chunk = head[entry.data : min(end, len(head))]
    if entry.method == 0:
        return chunk[:cap] if entry.csize > 0 else None
    if entry.method != 8:
        return None
    try:
        return zlib.decompressobj(-15).decompress(chunk, cap)
    except zlib.error:
        return None


def _sane(version: int, method: int) -> bool:
    # Any method is accepted: some writers (Apple's protected iWork files) use private ones.
    del method
    return (version & 0xFF) <= 100


def _decode(raw: bytes, flags: int) -> str:
    return raw.decode("utf-8" if flags & FLAG_UTF8 else "cp437", "replace")


def _local_headers(data: bytes, *, in_head: bool) -> Iterator[ZipEntry]:
    pos = data.find(LOCAL_SIG)
    while pos >= 0:
        if pos + _LOCAL.size <= len(data):
            fields = _LOCAL.unpack_from(data, pos)
            _, version, flags, method, _, _, _, csize, _, nlen, xlen = fields
            name_end = pos + _LOCAL.size + nlen
            if _sane(version, method) and name_end <= len(data):
                name = _decode(data[pos + _LOCAL.size : name_end], flags)
                start = name_end + xlen if in_head else -1
                yield ZipEntry(name, flags, method, csize, start)
        pos = data.find(LOCAL_SIG, pos + 4)


def _central_headers(data: bytes) -> Iterator[ZipEntry]:
    pos = data.find(CENTRAL_SIG)
    while pos >= 0:
        if pos + _CENTRAL.size <= len(data):
            fields = _CENTRAL.unpack_from(data, pos)
            version, flags, method, csize, nlen = (
                fields[2],
                fields[3],
                fields[4],
                fields[8],
                fields[10],
            )
            name_end = pos + _CENTRAL.size + nlen
            if _sane(version, method) and name_end <= len(data):
                yield ZipEntry(
                    _decode(data[pos + _CENTRAL.size : name_end], flags), flags, method, csize, -1
                )
        pos = data.find(CENTRAL_SIG, pos + 4)
