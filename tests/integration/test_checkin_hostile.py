"""Check-in of real leaks and hostile input through the whole pipeline (issue: check-in, §6)."""

from __future__ import annotations

import io
import os
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.crashing_detector import CRASH_NAME, crash_on_name
from tests.unit.ingest.builders import nested_zip_bomb, overlapping_zip
from tests.vaults import TestVault, make_vault
from vault.ingest.detect import Detector
from vault.ingest.limits import Limits
from vault.service import Receipt

HOSTILE_FLAGS = {
    "hostile/archive-traversal/path_traversal.tar": ("etc/file.txt", "path-traversal"),
    "hostile/archive-traversal/symlink_escape.tar": ("escaped_link", "link-escape"),
    "hostile/archive-bombs/droste.zip": ("*", "recursive-container"),
    "hostile/archive-bombs/quine.gz": ("*", "recursive-container"),
    "hostile/polyglot/corkamix.exe": (None, "polyglot"),
    "hostile/office/testWORD_macros.docm": (None, "macros"),
    "hostile/office/testDdeLink.xlsx": (None, "office-external"),
    "hostile/pdf/javascript-openaction.pdf": (None, "pdf-active"),
    "hostile/misc/testODTnotaZipFile.odt": (None, "extension-mismatch"),
    "executables/pe32.exe": (None, "executable"),
    "executables/mini.elf": (None, "executable"),
}


@pytest.fixture(scope="module")
def corpus_receipt(
    tmp_path_factory: pytest.TempPathFactory, corpus_dir: Path
) -> tuple[TestVault, Receipt]:
    """The whole shared corpus checked in once."""
    test_vault = make_vault(tmp_path_factory.mktemp("corpus"))
    with test_vault.open() as vault:
        receipt = vault.check_in([corpus_dir], collection="leak", source="shared corpus")
    return test_vault, receipt


def test_every_corpus_file_is_accounted_for(
    corpus_receipt: tuple[TestVault, Receipt], corpus_dir: Path
) -> None:
    _, receipt = corpus_receipt
    top = {i.path: i for i in receipt.items if i.container is None}
    on_disk = [p for p in corpus_dir.rglob("*") if p.is_file() and not p.is_symlink()]
    assert len(on_disk) > 350
    for path in on_disk:
        item = top.get(str(path))
        assert item is not None, f"{path} missing from the receipt"
        assert item.outcome in ("new", "duplicate"), (path, item.reason)
        assert item.oid is not None
    assert not [i for i in receipt.items if i.outcome == "failed" and not i.reason]


@pytest.mark.parametrize("relative", sorted(HOSTILE_FLAGS))
def test_hostile_files_get_their_flags(
    corpus_receipt: tuple[TestVault, Receipt], corpus_dir: Path, relative: str
) -> None:
    _, receipt = corpus_receipt
    member, flag = HOSTILE_FLAGS[relative]
    container = str(corpus_dir / relative)
    if member is None:
        item = next(i for i in receipt.items if i.path == container and i.container is None)
    elif member == "*":  # any member of the container
        item = next(i for i in receipt.items if i.container == container and flag in i.flags)
    else:
        item = next(i for i in receipt.items if i.container == container and i.path == member)
    assert flag in item.flags, (relative, item)


def test_members_record_their_container(corpus_receipt: tuple[TestVault, Receipt]) -> None:
    test_vault, receipt = corpus_receipt
    member = next(i for i in receipt.items if i.path == "etc/file.txt")
    assert member.oid is not None
    with test_vault.open("bob") as vault:
        detail = vault.show(member.oid)
    assert any(o.container == "path_traversal.tar" for o in detail.occurrences)
    assert any(o.path == "etc/file.txt" for o in detail.occurrences)


def _snapshot(*roots: Path) -> dict[str, tuple[int, int]]:
    state: dict[str, tuple[int, int]] = {}
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if d not in (".venv", ".git", ".mypy_cache")]
            for name in [*dirnames, *filenames]:
                path = Path(dirpath) / name
                try:
                    st = path.lstat()
                except FileNotFoundError:
                    continue
                state[str(path)] = (st.st_mtime_ns, st.st_size)
    return state


def _hostile_inputs(folder: Path) -> Iterator[Path]:
    def tar(name: str, entries: list[tuple[tarfile.TarInfo, bytes | None]]) -> Path:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as archive:
            for info, data in entries:
                archive.addfile(info, io.BytesIO(data) if data is not None else None)
        path = folder / name
        path.write_bytes(buffer.getvalue())
        return path

    def entry(
        name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE, link: str = ""
    ) -> tuple[tarfile.TarInfo, bytes | None]:
        info = tarfile.TarInfo(name)
        info.type = kind
        info.linkname = link
        info.size = len(data) if kind == tarfile.REGTYPE else 0
        return info, data if kind == tarfile.REGTYPE else None

    slip = io.BytesIO()
    with zipfile.ZipFile(slip, "w") as archive:
        for name in (
            "../../evil.txt",
            "/etc/passwd",
            "C:\\x.txt",
            "..\\..\\win.txt",
            "a\x1b[2Jb\u202etxt.exe",
            "dup.txt",
            "DUP.TXT",
        ):
            archive.writestr(name, b"payload " + name.encode("utf-8", "replace"))
    (folder / "zip-slip.zip").write_bytes(slip.getvalue())
    yield folder / "zip-slip.zip"
    yield tar("tar-slip.tar", [entry("../../evil.txt", b"evil"), entry("/abs.txt", b"abs")])
    yield tar(
        "through-link.tar",
        [
            entry("link", kind=tarfile.SYMTYPE, link=str(folder.parent / "sentinel")),
            entry("link/pwned", b"pwned"),
        ],
    )
    yield tar(
        "devices.tar", [entry("dev", kind=tarfile.CHRTYPE), entry("fifo", kind=tarfile.FIFOTYPE)]
    )
    (folder / "overlap-bomb.zip").write_bytes(overlapping_zip(200, bytes(64 * 1024)))
    yield folder / "overlap-bomb.zip"
    (folder / "nested-bomb.zip").write_bytes(nested_zip_bomb(4, 8, 4 * 1024 * 1024))
    yield folder / "nested-bomb.zip"
    (folder / "escape-\x1b]0;pwned\x07-name.txt").write_bytes(b"title change attempt")
    yield folder / "escape-\x1b]0;pwned\x07-name.txt"


