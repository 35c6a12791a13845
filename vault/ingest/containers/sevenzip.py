"""7z members, through py7zr: its header parser, and its folder decoders driven a chunk at a time.

py7zr's own extraction writes to disk or to whole in-memory buffers; here its header parser lists
the entries and each folder (a run of compressed data, shared by every file of a solid block) is
decoded by a cursor that is asked for at most one chunk per read. A file's stream moves its
folder's cursor to the file's offset (decoding and discarding what lies before, or starting the
folder again if it has gone past), so members read in archive order decode each folder once.

- A 7z whose headers are encrypted hides even its member names: `ContainerError` flagged
  `encrypted`, at once, without trying any password.
- Encrypted folders: their files are listed, flagged `encrypted`; each one's stream is the raw
  packed bytes of its folder, as found.
- Decoder dictionaries larger than `Limits.max_decoder_memory` are refused (`too-large`) before
  any memory is taken, the encoded header's included; py7zr's own caps on header size and
  entry count are set from the limits.
"""

from __future__ import annotations

import io
import stat
import struct
import zlib
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

import py7zr
import py7zr.archiveinfo
import py7zr.compressor
import py7zr.exceptions

from vault.ingest.containers import ContainerError
from vault.ingest.containers.decoders import describe
from vault.ingest.containers.model import ContainerKind, Context, Member, MemberKind
from vault.ingest.containers.streams import SourceView, buffered, charge, no_content, open_stream
from vault.ingest.limits import LimitExceeded
from vault.ingest.names import escape, link_escapes

_LZMA1, _LZMA2, _PPMD = b"\x03\x01\x01", b"\x21", b"\x03\x04\x01"
_MAX_LINK_BYTES = 4096
_DEFAULT_MAX_HEADER = py7zr.archiveinfo.MAX_HEADER_SIZE
_DEFAULT_MAX_FILES = py7zr.archiveinfo.MAX_NUMFILES


