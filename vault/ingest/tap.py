"""A read-through stream that keeps an item's first and last bytes for type detection.

Check-in reads each item exactly once; the `Tap` sits between the source and the store and keeps
the head (for `sniff` and libmagic) and a rolling tail (zip directories and PDF trailers live at
the end) in memory, so detection needs no second read and no plaintext on disk. A small item is
kept whole as well (`keep`), so opening it as a container or extracting its text needs no
decryption of what was just encrypted.
"""

from __future__ import annotations

from collections import deque
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
        # The last chunks read, by reference: no copy of the bulk of a large item.
        self._tail: deque[bytes] = deque()
        self._tail_size = 0
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        """Read from the source, keeping what detection needs."""
        data = self._source.read(n)
        if data:
            if not isinstance(data, bytes):
                data = bytes(data)  # held by reference below: must not change under us
            self.size += len(data)
            if self._kept is not None and self.size > self._keep_limit:
                self._kept = None
            elif self._kept is not None:
                self._kept.append(data)
            room = self._head_limit - len(self._head)
            if room > 0:
                self._head += data[:room]
            if len(data) > self._tail_limit:
                data_tail = data[-self._tail_limit :]
                self._tail.clear()
                self._tail.append(data_tail)
                self._tail_size = len(data_tail)
            else:
                self._tail.append(data)
                self._tail_size += len(data)
                while self._tail_size - len(self._tail[0]) >= self._tail_limit:
                    self._tail_size -= len(self._tail.popleft())
        return data

    @property
    def head(self) -> bytes:
        """The first bytes read (at most the head limit)."""
        return bytes(self._head)

    @property
    def tail(self) -> bytes:
        """The last bytes read (at most the tail limit)."""
        return b"".join(self._tail)[-self._tail_limit :]

    @property
    def whole(self) -> bytes | None:
        """Everything read, if it was no more than the keep limit; else None."""
        return None if self._kept is None else b"".join(self._kept)
