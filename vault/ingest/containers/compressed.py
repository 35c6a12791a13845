"""A gzip, bzip2 or xz file: one member, or a tar if that is what it holds.

The first decompressed block is looked at (bounded) whatever `sniff` said: a tar inside is read
as a compressed tar. Otherwise the one member is named after the gzip header's FNAME field if it
has one (it may carry `../` or control characters: it goes through `safe_member_path` like any
name), else after the container's name minus its suffix (`report.txt.gz` → `report.txt`,
`x.tgz` → `x.tar`). Concatenated streams (a multi-member gzip, parallel bzip2) decode as one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from vault.errors import VaultError
from vault.ingest.containers.decoders import (
    Decoded,
    DecoderFactory,
    bzip2_decoder,
    gzip_decoder,
    xz_decoder,
)
from vault.ingest.containers.model import ContainerKind, Context, Member
from vault.ingest.containers.sniff import is_tar_header
from vault.ingest.containers.streams import SourceView, open_stream

_TAR_OF = {
    ContainerKind.GZIP: ContainerKind.TAR_GZIP,
    ContainerKind.BZIP2: ContainerKind.TAR_BZIP2,
    ContainerKind.XZ: ContainerKind.TAR_XZ,
}
_SUFFIXES = {
    ".gz": "",
    ".gzip": "",
    ".tgz": ".tar",
    ".taz": ".tar",
    ".bz2": "",
    ".bz": "",
    ".tbz": ".tar",
    ".tbz2": ".tar",
    ".tb2": ".tar",
    ".xz": "",
    ".txz": ".tar",
}
_FEXTRA, _FNAME = 0x04, 0x08
_MAX_FNAME = 1024


def _factory(kind: ContainerKind, ctx: Context) -> DecoderFactory:
    if kind is ContainerKind.GZIP:
        return gzip_decoder
    if kind is ContainerKind.BZIP2:
        return bzip2_decoder
    return xz_decoder(ctx.limits.max_decoder_memory)


def _holds_tar(src: BinaryIO, factory: DecoderFactory, ctx: Context) -> bool:
    decoded = Decoded(
        SourceView(src, 0, ctx.size).read, factory, ctx=ctx, what="the head", multi_stream=True
    )
    head = b""
    try:
        while len(head) < 512:
            data = decoded.read(512 - len(head))
            if not data:
                break
            head += data
    except VaultError:
        return False  # damaged: the member's own stream will say so
    return is_tar_header(head)


def gzip_name(src: BinaryIO) -> bytes | None:
    """The FNAME field of a gzip header, if it has one (RFC 1952 §2.3)."""
    src.seek(0)
    head = src.read(10 + 2 + 0xFFFF + _MAX_FNAME)
    if len(head) < 10 or not head[3] & _FNAME:
        return None
    position = 10
    if head[3] & _FEXTRA:
        if len(head) < 12:
            return None
        position += 2 + int.from_bytes(head[10:12], "little")
    end = head.find(b"\x00", position, position + _MAX_FNAME)
    return head[position:end] if end > position else None


def stripped_name(name: str) -> str:
    """The container's last path component without its compression suffix."""
    last = name.replace("\\", "/").rsplit("/", 1)[-1]
    lowered = last.lower()
    for suffix, replacement in _SUFFIXES.items():
        if lowered.endswith(suffix) and len(last) > len(suffix):
            return last[: -len(suffix)] + replacement
    return last


def read(src: BinaryIO, kind: ContainerKind, ctx: Context) -> Iterator[Member]:
    """The one member of a compressed file, or the members of the tar it holds."""
    factory = _factory(kind, ctx)
    if _holds_tar(src, factory, ctx):
        from vault.ingest.containers import tararchive

        yield from tararchive.read(src, _TAR_OF[kind], ctx)
        return
    fname = gzip_name(src) if kind is ContainerKind.GZIP else None
    path = ctx.safe_path(fname if fname is not None else stripped_name(ctx.source))
    what = path.display

    def open_member() -> BinaryIO:
        view = SourceView(src, 0, ctx.size)
        decoded = Decoded(view.read, factory, ctx=ctx, what=what, multi_stream=True)
        return open_stream(decoded.read, ctx, what, packed=view.tell)

    yield Member(
        path=path,
        kind="file",
        size=None,
        link_target=None,
        flags=path.flags,
        headers=None,
        open=open_member,
    )