def test_hostile_archives_never_escape(
    test_vault: TestVault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sentinel = tmp_path / "sentinel"
    home = tmp_path / "home"
    work = tmp_path / "cwd"
    for folder in (sentinel, home, work):
        folder.mkdir()
        (folder / "keep.txt").write_text("untouched")
    # A home and a working directory of the test's own, so nothing else writes to them.
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    paths = list(_hostile_inputs(inputs))
    watched = (sentinel, home, work)
    before = _snapshot(*watched)
    limits = Limits(max_total_bytes=256 * 1024 * 1024, max_ratio=100)
    with test_vault.open() as vault:
        receipt = vault.check_in(paths, collection="leak", limits=limits)
    assert _snapshot(*watched) == before
    by_path = {(i.container and Path(i.container).name, i.path): i for i in receipt.items}
    assert "path-traversal" in by_path[("zip-slip.zip", "evil.txt")].flags
    assert "absolute-path" in by_path[("zip-slip.zip", "etc/passwd")].flags
    names = {i.path for i in receipt.items}
    assert not any("\x1b" in n or "\u202e" in n for n in names)
    assert any("\\x1b[2J" in n for n in names)
    assert by_path[("through-link.tar", "link")].outcome == "skipped"
    assert by_path[("devices.tar", "dev")].outcome == "skipped"
    top = {Path(i.path).name: i for i in receipt.items if i.container is None}
    assert "bomb-suspected" in top["overlap-bomb.zip"].flags
    assert {"bomb-suspected", "too-large"} & set(top["nested-bomb.zip"].flags) or any(
        "bomb-suspected" in i.flags or "too-large" in i.flags
        for i in receipt.items
        if i.container and "nested-bomb" in i.container
    )
    assert all(i.outcome != "failed" or i.reason for i in receipt.items)
    assert not any((test_vault.path / "tmp").iterdir())


def test_a_crashing_detection_worker_leaves_the_batch_complete(
    test_vault: TestVault, tmp_path: Path
) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    for index in range(5):
        (folder / f"ok-{index}.txt").write_text(f"ordinary text {index}\n")
    (folder / CRASH_NAME).write_text("this one kills its worker\n")
    with test_vault.open() as vault:
        receipt = vault.check_in(
            [folder], collection="leak", detector=lambda: Detector(analyse=crash_on_name)
        )
    outcomes = {Path(i.path).name: i for i in receipt.items}
    assert len(outcomes) == 6
    assert all(i.outcome == "new" for i in outcomes.values())
    assert outcomes[CRASH_NAME].flags == ("type-unknown",)
    assert all("type-unknown" not in i.flags for n, i in outcomes.items() if n != CRASH_NAME)
    with test_vault.open() as vault:
        types = {d.name: d.mime for d in vault.documents("leak")}
    assert types["ok-0.txt"] == "text/plain"


@pytest.mark.parametrize("stop_after", [1, 7, 23])
def test_cancel_at_any_point_leaves_the_vault_clean(
    test_vault: TestVault, tmp_path: Path, stop_after: int
) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for index in range(40):
        (folder / f"{index:02d}.bin").write_bytes(os.urandom(1000 + index * 3000))
    calls = 0

    def cancel() -> bool:
        nonlocal calls
        calls += 1
        return calls > stop_after

    with test_vault.open() as vault:
        receipt = vault.check_in([folder], collection="leak", cancel=cancel)
        stored = {d.oid for d in vault.documents("leak")}
        report = vault.check(read_data=True)
    assert receipt.cancelled
    assert report.ok, report.problems
    assert report.warnings == []
    assert {i.oid for i in receipt.items if i.oid} == stored


def test_the_same_file_from_two_sources_is_one_document(
    test_vault: TestVault, tmp_path: Path
) -> None:
    (tmp_path / "usb").mkdir()
    (tmp_path / "web").mkdir()
    for where in ("usb", "web"):
        (tmp_path / where / f"memo-{where}.txt").write_text("the same memo\n")
    with test_vault.open() as vault:
        first = vault.check_in([tmp_path / "usb"], collection="leak", source="USB stick")
        second = vault.check_in([tmp_path / "web"], collection="leak", source="message board")
        oid = first.items[0].oid
        assert oid is not None
        detail = vault.show(oid)
    assert second.items[0].outcome == "duplicate"
    assert {o.source for o in detail.occurrences} == {"USB stick", "message board"}
    assert {o.path for o in detail.occurrences} == {"usb/memo-usb.txt", "web/memo-web.txt"}
