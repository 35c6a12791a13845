"""Property: whatever bytes arrive, detection answers with a well-formed Detection and never raises.

Random bytes are prefixed, some of the time, with the signatures the content rules key on (zip,
OLE2, PDF, 7z, RAR, PE), so the rules' parsers meet malformed structures, not just noise.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vault.ingest.detect import Detection, Detector, Sample
from vault.ingest.flags import FLAGS, TYPE_UNKNOWN
from vault.ingest.flags_rules import compute_flags

SIGNATURES = [
    b"",
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
    b"%PDF-1.7\n",
    b"7z\xbc\xaf\x27\x1c",
    b"Rar!\x1a\x07\x00",
    b"Rar!\x1a\x07\x01\x00",
    b"MZ",
    b"{\\rtf1",
    b"\x30\x80",
]
NAMES = ["a.docx", "a.doc", "a.pdf", "a.zip", "a.txt", "noextension", "a.7z", "a.exe"]

contents = st.builds(
    lambda sig, body: sig + body,
    st.sampled_from(SIGNATURES),
    st.binary(max_size=4096),
)


@pytest.fixture(scope="module")
def detector() -> Iterator[Detector]:
    with Detector() as pool:
        yield pool


def check(detection: Detection) -> None:
    assert TYPE_UNKNOWN not in detection.flags, detection
    assert detection.flags <= FLAGS.keys()
    assert "/" in detection.mime
    assert detection.description.isprintable()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=contents, name=st.sampled_from(NAMES))
def test_random_bytes_never_make_detect_raise(detector: Detector, data: bytes, name: str) -> None:
    check(detector.detect(Sample(name, data, data[-1024:], len(data))))


@settings(max_examples=300, deadline=None)
@given(head=contents, tail=st.binary(max_size=2048), extra=st.integers(0, 1 << 40))
def test_rules_survive_head_and_tail_of_a_large_item(head: bytes, tail: bytes, extra: int) -> None:
    # A large item: head and tail are disjoint pieces, and offsets in them can point anywhere.
    size = len(head) + len(tail) + extra
    found = compute_flags("a.docx", head, tail, size, "application/octet-stream", "data")
    assert found <= FLAGS.keys()
    assert TYPE_UNKNOWN not in found
