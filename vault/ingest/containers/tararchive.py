"""Tar members (plain, or gzip/bzip2/xz-compressed): listed with tarfile, never extracted.

tarfile parses the headers (ustar, pax, GNU long names, v7, sparse maps); this module decides
what each entry is and what it may do:

- symlinks and hard links are recorded with their escaped target, never followed; a target that
  is absolute or climbs out of the archive is flagged `link-escape`, a hard link to nothing
  before it (or an empty target) `bad-link`; a member whose path runs through an earlier symlink
  (`link -> /tmp`, then `link/pwned`) is flagged `through-symlink`;
- devices and FIFOs are recorded (`special-file`) and have no content;
- a header whose name field goes on after its terminating NUL is flagged `nul-byte`;
- sparse files are flagged `sparse`, and their expansion over the data actually stored counts
  against the ratio limit; entries of unknown type are files (as POSIX says), `unusual-type`.

A compressed tar is read through `DecompressedFile`, whose every decompressed byte counts against
the container's ratio and the intake's budget. tarfile stops quietly at a damaged header; here
that is a `ContainerError` (after the members before it), unless only zeros or nothing follow.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable, Iterator
from typing import IO, BinaryIO, cast

from vault.ingest.containers import ContainerError
from vault.ingest.containers.decoders import (
    DecoderFactory,
    bzip2_decoder,
    describe,
    gzip_decoder,
    xz_decoder,
)
from vault.ingest.containers.model import ContainerKind, Context, Member, MemberKind
from vault.ingest.containers.sniff import is_tar_header
from vault.ingest.containers.streams import (
    DecompressedFile,
    HeaderCap,
    buffered,
    no_content,
    open_stream,
)
from vault.ingest.names import SafePath, escape, link_escapes, safe_member_path

_BLOCK = 512
_KINDS: dict[bytes, MemberKind] = {
    tarfile.REGTYPE: "file",
    tarfile.AREGTYPE: "file",
    tarfile.CONTTYPE: "file",
    tarfile.GNUTYPE_SPARSE: "file",
    tarfile.DIRTYPE: "dir",
    tarfile.SYMTYPE: "symlink",
    tarfile.LNKTYPE: "hardlink",
    tarfile.CHRTYPE: "device",
    tarfile.BLKTYPE: "device",
    tarfile.FIFOTYPE: "fifo",
}
_LEAVING = frozenset({"path-traversal", "absolute-path"})


def _factory(kind: ContainerKind, ctx: Context) -> DecoderFactory | None:
    if kind is ContainerKind.TAR_GZIP:
        return gzip_decoder
    if kind is ContainerKind.TAR_BZIP2:
        return bzip2_decoder
    if kind is ContainerKind.TAR_XZ:
        return xz_decoder(ctx.limits.max_decoder_memory)
    return None


def read(src: BinaryIO, kind: ContainerKind, ctx: Context) -> Iterator[Member]:
    """The members of a tar archive, in archive order."""
    factory = _factory(kind, ctx)
    if factory is None:
        inner = buffered(src)
    else:
        decompressed = DecompressedFile(src, factory, ctx, "the compressed tar stream")
        inner = cast(BinaryIO, io.BufferedReader(decompressed, ctx.limits.chunk_bytes))
    fileobj = HeaderCap(inner, ctx)
    archive = _open(fileobj, ctx)
    walk = _Walk(archive, ctx, compressed=factory is not None)
    first = True
    while True:
        if not first:
            # Forget what members' streams read since: what next() reads is this header's.
            # (tarfile read the first header as it opened: those blocks are the first member's.)
            fileobj.blocks.clear()
        first = False
        try:
            info = archive.next()
        except (tarfile.TarError, EOFError) as exc:
            reason = f"a tar header cannot be read ({describe(exc)})"
            raise ContainerError(ctx.name, reason) from exc
        if info is None:
            break
        # tarfile keeps every header it has read, which would grow with the archive; the walk
        # remembers what it needs itself.
        archive.__dict__["members"].clear()
        yield walk.member(info, hidden_name=_hides_after_nul(list(fileobj.blocks)))
    _check_end(fileobj, archive.offset, ctx)


def _open(fileobj: HeaderCap, ctx: Context) -> tarfile.TarFile:
    try:
        return tarfile.open(
            fileobj=cast(IO[bytes], fileobj),
            mode="r:",
            encoding="utf-8",
            errors="surrogateescape",
        )
    except (tarfile.TarError, EOFError) as exc:
        raise ContainerError(ctx.name, f"not a readable tar archive ({describe(exc)})") from exc


def _check_end(fileobj: HeaderCap, offset: int, ctx: Context) -> None:
    """tarfile ends quietly at a damaged header: tell that apart from the end of the archive.

    The block tarfile last read is the one it stopped at; reading it again would mean seeking
    back, which in a compressed tar can mean decompressing everything again.
    """
    if fileobj.blocks:
        block = fileobj.blocks[-1]
    else:
        fileobj.seek(offset)
        block = fileobj.read(_BLOCK)
    if not block or block.count(0) == len(block) == _BLOCK:
        return
    if len(block) < _BLOCK:
        raise ContainerError(ctx.name, "the archive ends inside a header: it is truncated")
    raise ContainerError(
        ctx.name,
        f"the header at byte {offset} is damaged (bad checksum or fields); "
        "the members after it were not read",
    )


def _hides_after_nul(blocks: list[bytes]) -> bool:
    """Whether a name, link name or prefix field, or a GNU long name, goes on after its NUL.

    Readers disagree on such a name (tarfile and GNU tar stop at the NUL, others do not), so two
    tools can see two different files: worth a flag, though tarfile's reading is the one used.
    """
    fields: list[bytes] = []
    for block, following in zip(blocks, [*blocks[1:], b""], strict=True):
        if len(block) != _BLOCK or not is_tar_header(block):
            continue
        fields += [block[0:100], block[157:257]]
        if block[257:263] == b"ustar\x00":
            fields.append(block[345:500])
        if block[156:157] in (tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK):
            fields.append(following)
    for field in fields:
        end = field.find(b"\x00")
        if end >= 0 and field[end:].strip(b"\x00"):
            return True
    return False


def _key(display: str) -> str:
    return display.casefold()


class _Walk:
    """What one walk through a tar remembers: earlier files and symlinks."""

    def __init__(self, archive: tarfile.TarFile, ctx: Context, *, compressed: bool) -> None:
        self._archive = archive
        self._ctx = ctx
        self._compressed = compressed
        self._symlinks: set[str] = set()
        self._seen: set[str] = set()

    def member(self, info: tarfile.TarInfo, *, hidden_name: bool = False) -> Member:
        ctx = self._ctx
        kind = _KINDS.get(info.type, "file")
        base = safe_member_path(info.name, limits=ctx.limits)
        path = ctx.names.claim(base, is_dir=kind == "dir" or base.is_dir)
        flags = set(path.flags)
        if info.type not in _KINDS:
            flags.add("unusual-type")
        if hidden_name:
            flags.add("nul-byte")
        parts = base.parts
        if any(_key("/".join(parts[:i])) in self._symlinks for i in range(1, len(parts))):
            flags.add("through-symlink")
        link_target = None
        if kind in ("symlink", "hardlink") or info.linkname:
            link_target = escape(info.linkname)
            flags |= self._link_flags(kind, path, info.linkname)
        if kind in ("device", "fifo"):
            flags.add("special-file")
        if info.sparse is not None:
            flags.add("sparse")
        self._seen.add(_key(base.display))
        if kind == "symlink":
            self._symlinks.add(_key(base.display))
        opener = self._opener(info, path.display) if kind == "file" else None
        return Member(
            path=path,
            kind=kind,
            size=info.size,
            link_target=link_target if kind in ("symlink", "hardlink") else None,
            flags=frozenset(flags),
            headers=None,
            open=opener if opener is not None else no_content(ctx, path.display, kind),
        )

    def _link_flags(self, kind: MemberKind, path: SafePath, target: str) -> set[str]:
        if kind == "symlink":
            if not target:
                return {"bad-link"}
            return {"link-escape"} if link_escapes(path, target) else set()
        if kind != "hardlink":
            return {"bad-link"}  # a file, directory or device carrying a link name
        flags: set[str] = set()
        aimed = safe_member_path(target, limits=self._ctx.limits)
        if aimed.flags & _LEAVING:
            flags.add("link-escape")
        if not target or _key(aimed.display) not in self._seen:
            flags.add("bad-link")
        return flags

    def _opener(self, info: tarfile.TarInfo, what: str) -> Callable[[], BinaryIO]:
        ctx = self._ctx
        archive = self._archive
        sparse = cast("list[tuple[int, int]] | None", info.sparse)
        stored = sum(size for _, size in sparse) if sparse is not None else None
        compressed = self._compressed

        def open_member() -> BinaryIO:
            try:
                data = archive.extractfile(info)
            except (tarfile.TarError, EOFError) as exc:
                raise ContainerError(ctx.name, f"{what} cannot be read ({describe(exc)})") from exc
            if data is None:
                raise ContainerError(ctx.name, f"{what} has no content")
            return open_stream(
                data.read,
                ctx,
                what,
                packed=(lambda: stored) if stored is not None else None,
                declared=info.size,
                charge=not compressed,
            )

        return open_member
