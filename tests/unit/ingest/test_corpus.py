"""The shared corpus, read only through the code under test, with every limit in place.

Every corpus file that sniffs as a container is opened recursively (each member read whole
through its bounded stream): it must complete or fail with ContainerError/LimitExceeded, within a
deadline. The hostile archives get the flags or errors their manifest descriptions imply.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from vault.ingest.containers import SNIFF_BYTES, ContainerError, sniff
from vault.ingest.limits import LimitExceeded, Limits

from .walker import Walked, walk

DEADLINE_SECONDS = 20.0
LIMITS = Limits(max_depth=5, max_total_bytes=256 * 1024 * 1024)
SKIPPED = {"MANIFEST.tsv", "README.md"}


def corpus_files(corpus_dir: Path) -> list[Path]:
    """Every corpus file (not the manifest, README or licence texts), in a stable order."""
    return sorted(
        path
        for path in corpus_dir.rglob("*")
        if path.is_file() and path.name not in SKIPPED and "LICENSES" not in path.parts
    )


def test_every_container_in_the_corpus_completes_or_fails_cleanly(corpus_dir: Path) -> None:
    opened = 0
    problems: list[str] = []
    for path in corpus_files(corpus_dir):
        data = path.read_bytes()
        if sniff(data[:SNIFF_BYTES]) is None:
            continue
        opened += 1
        started = time.monotonic()
        try:
            walk(data, path.name, limits=LIMITS)
        except Exception as error:  # anything but the two expected errors is a defect
            problems.append(f"{path.relative_to(corpus_dir)}: {type(error).__name__}: {error}")
        elapsed = time.monotonic() - started
        if elapsed > DEADLINE_SECONDS:
            problems.append(f"{path.relative_to(corpus_dir)}: took {elapsed:.1f}s")
    assert problems == []
    assert opened > 100  # the corpus really was there and read


def _open(corpus_dir: Path, relative: str, limits: Limits = LIMITS) -> Walked:
    data = (corpus_dir / relative).read_bytes()
    assert sniff(data[:SNIFF_BYTES]) is not None, relative
    return walk(data, Path(relative).name, limits=limits)


def _container_errors(walked: Walked) -> list[str]:
    return [error.reason for error in walked.errors if isinstance(error, ContainerError)]


def check_path_traversal(walked: Walked) -> None:
    member = walked.by_name("etc/file.txt")
    assert "path-traversal" in member.flags
    assert member.raw == "../../../etc/file.txt"
    assert not walked.errors


def check_symlink_escape(walked: Walked) -> None:
    link = walked.by_name("escaped_link")
    assert (link.kind, link.link_target) == ("symlink", "/etc/passwd")
    assert "link-escape" in link.flags
    assert link.data is None


def check_quine(walked: Walked) -> None:
    assert walked.limit_flags() == {"too-deep"}
    assert max(item.depth for item in walked.seen) == LIMITS.max_depth - 1


def check_duplicate_names(walked: Walked) -> None:
    renamed = walked.by_name("xl/worksheets/sheet1 (2).xml")
    assert "name-collision" in renamed.flags
    assert renamed.raw == "xl/worksheets/sheet1.xml"
    assert "name-collision" not in walked.by_name("xl/worksheets/sheet1.xml").flags


def check_empty_name(walked: Walked) -> None:
    assert [(item.display, "empty-name" in item.flags) for item in walked.seen] == [
        ("(unnamed)", True)
    ]


def check_bad_checksum(walked: Walked) -> None:
    assert [item.display for item in walked.seen] == ["one-byte.txt"]
    assert len(_container_errors(walked)) == 1
    assert "damaged" in _container_errors(walked)[0]


def check_invalid_links(walked: Walked) -> None:
    hardlink = walked.by_name("hardlink-2")
    assert (hardlink.kind, hardlink.link_target) == ("hardlink", "")
    assert "bad-link" in hardlink.flags
    assert "bad-link" in walked.by_name("hardlink-1").flags  # a file carrying a link name
    assert walked.by_name("symlink").link_target == "hardlink-2"


def check_null_byte(walked: Walked) -> None:
    # The NUL ends the GNU long name, as the format says; nothing hides after it.
    names = [item.display for item in walked.seen]
    assert names[1].endswith("/this_is_a_really_long_tgz_file_with_a_lot_of_characters.tgz")
    assert walked.seen[2].depth == 1  # the .tgz inside is opened in turn
    assert not walked.errors


def check_trailing_slash(walked: Walked) -> None:
    assert [item.kind for item in walked.seen] == ["dir", "file", "file"]
    assert not any("name-collision" in item.flags for item in walked.seen)
    assert not walked.errors


def check_missing_end_blocks(walked: Walked) -> None:
    assert [item.display for item in walked.seen] == ["a", "b", "c"]
    assert not walked.errors


def check_corrupt_zip(walked: Walked) -> None:
    assert walked.seen == []
    assert len(_container_errors(walked)) == 1
    assert "central directory" in _container_errors(walked)[0]


def check_empty_zip(walked: Walked) -> None:
    assert walked.seen == []
    assert not walked.errors


HOSTILE: dict[str, Callable[[Walked], None]] = {
    "hostile/archive-traversal/path_traversal.tar": check_path_traversal,
    "hostile/archive-traversal/symlink_escape.tar": check_symlink_escape,
    "hostile/archive-bombs/droste.zip": check_quine,
    "hostile/archive-bombs/quine.gz": check_quine,
    "hostile/archive-malformed/duplicate-filename.xlsx": check_duplicate_names,
    "hostile/archive-malformed/empty_filename.tar": check_empty_name,
    "hostile/archive-malformed/node-tar-path-missing.tar": check_empty_name,
    "hostile/archive-malformed/node-tar-bad-cksum.tar": check_bad_checksum,
    "hostile/archive-malformed/node-tar-links-invalid.tar": check_invalid_links,
    "hostile/archive-malformed/node-tar-null-byte.tar": check_null_byte,
    "hostile/archive-malformed/node-tar-trailing-slash-corner-case.tar": check_trailing_slash,
    "hostile/archive-malformed/simple_missing_last_header.tar": check_missing_end_blocks,
    "hostile/archive-malformed/testZIP_corrupted_oom.zip": check_corrupt_zip,
    "hostile/misc/invalid.xlsx": check_empty_zip,
}


@pytest.mark.parametrize("relative", sorted(HOSTILE))
def test_hostile_archives_get_the_flags_their_manifest_implies(
    corpus_dir: Path, relative: str
) -> None:
    HOSTILE[relative](_open(corpus_dir, relative))


@pytest.mark.parametrize(
    "relative",
    [
        "hostile/archive-malformed/testChm_oom.chm",
        "hostile/archive-malformed/testLZMA_oom",
        "hostile/archive-malformed/testZ_oom.Z",
        "hostile/misc/testODTnotaZipFile.odt",
        "hostile/polyglot/corkamix.exe",
        "hostile/email/oom.tnef",
    ],
)
def test_formats_not_opened_here_are_not_containers(corpus_dir: Path, relative: str) -> None:
    assert sniff((corpus_dir / relative).read_bytes()[:SNIFF_BYTES]) is None


def test_encrypted_archives_in_the_corpus(corpus_dir: Path) -> None:
    walked = _open(corpus_dir, "archives/encrypted/testZipEncrypted.zip")
    assert "encrypted" in walked.by_name("encrypted.txt").flags
    assert "encrypted" not in walked.by_name("unencrypted.txt").flags
    seven = _open(corpus_dir, "archives/encrypted/test7Z_protected_passTika.7z")
    assert "encrypted" in seven.by_name("text.txt").flags
    hidden = _open(corpus_dir, "archives/encrypted/full_encrypted.7z")
    assert hidden.seen == []
    error = hidden.errors[0]
    assert isinstance(error, ContainerError)
    assert error.flags == {"encrypted"}


def test_legacy_and_unicode_names_in_the_corpus(corpus_dir: Path) -> None:
    sjis = _open(corpus_dir, "archives/testZipEntryNameCharsetShiftSJIS.zip")
    assert all("legacy-encoding" in item.flags for item in sjis.seen)
    utf8 = _open(corpus_dir, "archives/tar/node-tar-utf8.tar")
    assert "🌟.txt" in [item.display for item in utf8.seen]
    sparse = _open(corpus_dir, "archives/tar/sparse.tar")
    assert all("sparse" in item.flags for item in sparse.seen)
    assert len(sparse.by_name("sparse.txt").data or b"") == 16384


def test_mailboxes_and_messages_in_the_corpus(corpus_dir: Path) -> None:
    mbox = _open(corpus_dir, "email/mbox/complex.mbox")
    assert [item.display[:5] for item in mbox.seen if item.depth == 0] == [
        "0001 ",
        "0002 ",
        "0003 ",
    ]
    zipped = _open(corpus_dir, "email/eml/tika-testRFC822_normal_zip.eml")
    assert [(item.depth, item.display) for item in zipped.seen] == [
        (0, "test.zip"),
        (1, "text.txt"),
    ]


def test_the_member_limit_holds_on_corpus_archives(corpus_dir: Path) -> None:
    limits = Limits(max_members=3)
    # A zip lists its entries up front: too many, and none is listed.
    zipped = _open(corpus_dir, "archives/test-documents.zip", limits)
    assert zipped.seen == []
    assert zipped.limit_flags() == {"too-many-members"}
    # A tar is listed as it is read: the first three, then the limit.
    tarred = _open(corpus_dir, "archives/test-documents.tgz", limits)
    assert len(tarred.seen) == 3
    assert all(isinstance(error, LimitExceeded) for error in tarred.errors)
    assert tarred.limit_flags() == {"too-many-members"}
