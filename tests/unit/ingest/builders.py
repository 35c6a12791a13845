"""Hostile and ordinary containers built in memory, and a walker that opens them as check-in will.

Nothing here touches the filesystem: archives are built into `BytesIO` and walked from bytes.
`walk` plays the pipeline: it sniffs an item, lists its members, reads each file member whole
through its bounded stream, and recurses into members that are containers themselves.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

from vault.errors import VaultError
from vault.ingest.containers import SNIFF_BYTES, ContainerError, Member, members, sniff
from vault.ingest.limits import Budget, LimitExceeded, Limits

MiB = 1024 * 1024


@dataclass
class Seen:
    """One member met during a walk."""

    depth: int
    container: str
    display: str
    raw: str
    kind: str
    flags: frozenset[str]
    link_target: str | None
    data: bytes | None
    headers: dict[str, str] | None


@dataclass
class Walked:
    """What a walk met: members, and the errors that stopped containers or members."""

    seen: list[Seen] = field(default_factory=list)
    errors: list[VaultError] = field(default_factory=list)
    read_bytes: int = 0

    def by_name(self, display: str) -> Seen:
        """The one member with this display path."""
        found = [item for item in self.seen if item.display == display]
        assert len(found) == 1, (display, [item.display for item in self.seen])
        return found[0]

    @property
    def flags(self) -> set[str]:
        """Every member flag met, and every limit flag raised."""
        out: set[str] = set()
        for item in self.seen:
            out |= item.flags
        for error in self.errors:
            if isinstance(error, LimitExceeded):
                out.add(error.flag)
        return out

    def limit_flags(self) -> set[str]:
        """The flags of the limits that tripped."""
        return {error.flag for error in self.errors if isinstance(error, LimitExceeded)}


def read_member(member: Member, keep: bool = True) -> bytes:
    """A member's bytes, read through its stream a chunk at a time."""
    chunks: list[bytes] = []
    with member.open() as stream:
        while True:
            chunk = stream.read(64 * 1024)
            if not chunk:
                break
            if keep:
                chunks.append(chunk)
    return b"".join(chunks)


def drain(member: Member, counted: list[int]) -> None:
    """Read a member's stream to its end, noting the size of each chunk as it comes."""
    with member.open() as stream:
        while chunk := stream.read(64 * 1024):
            counted.append(len(chunk))


def walk(
    data: bytes,
    name: str = "item",
    *,
    limits: Limits | None = None,
    budget: Budget | None = None,
    keep_going: bool = True,
    keep_data: bool = True,
) -> Walked:
    """Open `data` as check-in would, recursing into nested containers.

    With `keep_going`, a member or container that fails is recorded and the walk goes on with
    the rest (as the pipeline does); without it, the first error propagates.
    """
    limits = limits or Limits()
    budget = budget or Budget(limits)
    walked = Walked()
    _walk(data, name, 0, limits, budget, walked, keep_going, keep_data)
    return walked


def _walk(
    data: bytes,
    name: str,
    depth: int,
    limits: Limits,
    budget: Budget,
    walked: Walked,
    keep_going: bool,
    keep_data: bool,
) -> None:
    kind = sniff(data[:SNIFF_BYTES])
    if kind is None:
        return
    try:
        for member in members(
            kind, io.BytesIO(data), name=name, limits=limits, budget=budget, depth=depth
        ):
            content: bytes | None = None
            if member.kind == "file":
                try:
                    content = read_member(member)
                except (ContainerError, LimitExceeded) as error:
                    if not keep_going:
                        raise
                    walked.errors.append(error)
            walked.read_bytes += len(content or b"")
            walked.seen.append(
                Seen(
                    depth=depth,
                    container=name,
                    display=member.path.display,
                    raw=member.path.raw,
                    kind=member.kind,
                    flags=member.flags,
                    link_target=member.link_target,
                    data=content if keep_data else None,
                    headers=dict(member.headers) if member.headers is not None else None,
                )
            )
            if content:
                _walk(
                    content, member.path.display, depth + 1, limits, budget, walked,
                    keep_going, keep_data,
                )  # fmt: skip
    except (ContainerError, LimitExceeded) as error:
        if not keep_going:
            raise
        walked.errors.append(error)


# --- zip -----------------------------------------------------------------------------------


@dataclass
class RawEntry:
    """One entry of a zip written by hand, so that names and offsets can be anything."""

    name: bytes
    data: bytes = b""
    method: int = 0  # 0 stored, 8 deflate
    flag_bits: int = 0
    external_attr: int = 0
    create_system: int = 0
    crc: int | None = None
    size: int | None = None
    central_extra: bytes = b""  # extra fields of the central directory record


def _deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def _local(name: bytes, method: int, flag_bits: int, crc: int, packed: int, size: int) -> bytes:
    fixed = struct.pack(
        "<4s2B4HL2L2H", b"PK\x03\x04", 20, 0, flag_bits, method, 0, 0, crc, packed, size,
        len(name), 0,
    )  # fmt: skip
    return fixed + name


