"""Random access to the plaintext of an age file, without decrypting all of it.

STREAM chunks are sealed independently under their index, so any chunk can be read by seeking to
it. What a random-access reader must not lose is truncation detection: the layout is computed
from the file's length, and the chunk that length says is last is decrypted with the final flag
at construction — a file whose true final chunk was cut off (or that has bytes appended) is
refused before any read. Every other chunk is opened as non-final, so a final chunk in the middle
is refused when it is read. One decrypted chunk is cached; memory does not grow with file size.

This lets the vault hand a zip stored in the vault to `zipfile`, which must seek, with no
plaintext on disk. The source stream is borrowed unless `close_source` hands it over.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, BinaryIO

from vault.age.decrypt import unwrap_file_key
from vault.age.errors import HeaderError, PayloadError
from vault.age.protocols import Identity
from vault.age.stream import (
    CHUNK_SIZE,
    ENCRYPTED_CHUNK_SIZE,
    NONCE_SIZE,
    StreamCipher,
    layout,
    payload_key,
)

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer


class ChunkReader(io.RawIOBase, BinaryIO):
    """A read-only, seekable view of an age file's plaintext."""

    def __init__(
        self, src: BinaryIO, identities: Sequence[Identity], *, close_source: bool = False
    ) -> None:
        """Authenticate the header and the final chunk of the age file in `src`.

        Args:
            src: a seekable stream positioned at the start of the age file, which runs to the
                end of the stream.
            identities: tried in order; the first that unwraps the file key is used.
            close_source: close `src` when the reader is closed (not if construction fails).

        Raises:
            HeaderError, NoIdentityMatch, HeaderMACError: from the header.
            PayloadError: the payload is truncated, extended, or its final chunk is tampered.
        """
        super().__init__()
        self._close_source = False
        start = src.tell()
        file_key, header, _ = unwrap_file_key(src, identities)
        src.seek(start + header.size)
        nonce = src.read(NONCE_SIZE)
        if len(nonce) != NONCE_SIZE:
            raise HeaderError("malformed age header")
        self._src = src
        self._payload_start = start + header.size + NONCE_SIZE
        self._layout = layout(src.seek(0, os.SEEK_END) - self._payload_start)
        self._cipher = StreamCipher(payload_key(file_key, nonce))
        self._pos = 0
        self._cached: tuple[int, bytes] = (-1, b"")
        self._chunk(self._layout.chunks - 1)
        # Only now: a reader that failed to open must not close what the caller still owns.
        self._close_source = close_source

    @property
    def size(self) -> int:
        """The length of the plaintext."""
        return self._layout.plaintext_size

    @property
    def name(self) -> str:
        """The source's name, when it has one."""
        return str(getattr(self._src, "name", ""))

    @property
    def mode(self) -> str:
        """Always "rb"."""
        return "rb"

    def _chunk(self, index: int) -> bytes:
        if self._cached[0] == index:
            return self._cached[1]
        size = self._layout.encrypted_size(index)
        self._src.seek(self._payload_start + index * ENCRYPTED_CHUNK_SIZE)
        data = self._src.read(size)
        last = index == self._layout.chunks - 1
        plaintext = self._cipher.open(index, last, data) if len(data) == size else None
        if plaintext is None:
            raise PayloadError("age payload authentication failed")
        self._cached = (index, plaintext)
        return plaintext

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed age reader")

    def readable(self) -> bool:
        """True: this reader reads."""
        self._check_open()
        return True

    def seekable(self) -> bool:
        """True: this reader seeks."""
        self._check_open()
        return True

    def writable(self) -> bool:
        """False: the plaintext is read-only."""
        self._check_open()
        return False

    def tell(self) -> int:
        """The current plaintext position."""
        self._check_open()
        return self._pos

    def seek(self, offset: int, whence: int = os.SEEK_SET, /) -> int:
        """Move to a plaintext position; past the end is allowed and reads nothing.

        Raises:
            ValueError: a negative resulting position or an unknown `whence`.
        """
        self._check_open()
        bases = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: self.size}
        if whence not in bases:
            raise ValueError("invalid whence")
        position = bases[whence] + offset
        if position < 0:
            raise ValueError("negative seek position")
        self._pos = position
        return position

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        """Fill `buffer` from the current position, across chunks, up to the end.

        Returns:
            The number of bytes read; 0 at or past the end.

        Raises:
            PayloadError: a chunk on the way does not authenticate.
        """
        self._check_open()
        view = memoryview(buffer).cast("B")
        filled = 0
        while filled < len(view) and self._pos < self.size:
            index, offset = divmod(self._pos, CHUNK_SIZE)
            piece = self._chunk(index)[offset : offset + len(view) - filled]
            view[filled : filled + len(piece)] = piece
            filled += len(piece)
            self._pos += len(piece)
        return filled

    def read(self, size: int | None = -1, /) -> bytes:
        """Read up to `size` bytes (all that remain if negative or None)."""
        self._check_open()
        remaining = max(self.size - self._pos, 0)
        # Never allocate more than what is left, whatever size a hostile container asks for.
        want = remaining if size is None or size < 0 else min(size, remaining)
        buffer = bytearray(want)
        return bytes(buffer[: self.readinto(buffer)])

    def readall(self) -> bytes:
        """Read everything from the current position to the end."""
        return self.read(-1)

    def close(self) -> None:
        """Drop the cached plaintext, and close the source if it was handed over."""
        self._cached = (-1, b"")
        if not self.closed and self._close_source:
            self._src.close()
        super().close()

    def __enter__(self) -> ChunkReader:
        self._check_open()
        return self