def _dictionary_size(coder: dict[str, Any]) -> int:
    method, props = coder.get("method", b""), coder.get("properties") or b""
    if method == _LZMA1 and len(props) >= 5:
        return int.from_bytes(props[1:5], "little")
    if method == _LZMA2 and props:
        bits = min(props[0], 40)
        return (2 | (bits & 1)) << (bits // 2 + 11)
    if method == _PPMD and len(props) >= 5:
        return int.from_bytes(props[1:5], "little")
    return 0


class _Folder:
    """A decoding cursor over one folder's packed data."""

    def __init__(self, src: BinaryIO, folder: Any, start: int, packed: int, ctx: Context) -> None:
        self._src = src
        self._folder = folder
        self._start = start
        self._packed = packed
        self._ctx = ctx
        self.encrypted = bool(py7zr.compressor.SupportedMethods.needs_password(folder.coders))
        self.position = 0
        self._decoder: Any = None
        self._view = SourceView(src, start, packed)

    def raw(self) -> SourceView:
        """The folder's packed bytes, as found."""
        return SourceView(self._src, self._start, self._packed)

    @property
    def consumed(self) -> int:
        """Packed bytes read so far in this pass."""
        return self._view.tell()

    def _restart(self) -> None:
        _check_dictionaries([self._folder], self._ctx, "a 7z folder")
        self._view = SourceView(self._src, self._start, self._packed)
        self._decoder = py7zr.compressor.SevenZipDecompressor(
            self._folder.coders,
            self._packed,
            self._folder.unpacksizes,
            self._folder.crc,
            None,
            self._ctx.limits.chunk_bytes,
        )
        self.position = 0

    def read(self, n: int) -> bytes:
        """Up to `n` bytes from the cursor's position on."""
        if self._decoder is None:
            self._restart()
        before = self._view.tell()
        data: bytes = bytes(self._decoder.decompress(self._view, n))
        if not data and self._view.tell() == before:
            raise ContainerError(self._ctx.name, "7z data ends early: truncated or damaged")
        self.position += len(data)
        charge(self._ctx, len(data))
        return data

    def seek(self, offset: int) -> None:
        """Move to `offset` in the folder's decoded data."""
        if self._decoder is None or self.position > offset:
            self._restart()
        while self.position < offset:
            self.read(min(self._ctx.limits.chunk_bytes, offset - self.position))


def _check_dictionaries(folders: Any, ctx: Context, what: str) -> None:
    for folder in folders:
        for coder in folder.coders:
            needed = _dictionary_size(coder)
            if needed > ctx.limits.max_decoder_memory:
                raise LimitExceeded(
                    "too-large",
                    f"{ctx.name}: {what} needs a {needed}-byte decoder dictionary; "
                    f"the limit is {ctx.limits.max_decoder_memory}",
                )


def _check_encoded_header(src: BinaryIO, ctx: Context) -> None:
    """Refuse an encoded (compressed) header whose decoder would need too much memory.

    py7zr decodes the header as it opens the archive, before any check of ours could run.
    """
    signature = _read_at(src, 0, 32)
    if len(signature) < 32:
        return  # py7zr says what is wrong
    offset, size = struct.unpack_from("<QQ", signature, 12)
    if size < 2 or 32 + offset + size > ctx.size:
        return
    header = _read_at(src, 32 + offset, min(size, ctx.limits.max_header_bytes))
    if header[:1] != b"\x17":
        return
    try:
        streams = py7zr.archiveinfo.HeaderStreamsInfo.retrieve(io.BytesIO(header[1:]))
        folders = list(streams.unpackinfo.folders)
    except Exception:  # damaged: py7zr will say so when it opens the archive
        return
    _check_dictionaries(folders, ctx, "the 7z header")


def _read_at(src: BinaryIO, offset: int, length: int) -> bytes:
    src.seek(offset)
    return src.read(length)


def _open(src: BinaryIO, ctx: Context) -> py7zr.SevenZipFile:
    _check_encoded_header(src, ctx)
    room = max(ctx.limits.max_members - ctx.budget.members, 0)
    py7zr.archiveinfo.MAX_HEADER_SIZE = min(_DEFAULT_MAX_HEADER, ctx.limits.max_index_bytes)
    py7zr.archiveinfo.MAX_NUMFILES = min(_DEFAULT_MAX_FILES, room)
    try:
        return py7zr.SevenZipFile(buffered(src), mode="r")
    except py7zr.exceptions.PasswordRequired as exc:
        raise ContainerError(
            ctx.name,
            "a 7z archive with encrypted headers: even its member names are hidden",
            flags=frozenset({"encrypted"}),
            hint="it is kept whole; open it by hand with the password on an isolated machine",
        ) from exc
    except Exception as exc:  # py7zr raises many types on damaged input
        if "numfiles" in str(exc):
            raise LimitExceeded(
                "too-many-members", f"{ctx.name}: lists more entries than the intake has room for"
            ) from exc
        raise ContainerError(ctx.name, f"not a readable 7z archive ({describe(exc)})") from exc
    finally:
        py7zr.archiveinfo.MAX_HEADER_SIZE = _DEFAULT_MAX_HEADER
        py7zr.archiveinfo.MAX_NUMFILES = _DEFAULT_MAX_FILES


def _folders(archive: py7zr.SevenZipFile, src: BinaryIO, ctx: Context) -> dict[int, _Folder]:
    streams = archive.header.main_streams
    if streams is None:
        return {}
    positions = streams.packinfo.packpositions
    cursors: dict[int, _Folder] = {}
    for index, folder in enumerate(streams.unpackinfo.folders):
        start = archive.afterheader + positions[index]
        packed = positions[index + 1] - positions[index]
        if start + packed > ctx.size or packed < 0:
            raise ContainerError(ctx.name, "7z packed data lies past the end of the file")
        cursors[id(folder)] = _Folder(src, folder, start, packed, ctx)
    return cursors


def _kind(entry: Any) -> MemberKind:
    if entry.is_directory:
        return "dir"
    if entry.is_symlink:
        return "symlink"
    if entry.is_socket:
        return "socket"
    mode = entry.posix_mode
    if mode is not None and entry.st_fmt is not None:
        if stat.S_ISFIFO(entry.st_fmt):
            return "fifo"
        if stat.S_ISCHR(entry.st_fmt) or stat.S_ISBLK(entry.st_fmt):
            return "device"
    return "file"


def read(src: BinaryIO, kind: ContainerKind, ctx: Context) -> Iterator[Member]:
    """The members of a 7z archive, in archive order."""
    archive = _open(src, ctx)
    cursors = _folders(archive, src, ctx)
    offsets: dict[int, int] = {}
    for entry in archive.files:
        cursor = None if entry.emptystream else cursors.get(id(entry.folder))
        offset = 0
        if cursor is not None:
            offset = offsets.get(id(entry.folder), 0)
            offsets[id(entry.folder)] = offset + entry.uncompressed
        yield _member(entry, cursor, offset, ctx)


def _member(entry: Any, cursor: _Folder | None, offset: int, ctx: Context) -> Member:
    kind = _kind(entry)
    path = ctx.safe_path(str(entry.filename), is_dir=kind == "dir")
    flags = set(path.flags)
    if cursor is not None and cursor.encrypted:
        flags.add("encrypted")
    size = 0 if cursor is None else int(entry.uncompressed)
    opener = _opener(cursor, offset, size, entry.crc32, ctx, path.display)
    link_target = None
    if kind == "symlink":
        link_target = _link_target(opener, flags)
        if link_target is not None and link_escapes(path, link_target):
            flags.add("link-escape")
    return Member(
        path=path,
        kind=kind,
        size=size,
        link_target=escape(link_target) if link_target is not None else None,
        flags=frozenset(flags),
        headers=None,
        open=opener if kind == "file" else no_content(ctx, path.display, kind),
    )


def _link_target(opener: Callable[[], BinaryIO], flags: set[str]) -> str | None:
    try:
        with opener() as stream:
            data = stream.read(_MAX_LINK_BYTES + 1)
    except (ContainerError, LimitExceeded):
        data = None
    if data is None or len(data) > _MAX_LINK_BYTES or "encrypted" in flags:
        flags.add("bad-link")
        return None
    return data.decode("utf-8", "surrogateescape")


def _opener(
    cursor: _Folder | None, offset: int, size: int, crc: int | None, ctx: Context, what: str
) -> Callable[[], BinaryIO]:
    def open_member() -> BinaryIO:
        if cursor is None:
            return open_stream(lambda n: b"", ctx, what, declared=0)
        if cursor.encrypted:
            return open_stream(cursor.raw().read, ctx, what)
        state = {"done": 0, "crc": 0, "packed": -1}

        def read_chunk(n: int) -> bytes:
            want = min(n, size - state["done"])
            if want <= 0:
                return b""
            if state["packed"] < 0:
                state["packed"] = cursor.consumed
            cursor.seek(offset + state["done"])
            data = cursor.read(want)
            state["done"] += len(data)
            state["crc"] = zlib.crc32(data, state["crc"])
            return data

        def finish(count: int) -> None:
            if count != size:
                raise ContainerError(ctx.name, f"{what} holds {count} bytes, not {size}")
            if crc is not None and state["crc"] != crc:
                raise ContainerError(ctx.name, f"{what} fails its CRC check: the 7z is damaged")

        def packed() -> int:
            return cursor.consumed - max(state["packed"], 0)

        return open_stream(
            read_chunk, ctx, what, packed=packed, declared=size, charge=False, finish=finish
        )

    return open_member
