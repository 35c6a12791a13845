"""A zip's central directory and local headers, read by hand with every offset checked.

zipfile decodes names strictly (one invalid UTF-8 name makes the whole archive unreadable) and
trusts the layout; here names stay raw bytes, zip64 records and the Info-ZIP Unicode Path field
are honoured, data placed before the archive (a self-extractor's stub, a spanned-archive marker)
is allowed for, and the layout is checked before any member is listed:

- an entry whose local header is missing, or whose data runs into the central directory or past
  the end of the file, is a `ContainerError`;
- entries whose header-plus-data ranges overlap are the overlapping-entry zip bomb (many central
  directory entries sharing one run of compressed data): `LimitExceeded("bomb-suspected")`.
"""

from __future__ import annotations

import itertools
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import BinaryIO

from vault.ingest.containers import ContainerError
from vault.ingest.containers.model import Context
from vault.ingest.containers.streams import buffered
from vault.ingest.limits import LimitExceeded

_EOCD = struct.Struct("<4s4H2LH")
_LOCATOR = struct.Struct("<4sLQL")
_EOCD64 = struct.Struct("<4sQ2H2L4Q")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_LOCAL = struct.Struct("<4s2B4HL2L2H")
_MAX_COMMENT = 0xFFFF
_ZIP64_EXTRA = 0x0001
_UNICODE_PATH_EXTRA = 0x7075


@dataclass(frozen=True)
class ZipEntry:
    """One central directory record, offsets made absolute in the source."""

    index: int
    name: bytes  # the name to use: the central directory's, or its Unicode Path field's
    header_name: bytes  # the name as the central directory record has it
    utf8: bool
    flag_bits: int
    method: int
    crc: int
    compressed_size: int
    size: int
    header_offset: int
    create_system: int
    external_attr: int

    @property
    def encrypted(self) -> bool:
        """Traditional PKWARE, strong or WinZip AES encryption."""
        return bool(self.flag_bits & 0x41) or self.method == 99


@dataclass(frozen=True)
class LocalEntry:
    """Where an entry's data lies, from its local header."""

    entry: ZipEntry
    data_offset: int
    local_name: bytes

    @property
    def end(self) -> int:
        """The first byte after the entry's compressed data."""
        return self.data_offset + self.entry.compressed_size


def _read_at(src: BinaryIO, offset: int, length: int) -> bytes:
    src.seek(offset)
    return src.read(length)


def _find_eocd(src: BinaryIO, ctx: Context) -> tuple[int, tuple[int, ...]]:
    tail_length = min(ctx.size, _EOCD.size + _MAX_COMMENT)
    tail_start = ctx.size - tail_length
    tail = _read_at(src, tail_start, tail_length)
    fallback: tuple[int, tuple[int, ...]] | None = None
    position = tail.rfind(b"PK\x05\x06")
    while position >= 0:
        if position + _EOCD.size <= len(tail):
            record = _EOCD.unpack_from(tail, position)
            if position + _EOCD.size + record[-1] == len(tail):
                return tail_start + position, record
            # A comment whose length does not add up: keep looking for one that does.
            fallback = fallback or (tail_start + position, record)
        position = tail.rfind(b"PK\x05\x06", 0, position)
    if fallback is not None:
        return fallback
    raise ContainerError(
        ctx.name, "no end-of-archive record: the zip is truncated, damaged, or not a zip"
    )


def _directory_bounds(src: BinaryIO, ctx: Context) -> tuple[int, int, int, int]:
    """(start of the central directory, its size, entries declared, bytes placed before)."""
    eocd_at, record = _find_eocd(src, ctx)
    _, disk, cd_disk, disk_entries, entries, cd_size, cd_offset, _ = record
    cd_end = eocd_at
    if eocd_at >= _LOCATOR.size + _EOCD64.size:
        locator = _read_at(src, eocd_at - _LOCATOR.size, _LOCATOR.size)
        if locator[:4] == b"PK\x06\x07":
            cd_end = eocd_at - _LOCATOR.size - _EOCD64.size
            z64 = _read_at(src, cd_end, _EOCD64.size)
            if z64[:4] != b"PK\x06\x06":
                raise ContainerError(ctx.name, "the zip64 end-of-archive record is damaged")
            _, _, _, _, disk, cd_disk, disk_entries, entries, cd_size, cd_offset = _EOCD64.unpack(
                z64
            )
    if disk != 0 or cd_disk != 0 or disk_entries != entries:
        raise ContainerError(
            ctx.name, "one part of a split (multi-volume) zip: the other parts are needed"
        )
    before = cd_end - cd_size - cd_offset
    if before < 0 or cd_offset + before > ctx.size:
        raise ContainerError(
            ctx.name, "the central directory lies outside the file: truncated or damaged"
        )
    return cd_offset + before, cd_size, entries, before


def _extras(data: bytes) -> Iterator[tuple[int, bytes]]:
    position = 0
    while position + 4 <= len(data):
        kind, length = struct.unpack_from("<2H", data, position)
        yield kind, data[position + 4 : position + 4 + length]
        position += 4 + length


def _unicode_path_matches(data: bytes, name: bytes) -> bool:
    """An Info-ZIP Unicode Path field, version 1, written for this very header name."""
    return (
        len(data) > 5 and data[0] == 1 and struct.unpack_from("<L", data, 1)[0] == zlib.crc32(name)
    )


