"""Crash-safe writes: private files, atomic replacement, no debris after a failure."""

import errno
import os
import stat
from pathlib import Path

import pytest

from vault.store.atomic import create_exclusive, fsync_dir, write_atomic


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_write_atomic_creates_a_private_file(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "er" / "secret.key"
    old_umask = os.umask(0)
    try:
        write_atomic(target, b"sealed bytes")
    finally:
        os.umask(old_umask)
    assert target.read_bytes() == b"sealed bytes"
    assert _mode(target) == 0o600
    assert sorted(p.name for p in target.parent.iterdir()) == ["secret.key"]


def test_write_atomic_replacing_a_world_readable_file_makes_it_private(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_bytes(b"old")
    target.chmod(0o644)
    write_atomic(target, b"new")
    assert target.read_bytes() == b"new"
    assert _mode(target) == 0o600


def test_write_atomic_replaces_by_rename_not_in_place(tmp_path: Path) -> None:
    target = tmp_path / "file"
    old = os.urandom(200_000)
    new = os.urandom(100_000)
    target.write_bytes(old)
    with target.open("rb") as reader:
        before = os.fstat(reader.fileno()).st_ino
        write_atomic(target, new)
        # A reader that had the old file open keeps seeing all of the old file, never a mix.
        assert reader.read() == old
    assert target.read_bytes() == new
    assert target.stat().st_ino != before


def test_write_atomic_of_empty_and_large_data(tmp_path: Path) -> None:
    big = os.urandom(3 * 1024 * 1024 + 7)
    write_atomic(tmp_path / "empty", b"")
    write_atomic(tmp_path / "big", big)
    assert (tmp_path / "empty").read_bytes() == b""
    assert (tmp_path / "big").read_bytes() == big


def test_write_atomic_syncs_the_file_before_the_rename_and_the_directory_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        kind = "dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"
        events.append(f"fsync {kind}")
        real_fsync(fd)

    def replace(src: str | Path, dst: str | Path) -> None:
        events.append("rename")
        real_replace(src, dst)

    monkeypatch.setattr("vault.store.atomic.os.fsync", fsync)
    monkeypatch.setattr("vault.store.atomic.os.replace", replace)
    write_atomic(tmp_path / "file", b"data")
    assert events == ["fsync file", "rename", "fsync dir"]


def _listing(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in directory.iterdir()}


def test_failing_write_leaves_old_file_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "file"
    target.write_bytes(b"old contents")
    calls = 0
    real_write = os.write

    def write(fd: int, data: bytes | memoryview) -> int:
        # The first call writes part of the data, the second fails: a disk that filled up.
        nonlocal calls
        calls += 1
        if calls == 1:
            return real_write(fd, bytes(data[:10]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("vault.store.atomic.os.write", write)
    with pytest.raises(OSError, match="No space left"):
        write_atomic(target, b"new contents that will not fit")
    assert calls == 2
    assert _listing(tmp_path) == {"file": b"old contents"}


def test_failing_fsync_leaves_no_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fsync(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr("vault.store.atomic.os.fsync", fsync)
    with pytest.raises(OSError, match="Input/output"):
        write_atomic(tmp_path / "file", b"data")
    assert _listing(tmp_path) == {}


def test_interrupted_write_leaves_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def write(fd: int, data: bytes | memoryview) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr("vault.store.atomic.os.write", write)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(tmp_path / "file", b"data")
    assert _listing(tmp_path) == {}


def test_failing_rename_leaves_no_temp_file(tmp_path: Path) -> None:
    # The rename itself can fail (here: the target is a directory). The temp file, which holds
    # the complete new contents, must not be left beside the target.
    target = tmp_path / "target"
    target.mkdir()
    with pytest.raises(IsADirectoryError):
        write_atomic(target, b"data")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["target"]


def test_create_exclusive_makes_a_new_private_file(tmp_path: Path) -> None:
    path = tmp_path / "new"
    fd = create_exclusive(path)
    try:
        os.write(fd, b"x")
    finally:
        os.close(fd)
    assert path.read_bytes() == b"x"
    assert _mode(path) == 0o600


def test_create_exclusive_refuses_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "existing"
    path.write_bytes(b"keep me")
    with pytest.raises(FileExistsError):
        create_exclusive(path)
    assert path.read_bytes() == b"keep me"


def test_create_exclusive_refuses_a_symlink_to_an_existing_file(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep me")
    link = tmp_path / "link"
    link.symlink_to(victim)
    with pytest.raises(FileExistsError):
        create_exclusive(link)
    assert victim.read_bytes() == b"keep me"


def test_create_exclusive_refuses_a_dangling_symlink(tmp_path: Path) -> None:
    # Following it would create a file wherever an attacker pointed the link.
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(FileExistsError):
        create_exclusive(link)
    assert not (tmp_path / "elsewhere").exists()
    assert link.is_symlink()


def test_write_atomic_replaces_a_symlink_instead_of_writing_through_it(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep me")
    link = tmp_path / "link"
    link.symlink_to(victim)
    write_atomic(link, b"data")
    assert victim.read_bytes() == b"keep me"
    assert not link.is_symlink()
    assert link.read_bytes() == b"data"


def test_fsync_dir_refuses_a_file(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_bytes(b"")
    with pytest.raises(NotADirectoryError):
        fsync_dir(path)
    fsync_dir(tmp_path)
