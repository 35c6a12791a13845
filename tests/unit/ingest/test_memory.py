"""Memory stays bounded while large members stream through, whatever the format."""

from __future__ import annotations

import io
import lzma
import tracemalloc
from collections.abc import Callable

import py7zr
import pytest

from vault.ingest.containers import SNIFF_BYTES, members, sniff
from vault.ingest.limits import Budget, Limits

from .builders import COMPRESSORS, MiB, files_tar, std_zip

SIZE = 48 * MiB
# Ratio checks off: these members are large on purpose, not bombs.
LIMITS = Limits(max_ratio=10**9)
# The decoders' own state (an 8 MiB xz/LZMA2 dictionary at most) plus a few chunks; far below
# the member's size, which a reader that buffered the member would need.
PEAK = 12 * MiB


def _seven_zip(data: bytes) -> bytes:
    out = io.BytesIO()
    filters = [{"id": py7zr.FILTER_LZMA2, "preset": 6}]
    with py7zr.SevenZipFile(out, "w", filters=filters) as archive:
        # py7zr compresses its header with a 16 MiB dictionary of its own; a plain header
        # keeps this test about the member's stream.
        archive.set_encoded_header_mode(False)
        archive.writestr(data, "big.bin")
    return out.getvalue()


BUILDERS: dict[str, Callable[[bytes], bytes]] = {
    "zip": lambda data: std_zip({"big.bin": data}),
    "tar.gz": lambda data: COMPRESSORS["gzip"](files_tar({"big.bin": data})),
    "tar.xz": lambda data: lzma.compress(files_tar({"big.bin": data}), preset=6),
    "bzip2": lambda data: COMPRESSORS["bzip2"](data),
    "7z": _seven_zip,
}


@pytest.mark.parametrize("fmt", sorted(BUILDERS))
def test_a_large_member_streams_in_bounded_memory(fmt: str) -> None:
    payload = (b"\x00" * 4000 + b"line of text\n" * 8) * (SIZE // 4104)
    data = BUILDERS[fmt](payload)
    del payload
    kind = sniff(data[:SNIFF_BYTES])
    assert kind is not None
    source = io.BytesIO(data)
    tracemalloc.start()
    try:
        total = 0
        for member in members(
            kind, source, name="big." + fmt, limits=LIMITS, budget=Budget(LIMITS), depth=0
        ):
            with member.open() as stream:
                while chunk := stream.read(64 * 1024):
                    total += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == (SIZE // 4104) * 4104
    assert peak < PEAK, f"{fmt}: peak {peak / MiB:.1f} MiB"
