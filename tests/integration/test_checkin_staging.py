"""Check-in stages files on several threads: the receipt keeps their order, and a run that ends
early for any reason leaves nothing half-written in `tmp/`."""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.vaults import TestVault
from vault.ingest.detect import MAX_HEAD, MAX_TAIL, DetectorUnavailable
from vault.ingest.walk import Found
from vault.service import Progress, checkin
from vault.service.checkin import AHEAD, AHEAD_BYTES, STAGERS
from vault.store.objects import SYNC_EARLY


def _folder(tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    """A folder of files of very different sizes, so stagers finish out of order; some are
    written back early; a link and a pipe sit between them. Its path and the files' contents."""
    root = tmp_path / "leak"
    root.mkdir()
    contents: dict[str, bytes] = {}
    for index in range(3 * (STAGERS + AHEAD)):
        size = SYNC_EARLY + 7 if index % 5 == 1 else 10 + 997 * index
        data = hashlib.shake_256(index.to_bytes(2, "big")).digest(size)
        name = f"sub{index % 3}/{index:02d}.bin"
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
        contents[name] = data
    os.symlink(root / "sub0/00.bin", root / "sub1/05-link")
    os.mkfifo(root / "sub2/07-pipe")
    return root, contents


def test_the_receipt_lists_files_in_the_order_they_were_found(
    test_vault: TestVault, tmp_path: Path
) -> None:
    root, contents = _folder(tmp_path)
    with test_vault.open() as vault:
        receipt = vault.check_in([root], collection="leak")
        stored = {d.oid: d.sha256 for d in vault.documents("leak")}
        report = vault.check(read_data=True)
    files = [Path(i.path).relative_to(root).as_posix() for i in receipt.items if i.oid]
    assert files == sorted(contents)  # the walk's order: folders, then names
    outcomes = {Path(i.path).name: i.outcome for i in receipt.items}
    assert outcomes.pop("05-link") == outcomes.pop("07-pipe") == "skipped"
    assert set(outcomes.values()) == {"new"}
    by_name = {Path(i.path).relative_to(root).as_posix(): i.oid for i in receipt.items if i.oid}
    assert {stored[by_name[name]] for name in contents} == {
        hashlib.sha256(data).hexdigest() for data in contents.values()
    }
    assert report.ok, report.problems
    assert not any((test_vault.path / "tmp").iterdir())


def test_a_run_that_fails_midway_leaves_no_staged_file(
    test_vault: TestVault, tmp_path: Path
) -> None:
    root, _ = _folder(tmp_path)

    def progress(done: Progress) -> None:
        if done.files == 3:  # the stagers are busy with the files after it
            raise RuntimeError("the screen went away")

    with test_vault.open() as vault, pytest.raises(RuntimeError, match="went away"):
        vault.check_in([root], collection="leak", progress=progress)
    assert not any((test_vault.path / "tmp").iterdir())
    with test_vault.open() as vault:
        assert vault.check(read_data=True).ok


def test_a_detector_that_cannot_start_fails_the_run_and_keeps_nothing(
    test_vault: TestVault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _ = _folder(tmp_path)
    with test_vault.open() as vault:
        monkeypatch.setenv("MAGIC", "/nonexistent/magic.mgc")  # the workers' libmagic fails
        with pytest.raises(DetectorUnavailable):
            vault.check_in([root], collection="leak")
        monkeypatch.delenv("MAGIC")
        assert vault.documents("leak") == []
    assert not any((test_vault.path / "tmp").iterdir())


def test_progress_ends_at_the_bytes_on_disk_however_many_members(
    test_vault: TestVault, tmp_path: Path
) -> None:
    root = tmp_path / "leak"
    root.mkdir()
    with zipfile.ZipFile(root / "dump.zip", "w") as archive:
        for index in range(5):
            archive.writestr(f"memo-{index}.txt", f"memo {index}\n" * 200)
    (root / "note.txt").write_text("a note\n")
    seen: list[Progress] = []
    with test_vault.open() as vault:
        vault.check_in([root], collection="leak", progress=seen.append)
    last = seen[-1]
    assert last.files == 7  # the zip, its five members and the note
    assert last.bytes == last.total_bytes == sum(p.stat().st_size for p in root.iterdir())


@pytest.mark.parametrize(
    ("size", "most"),
    [(100, AHEAD + 1), (MAX_HEAD + MAX_TAIL, AHEAD_BYTES // (MAX_HEAD + MAX_TAIL) + 1)],
    ids=["small files", "large files"],
)
def test_files_are_staged_only_so_far_ahead_of_their_admission(
    test_vault: TestVault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int, most: int
) -> None:
    """Small files run far ahead, so the stagers never wait; large ones less far, since each
    holds its tap's samples in memory until it is admitted."""
    root = tmp_path / "leak"
    root.mkdir()
    for index in range(most + 8):
        (root / f"{index:02d}.bin").write_bytes(index.to_bytes(2, "big") * (size // 2))
    listed = taken = 0
    pending: list[int] = []  # files listed but not yet admitted, at each admission
    take_all, take = checkin._take_all, checkin._take

    def listing(run: Any, entries: Iterable[Found]) -> None:
        def counted() -> Iterator[Found]:
            nonlocal listed
            for entry in entries:
                listed += entry.kind == "file"
                yield entry

        take_all(run, counted())

    def admitting(run: Any, entry: Found, staging: Any) -> None:
        nonlocal taken
        pending.append(listed - taken)
        taken += entry.kind == "file"
        take(run, entry, staging)

    monkeypatch.setattr(checkin, "_take_all", listing)
    monkeypatch.setattr(checkin, "_take", admitting)
    with test_vault.open() as vault:
        receipt = vault.check_in([root], collection="leak")
    assert sum(1 for item in receipt.items if item.outcome == "new") == most + 8
    assert max(pending) == most
