"""Incremental decoders: compressed bytes in, at most one chunk of decoded bytes out per call.

`Decoded` pulls bytes through a gzip, raw deflate, bzip2, xz or LZMA decoder, never asking it for
more than the caller's chunk, so a bomb cannot make a single call allocate much; xz and LZMA
decoders are given a memory limit for their dictionary. Truncated, damaged or trailing data is a
`ContainerError`; a decoder that would need more memory than allowed is `LimitExceeded`.
"""

from __future__ import annotations

import bz2
import lzma
import zlib
from collections.abc import Callable
from typing import Protocol

from vault.ingest.containers import ContainerError
from vault.ingest.containers.model import Context
from vault.ingest.limits import LimitExceeded
from vault.ingest.names import escape

_DECODER_ERRORS = (zlib.error, OSError, EOFError, lzma.LZMAError, ValueError)
_MAX_STALLS = 64


def describe(exc: BaseException) -> str:
    """A library exception in words safe to print (escaped, shortened)."""
    text = escape(str(exc))
    text = text if len(text) <= 160 else text[:160] + "…"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class _Decoder(Protocol):
    @property
    def eof(self) -> bool: ...

    @property
    def unused_data(self) -> bytes: ...

    @property
    def needs_input(self) -> bool: ...

    def decompress(self, data: bytes, max_length: int = -1) -> bytes: ...


class _Zlib:
    """zlib's decompressobj with the needs_input/max_length contract of bz2 and lzma."""

    def __init__(self, wbits: int) -> None:
        self._obj = zlib.decompressobj(wbits)
        self._needs_input = True

    @property
    def eof(self) -> bool:
        return self._obj.eof

    @property
    def unused_data(self) -> bytes:
        return self._obj.unused_data

    @property
    def needs_input(self) -> bool:
        return self._needs_input

    def decompress(self, data: bytes, max_length: int = -1) -> bytes:
        limit = max(max_length, 0)
        out = self._obj.decompress(self._obj.unconsumed_tail + data, limit)
        # Output can still be pending inside zlib when the limit was reached exactly.
        self._needs_input = not self._obj.unconsumed_tail and (limit == 0 or len(out) < limit)
        return out


DecoderFactory = Callable[[], _Decoder]


def gzip_decoder() -> _Decoder:
    """A decoder for one gzip member (header, deflate data, CRC-checked trailer)."""
    return _Zlib(31)


def deflate_decoder() -> _Decoder:
    """A decoder for raw deflate data, as in a zip entry."""
    return _Zlib(-15)


def bzip2_decoder() -> _Decoder:
    """A decoder for one bzip2 stream."""
    return bz2.BZ2Decompressor()


def xz_decoder(memlimit: int) -> DecoderFactory:
    """A factory of decoders for one xz stream, using at most `memlimit` bytes of memory."""
    return lambda: lzma.LZMADecompressor(lzma.FORMAT_XZ, memlimit=memlimit)


def lzma_alone_decoder(memlimit: int) -> DecoderFactory:
    """A factory of decoders for a legacy .lzma (LZMA_Alone) stream."""
    return lambda: lzma.LZMADecompressor(lzma.FORMAT_ALONE, memlimit=memlimit)


class Decoded:
    """The decoded bytes of compressed input, pulled at most `n` bytes at a time.

    With `multi_stream`, streams that follow one another (a multi-member gzip, a parallel bzip2,
    concatenated xz) decode as one, NUL padding between them is skipped, and anything else after
    the last stream is an error; without it, decoding ends with the first stream.
    """

    def __init__(
        self,
        read_input: Callable[[int], bytes],
        factory: DecoderFactory,
        *,
        ctx: Context,
        what: str,
        multi_stream: bool,
    ) -> None:
        self._input = read_input
        self._factory = factory
        self._decoder = factory()
        self._ctx = ctx
        self._what = what
        self._multi = multi_stream
        self._pending = b""
        self._finished = False

    def _fail(self, reason: str, exc: BaseException | None = None) -> ContainerError:
        error = ContainerError(self._ctx.name, f"{self._what}: {reason}")
        if exc is not None:
            error.__cause__ = exc
        return error

    def _next_stream(self) -> bool:
        rest = self._decoder.unused_data + self._pending
        self._pending = b""
        while True:
            rest = rest.lstrip(b"\x00")
            if rest:
                self._pending = rest
                self._decoder = self._factory()
                return True
            rest = self._input(self._ctx.limits.chunk_bytes)
            if not rest:
                return False

    def read(self, n: int) -> bytes:
        """Up to `n` decoded bytes; b"" at the end of the data."""
        stalls = 0
        while not self._finished:
            decoder = self._decoder
            if decoder.eof:
                if not (self._multi and self._next_stream()):
                    self._finished = True
                continue
            data = b""
            if decoder.needs_input:
                data, self._pending = self._pending, b""
                if not data:
                    data = self._input(self._ctx.limits.chunk_bytes)
                    if not data:
                        raise self._fail("the compressed data is truncated")
            try:
                out = decoder.decompress(data, n)
            except lzma.LZMAError as exc:
                if "memory" in str(exc).lower():
                    raise LimitExceeded(
                        "too-large",
                        f"{self._ctx.name}: {self._what} needs more decoder memory than "
                        f"{self._ctx.limits.max_decoder_memory} bytes",
                    ) from exc
                raise self._fail(f"the compressed data is damaged ({describe(exc)})", exc) from exc
            except _DECODER_ERRORS as exc:
                raise self._fail(f"the compressed data is damaged ({describe(exc)})", exc) from exc
            if out:
                return out
            stalls = 0 if data else stalls + 1
            if stalls > _MAX_STALLS:
                raise self._fail("the decoder makes no progress: the data is damaged")
        return b""
