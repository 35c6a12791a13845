"""A read-through stream that keeps an item's first and last bytes for type detection.

Check-in reads each item exactly once; the `Tap` sits between the source and the store and keeps
the head (for `sniff` and libmagic) and a rolling tail (zip directories and PDF trailers live at
the end) in memory, so detection needs no second read and no plaintext on disk. A small item is
kept whole as well (`keep`), so opening it as a container or extracting its text needs no
decryption of what was just encrypted.
"""

from __future__ import annotations

from typing import BinaryIO


class Tap:
    """Wraps a readable stream; `head` and `tail` fill as it is read."""

    def __init__(self, source: BinaryIO, *, head: int, tail: int, keep: int = 0) -> None:
        self._source = source
        self._keep_limit = keep
        self._kept: list[bytes] | None = [] if keep > 0 else None
        self._head_limit = head
        self._tail_limit = tail
        self._head = bytearray()
        self._tail = bytearray()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        """Read from the source, keeping what detection needs."""
        data = self._source.read(n)
        if data:
            self.size += len(data)
            if self._kept is not None and self.size > self._keep_limit:
                self._kept = None
            elif self._kept is not None:
                self._kept.append(data)
            room = self._head_limit - len(self._head)
            if room > 0:
                self._head += data[:room]
            self._tail += data[-self._tail_limit :]
            if len(self._tail) > 2 * self._tail_limit:
                del self._tail[: -self._tail_limit]
        return data

    @property
    def head(self) -> bytes:
        """The first bytes read (at most the head limit)."""
        return bytes(self._head)

    @property
    def tail(self) -> bytes:
        """The last bytes read (at most the tail limit)."""
        return bytes(self._tail[-self._tail_limit :])

    @property
    def whole(self) -> bytes | None:
        """Everything read, if it was no more than the keep limit; else None."""
        return None if self._kept is None else b"".join(self._kept)