def _zip64(values: list[int], extra: bytes, ctx: Context, index: int) -> list[int]:
    """Replace the 0xFFFFFFFF placeholders (size, compressed size, offset) from the zip64 field."""
    out = list(values)
    position = 0
    for slot, value in enumerate(values):
        if value != 0xFFFFFFFF:
            continue
        if position + 8 > len(extra):
            raise ContainerError(ctx.name, f"central directory entry {index}: zip64 field is short")
        out[slot] = struct.unpack_from("<Q", extra, position)[0]
        position += 8
    return out


def _entry(
    record: tuple[int, ...], name: bytes, extra: bytes, ctx: Context, index: int, before: int
) -> ZipEntry:
    create_system, flag_bits, method = record[2], record[5], record[6]
    crc, csize, size, attr, offset = record[9], record[10], record[11], record[17], record[18]
    utf8 = bool(flag_bits & 0x800)
    header_name = name
    for kind, data in _extras(extra):
        if kind == _ZIP64_EXTRA:
            size, csize, offset = _zip64([size, csize, offset], data, ctx, index)
        elif kind == _UNICODE_PATH_EXTRA and _unicode_path_matches(data, name) and not utf8:
            name, utf8 = data[5:], True
    return ZipEntry(
        index=index,
        name=name,
        header_name=header_name,
        utf8=utf8,
        flag_bits=flag_bits,
        method=method,
        crc=crc,
        compressed_size=csize,
        size=size,
        header_offset=offset + before,
        create_system=create_system,
        external_attr=attr,
    )


def read_directory(src: BinaryIO, ctx: Context) -> tuple[list[ZipEntry], int]:
    """Every central directory entry, in order, and where the central directory starts.

    Raises:
        ContainerError: no end-of-archive record, a truncated or damaged directory, a split zip.
        LimitExceeded: `too-many-members` when the directory lists more entries than the
            intake may still take.
    """
    cd_start, cd_size, declared, before = _directory_bounds(src, ctx)
    room = ctx.limits.max_members - ctx.budget.members
    if min(declared, cd_size // _CENTRAL.size) > room:
        raise LimitExceeded(
            "too-many-members",
            f"{ctx.name}: lists {declared} entries; the intake has room for {room}",
        )
    reader = buffered(src, start=cd_start, length=cd_size)
    entries: list[ZipEntry] = []
    consumed = 0
    while consumed < cd_size:
        fixed = reader.read(_CENTRAL.size)
        if len(fixed) < _CENTRAL.size or fixed[:4] != b"PK\x01\x02":
            raise ContainerError(
                ctx.name,
                f"central directory entry {len(entries) + 1} is damaged or truncated",
            )
        record = _CENTRAL.unpack(fixed)
        name_length, extra_length, comment_length = record[12], record[13], record[14]
        variable = reader.read(name_length + extra_length + comment_length)
        if len(variable) < name_length + extra_length + comment_length:
            raise ContainerError(ctx.name, "the central directory is truncated")
        name = variable[:name_length]
        extra = variable[name_length : name_length + extra_length]
        entries.append(_entry(record, name, extra, ctx, len(entries), before))
        consumed += _CENTRAL.size + len(variable)
        if len(entries) > room:
            raise LimitExceeded(
                "too-many-members", f"{ctx.name}: lists more entries than the intake has room for"
            )
    if len(entries) < declared and declared not in (0xFFFF, 0xFFFFFFFF):
        raise ContainerError(
            ctx.name, f"the central directory lists {len(entries)} of {declared} entries"
        )
    return _rebased(src, entries, before), cd_start


def _rebased(src: BinaryIO, entries: list[ZipEntry], before: int) -> list[ZipEntry]:
    """Undo the shift for data placed before the archive when the entries' own offsets are right.

    Some writers (streaming ones, using data descriptors) record a central directory offset that
    is off while every entry's offset is exact; Info-ZIP's unzip reads those too.
    """
    if not entries or before == 0:
        return entries
    first = entries[0].header_offset
    if (
        _read_at(src, first, 4) == b"PK\x03\x04"
        or _read_at(src, first - before, 4) != b"PK\x03\x04"
    ):
        return entries
    return [replace(entry, header_offset=entry.header_offset - before) for entry in entries]


def locate(src: BinaryIO, entries: list[ZipEntry], cd_start: int, ctx: Context) -> list[LocalEntry]:
    """Each entry's local header and data range, checked against the others.

    Raises:
        ContainerError: a local header is missing or its data runs past the central directory.
        LimitExceeded: `bomb-suspected` when entries overlap.
    """
    located: list[LocalEntry] = []
    for entry in entries:
        fixed = _read_at(src, entry.header_offset, _LOCAL.size)
        if len(fixed) < _LOCAL.size or fixed[:4] != b"PK\x03\x04":
            raise ContainerError(
                ctx.name, f"entry {entry.index + 1} has no local header where the directory says"
            )
        name_length, extra_length = _LOCAL.unpack(fixed)[-2:]
        data_offset = entry.header_offset + _LOCAL.size + name_length + extra_length
        local_name = _read_at(src, entry.header_offset + _LOCAL.size, name_length)
        local = LocalEntry(entry, data_offset, local_name)
        if local.end > cd_start:
            raise ContainerError(
                ctx.name,
                f"entry {entry.index + 1}'s data runs into the central directory: "
                "the zip is truncated or damaged",
            )
        located.append(local)
    ordered = sorted(located, key=lambda item: item.entry.header_offset)
    for previous, following in itertools.pairwise(ordered):
        if following.entry.header_offset < previous.end:
            raise LimitExceeded(
                "bomb-suspected",
                f"{ctx.name}: entries {previous.entry.index + 1} and {following.entry.index + 1} "
                "overlap, the construction of an overlapping-entry zip bomb",
            )
    return located
