"""The check-in tap: head, tail, and a small item kept whole."""

from __future__ import annotations

import io

from vault.ingest.tap import Tap


def drain(tap: Tap, step: int) -> bytes:
    out = b""
    while chunk := tap.read(step):
        out += chunk
    return out


def test_a_small_item_is_kept_whole() -> None:
    data = bytes(range(256)) * 10
    tap = Tap(io.BytesIO(data), head=16, tail=16, keep=len(data))
    assert drain(tap, 100) == data
    assert tap.whole == data
    assert (tap.head, tap.tail) == (data[:16], data[-16:])


def test_an_item_past_the_keep_limit_is_not_kept() -> None:
    data = b"x" * 1000
    tap = Tap(io.BytesIO(data), head=16, tail=16, keep=999)
    assert drain(tap, 100) == data
    assert tap.whole is None


def test_nothing_is_kept_without_a_limit() -> None:
    tap = Tap(io.BytesIO(b"abc"), head=16, tail=16)
    drain(tap, 2)
    assert tap.whole is None


def test_head_and_tail_are_exact_whatever_the_read_size() -> None:
    data = bytes(range(256)) * 7
    for step in (1, 3, 16, 17, 50, 100, 5000):
        for limit in (1, 16, 50, 4096):
            tap = Tap(io.BytesIO(data), head=limit, tail=limit)
            assert drain(tap, step) == data
            assert (tap.head, tap.tail) == (data[:limit], data[-limit:]), (step, limit)


def test_a_mutable_chunk_from_the_source_is_copied_before_it_is_kept() -> None:
    chunk = bytearray(b"abcd")

    class Reuses(io.RawIOBase):
        reads = 0

        def read(self, n: int = -1) -> bytearray:
            self.reads += 1
            return chunk if self.reads == 1 else bytearray()

    tap = Tap(Reuses(), head=2, tail=4)  # type: ignore[arg-type]
    drain(tap, 4)
    chunk[:] = b"zzzz"
    assert tap.tail == b"abcd"
