"""Check-in stages files on several threads: the receipt keeps their order, and a run that ends
early for any reason leaves nothing half-written in `tmp/`."""

from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path

import pytest

from tests.vaults import TestVault
from vault.ingest.detect import DetectorUnavailable
from vault.service import Progress
from vault.service.checkin import AHEAD, STAGERS
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
