"""Zip members: every entry listed, each file's bytes decoded as a bounded stream.

The layout is checked first (`zipdir`): overlapping entries are refused as a zip bomb before any
member is listed. Names are UTF-8 when flag bit 11 (or an Info-ZIP Unicode Path field) says so,
else UTF-8 if they are valid UTF-8, else CP437 as the format specifies.

Stored, deflate, bzip2, LZMA and xz entries are decoded here, a chunk at a time, and checked
against their declared size and CRC. Encrypted entries are never tried with a password: they are
listed with the flag `encrypted` and their stream is the entry's raw bytes as found (the
encryption header included). Entries with a compression method we cannot decode (deflate64,
zstd, PPMd …) are kept the same way, flagged `unsupported-compression`.
"""

from __future__ import annotations

import stat
import struct
import zlib
from collections.abc import Callable, Iterator
from typing import BinaryIO

from vault.errors import VaultError
from vault.ingest.containers import ContainerError
from vault.ingest.containers.decoders import (
    Decoded,
    DecoderFactory,
    bzip2_decoder,
    deflate_decoder,
    lzma_alone_decoder,
    xz_decoder,
)
from vault.ingest.containers.model import ContainerKind, Context, Member, MemberKind
from vault.ingest.containers.streams import SourceView, no_content, open_stream
from vault.ingest.containers.zipdir import LocalEntry, locate, read_directory
from vault.ingest.names import escape, link_escapes

_STORED, _DEFLATED, _BZIP2, _LZMA, _XZ = 0, 8, 12, 14, 95
_DECODED = frozenset({_STORED, _DEFLATED, _BZIP2, _LZMA, _XZ})
_UNIX = 3
_MAX_LINK_BYTES = 4096
_KINDS: dict[int, MemberKind] = {
    stat.S_IFLNK: "symlink",
    stat.S_IFDIR: "dir",
    stat.S_IFCHR: "device",
    stat.S_IFBLK: "device",
    stat.S_IFIFO: "fifo",
    stat.S_IFSOCK: "socket",
}


def read(src: BinaryIO, kind: ContainerKind, ctx: Context) -> Iterator[Member]:
    """The members of a zip archive, in central directory order."""
    entries, cd_start = read_directory(src, ctx)
    for local in locate(src, entries, cd_start, ctx):
        yield _member(src, local, ctx)


def _kind(local: LocalEntry) -> MemberKind:
    entry = local.entry
    if entry.create_system == _UNIX and entry.external_attr >> 16:
        found = _KINDS.get(stat.S_IFMT(entry.external_attr >> 16))
        if found is not None:
            return found
    if entry.name.endswith((b"/", b"\\")) or entry.external_attr & 0x10:
        # A "folder" that carries data would hide it: it is kept as a file, flagged.
        return "file" if entry.size or entry.compressed_size else "dir"
    return "file"


def _member(src: BinaryIO, local: LocalEntry, ctx: Context) -> Member:
    entry = local.entry
    kind = _kind(local)
    path = ctx.safe_path(
        entry.name, is_dir=kind == "dir", encoding_hint=None if entry.utf8 else "cp437"
    )
    what = path.display
    flags = set(path.flags)
    if kind == "file" and entry.name.endswith((b"/", b"\\")):
        flags.add("unusual-type")
    if local.local_name != entry.header_name:
        flags.add("local-name-mismatch")
    if entry.encrypted:
        flags.add("encrypted")
    elif entry.method not in _DECODED:
        flags.add("unsupported-compression")

    def open_member() -> BinaryIO:
        if entry.encrypted or entry.method not in _DECODED:
            return _open_raw(src, local, ctx, what)
        return _open_decoded(src, local, ctx, what)

    link_target = None
    if kind == "symlink":
        target = _link_target(open_member, flags)
        if target is not None:
            link_target = escape(target.decode("utf-8", "surrogateescape"))
            if link_escapes(path, target):
                flags.add("link-escape")
    return Member(
        path=path,
        kind=kind,
        size=entry.size,
        link_target=link_target,
        flags=frozenset(flags),
        headers=None,
        open=open_member if kind == "file" else no_content(ctx, what, kind),
    )


def _link_target(open_member: Callable[[], BinaryIO], flags: set[str]) -> bytes | None:
    try:
        with open_member() as stream:
            target = stream.read(_MAX_LINK_BYTES + 1)
    except VaultError:
        target = None
    if target is None or len(target) > _MAX_LINK_BYTES or b"\x00" in target:
        flags.add("bad-link")
        return None
    return target


def _open_raw(src: BinaryIO, local: LocalEntry, ctx: Context, what: str) -> BinaryIO:
    view = SourceView(src, local.data_offset, local.entry.compressed_size)
    return open_stream(view.read, ctx, what, declared=local.entry.compressed_size)


def _lzma_input(view: SourceView, local: LocalEntry, ctx: Context) -> Callable[[int], bytes]:
    """Zip's LZMA framing (version, properties size, properties) as an LZMA_Alone header."""
    head = view.read(4)
    if len(head) < 4:
        raise ContainerError(ctx.name, f"entry {local.entry.index + 1}: LZMA header truncated")
    (props_size,) = struct.unpack_from("<H", head, 2)
    props = view.read(props_size)
    if props_size != 5 or len(props) != 5:
        raise ContainerError(ctx.name, f"entry {local.entry.index + 1}: LZMA header damaged")
    ends_with_marker = bool(local.entry.flag_bits & 0x2)
    size = b"\xff" * 8 if ends_with_marker else struct.pack("<Q", local.entry.size)
    pending = [props + size]

    def read_input(n: int) -> bytes:
        if pending:
            return pending.pop()
        return view.read(n)

    return read_input


def _open_decoded(src: BinaryIO, local: LocalEntry, ctx: Context, what: str) -> BinaryIO:
    entry = local.entry
    view = SourceView(src, local.data_offset, entry.compressed_size)
    memlimit = ctx.limits.max_decoder_memory
    factories: dict[int, DecoderFactory] = {
        _DEFLATED: deflate_decoder,
        _BZIP2: bzip2_decoder,
        _XZ: xz_decoder(memlimit),
        _LZMA: lzma_alone_decoder(memlimit),
    }
    inner: Callable[[int], bytes] = view.read
    if entry.method != _STORED:
        source = _lzma_input(view, local, ctx) if entry.method == _LZMA else view.read
        decoded = Decoded(source, factories[entry.method], ctx=ctx, what=what, multi_stream=False)
        inner = decoded.read
    crc = [0]

    def read_chunk(n: int) -> bytes:
        data = inner(n)
        crc[0] = zlib.crc32(data, crc[0])
        return data

    def finish(count: int) -> None:
        if count != entry.size:
            raise ContainerError(
                ctx.name, f"{what} holds {count} bytes, not the {entry.size} it declares"
            )
        if crc[0] != entry.crc:
            raise ContainerError(ctx.name, f"{what} fails its CRC check: the zip is damaged")

    return open_stream(read_chunk, ctx, what, packed=view.tell, declared=entry.size, finish=finish)