def _record(entry: RawEntry, crc: int, packed: int, size: int, offset: int) -> bytes:
    fields = (
        b"PK\x01\x02", 20, entry.create_system, 20, 0, entry.flag_bits, entry.method, 0, 0,
        crc, packed, size, len(entry.name), len(entry.central_extra), 0, 0, 0,
        entry.external_attr, offset,
    )  # fmt: skip
    return struct.pack("<4s4B4HL2L5H2L", *fields) + entry.name + entry.central_extra


def _end(count: int, size: int, start: int) -> bytes:
    return struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, size, start, 0)


def raw_zip(entries: list[RawEntry], *, offsets: list[int] | None = None) -> bytes:
    """A zip of the given entries; `offsets` overrides where the central directory points."""
    out = io.BytesIO()
    records: list[tuple[RawEntry, int, bytes]] = []
    for entry in entries:
        packed = _deflate(entry.data) if entry.method == 8 else entry.data
        crc = entry.crc if entry.crc is not None else zlib.crc32(entry.data)
        size = entry.size if entry.size is not None else len(entry.data)
        offset = out.tell()
        out.write(_local(entry.name, entry.method, entry.flag_bits, crc, len(packed), size))
        out.write(packed)
        records.append((entry, offset, packed))
    return _central(out, records, offsets)


def _central(
    out: io.BytesIO, records: list[tuple[RawEntry, int, bytes]], offsets: list[int] | None
) -> bytes:
    start = out.tell()
    for index, (entry, offset, packed) in enumerate(records):
        crc = entry.crc if entry.crc is not None else zlib.crc32(entry.data)
        size = entry.size if entry.size is not None else len(entry.data)
        where = offsets[index] if offsets else offset
        out.write(_record(entry, crc, len(packed), size, where))
    out.write(_end(len(records), out.tell() - start, start))
    return out.getvalue()


def std_zip(files: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip written by the standard library."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=method) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def overlapping_zip(copies: int, kernel: bytes) -> bytes:
    """A full-overlap zip bomb: `copies` central directory entries share one local entry."""
    packed = _deflate(kernel)
    crc = zlib.crc32(kernel)
    body = _local(b"k", 8, 0, crc, len(packed), len(kernel)) + packed
    records = b"".join(
        _record(RawEntry(name=f"{i:04d}".encode(), method=8), crc, len(packed), len(kernel), 0)
        for i in range(copies)
    )
    return body + records + _end(copies, len(records), len(body))


def quoted_overlap_zip() -> bytes:
    """Fifield's quoted overlap: entry A's stored data is entry B's whole local record."""
    inner = b"\x00" * 4096
    b_packed = _deflate(inner)
    b_local = _local(b"b", 8, 0, zlib.crc32(inner), len(b_packed), len(inner)) + b_packed
    a_local = _local(b"a", 0, 0, zlib.crc32(b_local), len(b_local), len(b_local))
    out = io.BytesIO()
    out.write(a_local + b_local)
    records = [
        (RawEntry(name=b"a", data=b_local), 0, b_local),
        (RawEntry(name=b"b", data=inner, method=8), len(a_local), b_packed),
    ]
    return _central(out, records, None)


def nested_zip_bomb(levels: int, fan_out: int, leaf_bytes: int) -> bytes:
    """A 42.zip-style nest: each level holds `fan_out` copies of the level below."""
    current = std_zip({"leaf.bin": b"\x00" * leaf_bytes})
    for level in range(levels):
        current = std_zip({f"l{level}-{i}.zip": current for i in range(fan_out)})
    return current


# --- tar and compressed files -----------------------------------------------------------------


def tar_of(
    entries: list[tuple[tarfile.TarInfo, bytes | None]], fmt: int = tarfile.PAX_FORMAT
) -> bytes:
    """A tar of the given headers (and data for regular files)."""
    out = io.BytesIO()
    with tarfile.open(
        fileobj=out, mode="w", format=fmt, encoding="utf-8", errors="surrogateescape"
    ) as archive:
        for info, data in entries:
            if data is not None:
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
            else:
                archive.addfile(info)
    return out.getvalue()


def info(name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "") -> tarfile.TarInfo:
    """A tar header."""
    header = tarfile.TarInfo(name)
    header.type = kind
    header.linkname = linkname
    header.mode = 0o644
    return header


def files_tar(files: dict[str, bytes]) -> bytes:
    """A tar of regular files."""
    return tar_of([(info(name), data) for name, data in files.items()])


COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": lambda data: gzip.compress(data, mtime=0),
    "bzip2": bz2.compress,
    "xz": lambda data: lzma.compress(data, format=lzma.FORMAT_XZ),
}


def gzip_named(data: bytes, fname: bytes) -> bytes:
    """A gzip member whose header carries FNAME."""
    header = b"\x1f\x8b\x08\x08" + b"\x00" * 4 + b"\x02\xff" + fname + b"\x00"
    trailer = struct.pack("<LL", zlib.crc32(data), len(data) & 0xFFFFFFFF)
    return header + _deflate(data) + trailer
