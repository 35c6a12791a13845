"""Bounded streams: every byte a member yields is counted against the limits as it flows.

- `SourceView` is a window on the shared container source with its own position: members'
  streams and the reader's own scanning can interleave without disturbing each other.
- `MemberStream` is what `Member.open()` returns (buffered): it enforces the member's size and
  ratio limits, the container's ratio and the intake's budget on every read, and turns any
  library failure into `ContainerError`.
- `DecompressedFile` is a seekable decompressed view (forward by decoding, backward by starting
  again) for tarfile to read a compressed tar from; `HeaderCap` refuses any single read larger
  than a metadata record may be, so a tar header cannot declare its way to a huge allocation.
"""

from __future__ import annotations

import io
from collections import deque
from collections.abc import Callable
from typing import BinaryIO, cast

from vault.errors import VaultError
from vault.ingest.containers import ContainerError
from vault.ingest.containers.decoders import Decoded, DecoderFactory, describe
from vault.ingest.containers.model import Context
from vault.ingest.limits import LimitExceeded


class SourceView(io.RawIOBase):
    """Bytes `[start, start + length)` of a shared seekable source, with a position of its own."""

    def __init__(self, src: BinaryIO, start: int = 0, length: int | None = None) -> None:
        super().__init__()
        self._src = src
        self._start = start
        self._length = length if length is not None else max(src.seek(0, io.SEEK_END) - start, 0)
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        want = min(len(view), self._length - self._pos)
        if want <= 0:
            return 0
        self._src.seek(self._start + self._pos)
        data = self._src.read(want)
        view[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._pos
        elif whence == io.SEEK_END:
            offset += self._length
        self._pos = max(0, offset)
        return self._pos

    def tell(self) -> int:
        return self._pos


def buffered(src: BinaryIO, *, start: int = 0, length: int | None = None) -> BinaryIO:
    """A buffered, independently positioned reader over part of a shared source."""
    return cast(BinaryIO, io.BufferedReader(SourceView(src, start, length)))


class MemberStream(io.RawIOBase):
    """A member's bytes, counted against every limit as they are read."""

    def __init__(
        self,
        read: Callable[[int], bytes],
        ctx: Context,
        what: str,
        *,
        packed: Callable[[], int] | None = None,
        declared: int | None = None,
        charge: bool = True,
        finish: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__()
        self._read = read
        self._ctx = ctx
        self._what = what
        self._packed = packed
        self._declared = declared
        self._charge = charge
        self._finish = finish
        self._count = 0
        self._ended = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        want = min(len(view), self._ctx.limits.chunk_bytes)
        if self._ended or want == 0:
            return 0
        try:
            data = self._read(want)
        except VaultError:
            raise
        except Exception as exc:
            raise ContainerError(
                self._ctx.name, f"{self._what} cannot be read ({describe(exc)})"
            ) from exc
        if not data:
            self._ended = True
            if self._finish is not None:
                self._finish(self._count)
            return 0
        data = data[:want]
        self._account(len(data))
        view[: len(data)] = data
        return len(data)

    def _bomb(self, why: str) -> LimitExceeded:
        return LimitExceeded("bomb-suspected", f"{self._ctx.name}: {self._what} {why}")

    def _account(self, count: int) -> None:
        limits = self._ctx.limits
        self._count += count
        if self._count > limits.max_member_bytes:
            raise LimitExceeded(
                "too-large",
                f"{self._ctx.name}: {self._what} expands past {limits.max_member_bytes} bytes",
            )
        if self._declared is not None and self._count > self._declared:
            raise self._bomb(f"expands past the {self._declared} bytes it declares")
        packed = self._packed
        if packed is not None and limits.ratio_floor < self._count > limits.max_ratio * max(
            packed(), 1
        ):
            raise self._bomb(f"expands more than {limits.max_ratio} times its packed size")
        if self._charge:
            charge(self._ctx, count)


def charge(ctx: Context, count: int) -> None:
    """Count bytes a container expanded to: its own ratio, then the intake's budget.

    Raises:
        LimitExceeded: `bomb-suspected` past the container's ratio, `too-large` past the budget.
    """
    limits = ctx.limits
    ctx.expanded += count
    if ctx.expanded > limits.ratio_floor and ctx.expanded > limits.max_ratio * max(ctx.size, 1):
        raise LimitExceeded(
            "bomb-suspected",
            f"{ctx.name}: expands more than {limits.max_ratio} times its own size",
        )
    ctx.budget.add_bytes(count, name=ctx.name)


def no_content(ctx: Context, what: str, kind: str) -> Callable[[], BinaryIO]:
    """`Member.open` for a member that is not a file: raises `ContainerError`."""

    def fail() -> BinaryIO:
        raise ContainerError(ctx.name, f"{what} is a {kind}, not a file: it has no content")

    return fail


def open_stream(
    read: Callable[[int], bytes],
    ctx: Context,
    what: str,
    *,
    packed: Callable[[], int] | None = None,
    declared: int | None = None,
    charge: bool = True,
    finish: Callable[[int], None] | None = None,
) -> BinaryIO:
    """A buffered `MemberStream`: what `Member.open()` returns."""
    raw = MemberStream(
        read, ctx, what, packed=packed, declared=declared, charge=charge, finish=finish
    )
    return cast(BinaryIO, io.BufferedReader(raw, buffer_size=ctx.limits.chunk_bytes))


class DecompressedFile(io.RawIOBase):
    """The decompressed bytes of a whole compressed source, seekable for tarfile."""

    def __init__(self, src: BinaryIO, factory: DecoderFactory, ctx: Context, what: str) -> None:
        super().__init__()
        self._src = src
        self._factory = factory
        self._ctx = ctx
        self._what = what
        self._restart()

    def _restart(self) -> None:
        self._input = SourceView(self._src, 0, self._ctx.size)
        self._decoded = Decoded(
            self._input.read, self._factory, ctx=self._ctx, what=self._what, multi_stream=True
        )
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        data = self._decoded.read(min(len(view), self._ctx.limits.chunk_bytes))
        if data:
            self._pos += len(data)
            limits = self._ctx.limits
            ratio = limits.max_ratio * max(self._input.tell(), 1)
            if limits.ratio_floor < self._pos > ratio:
                raise LimitExceeded(
                    "bomb-suspected",
                    f"{self._ctx.name}: decompresses to more than {limits.max_ratio} "
                    "times its compressed size",
                )
            self._ctx.budget.add_bytes(len(data), name=self._ctx.name)
            view[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._pos
        elif whence != io.SEEK_SET:
            raise io.UnsupportedOperation("a decompressed stream has no known end")
        if offset < self._pos:
            self._restart()
        scratch = bytearray(self._ctx.limits.chunk_bytes)
        while self._pos < offset:
            view = memoryview(scratch)[: min(len(scratch), offset - self._pos)]
            if self.readinto(view) == 0:
                break
        return self._pos

    def tell(self) -> int:
        return self._pos


class HeaderCap(io.RawIOBase):
    """Passes reads through to tarfile, refusing any one read larger than a header may be.

    tarfile reads a pax or GNU long-name record whole, sized by what the header declares; this
    stops a header from declaring gigabytes. Member data is read in chunks well under the cap.
    """

    def __init__(self, inner: BinaryIO, ctx: Context) -> None:
        super().__init__()
        self._inner = inner
        self._ctx = ctx
        self._cap = max(ctx.limits.max_header_bytes, ctx.limits.chunk_bytes)
        # The last reads of a header's size or more (headers, long names) since the caller
        # last cleared them.
        self.blocks: deque[bytes] = deque(maxlen=16)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0 or size > self._cap:
            raise ContainerError(
                self._ctx.name,
                f"a tar header declares a metadata record of {size} bytes; "
                f"the limit is {self._ctx.limits.max_header_bytes}",
            )
        data = self._inner.read(size)
        if size >= 512:
            self.blocks.append(data)
        return data

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._inner.seek(offset, whence)

    def tell(self) -> int:
        return self._inner.tell()
