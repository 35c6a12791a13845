"""Fuzzing the container readers the way check-in uses them: sniffed, nested, edited.

The unit properties (`tests/unit/ingest/test_properties.py`) overwrite bytes of seven valid
containers and read them with the reader of their original kind. These take every archive and
mailbox the ingest tests build (zip, tar in every compression, gzip/bzip2/xz files, 7z, e-mail,
mbox, nested containers, hostile names and links), edit them structurally — insertions,
deletions, duplicated ranges, truncation, two containers spliced together — and open the result
as check-in does: sniffed by its bytes, recursing into every member that is a container itself,
reading every member stream to its end, all under one intake budget. Properties:

- nothing but `ContainerError` or `LimitExceeded` ever escapes (the walker lets any other
  exception through, and the test fails on it);
- the bytes expanded stay within the intake's budget;
- no member path is absolute or climbs out with `..`.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.security.mutations import FUZZ, Mutation, edit_lists, mutate
from tests.unit.ingest.builders import scenarios
from tests.unit.ingest.walker import walk
from vault.ingest.containers import message_headers
from vault.ingest.limits import Limits

# The bombs are left to the unit tests: each costs seconds to defuse, and edits only shrink them.
CORPUS = {
    name: data
    for name, data in scenarios().items()
    if name not in ("42.zip", "overlap.zip", "zeros.zip")
}
LIMITS = Limits(max_total_bytes=8 * 1024 * 1024, max_members=2_000, max_message_bytes=1 << 20)
names = st.sampled_from(sorted(CORPUS))


def _open_as_checkin_does(data: bytes) -> None:
    walked = walk(data, "fuzzed", limits=LIMITS, keep_data=False)
    assert walked.read_bytes <= LIMITS.max_total_bytes
    for seen in walked.seen:
        parts = seen.display.split("/")
        assert not seen.display.startswith("/"), seen.display
        assert ".." not in parts, seen.display


@FUZZ
@given(name=names, edits=edit_lists)
def test_an_edited_container_is_read_safely(name: str, edits: list[Mutation]) -> None:
    _open_as_checkin_does(mutate(CORPUS[name], edits))


@FUZZ
@given(first=names, second=names, cut=st.integers(0, 1 << 16), at=st.integers(0, 1 << 16))
def test_two_containers_spliced_are_read_safely(first: str, second: str, cut: int, at: int) -> None:
    head, tail = CORPUS[first], CORPUS[second]
    _open_as_checkin_does(head[: cut % (len(head) + 1)] + tail[at % (len(tail) + 1) :])


@FUZZ
@given(name=st.sampled_from(["mail.eml", "three.mbox"]), edits=edit_lists)
def test_edited_mail_headers_are_read_safely(name: str, edits: list[Mutation]) -> None:
    import io

    from vault.ingest.containers import ContainerError

    try:
        headers = message_headers(io.BytesIO(mutate(CORPUS[name], edits)), limits=LIMITS)
    except ContainerError:
        return
    for key, value in headers.items():
        assert "\x1b" not in key + value
