"""Nothing is written anywhere while every container case is read.

All the cases built on the fly and every container in the corpus are opened and read whole
while two watches are on: an audit hook that records any write-mode open, file-system change,
process start or socket, wherever it happens; and listings with modification times of a
sentinel folder, the working directory (a fresh folder, made current for the run) and $HOME,
taken before and after.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from vault.ingest.containers import SNIFF_BYTES, sniff

from .builders import scenarios
from .test_corpus import LIMITS, corpus_files
from .walker import walk

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_CHANGES = {
    "os.mkdir", "os.rename", "os.remove", "os.rmdir", "os.symlink", "os.link", "os.truncate",
    "os.chmod", "os.chown", "os.utime", "os.mknod", "os.mkfifo", "shutil.copyfile",
    "shutil.copymode", "shutil.copystat", "shutil.copytree", "shutil.rmtree", "shutil.move",
    "tempfile.mkstemp", "tempfile.mkdtemp", "os.system", "os.posix_spawn", "os.exec",
    "os.fork", "os.spawn", "subprocess.Popen", "socket.__new__", "socket.connect",
    "socket.bind",
}  # fmt: skip
_recorded: list[tuple[str, str]] = []
_watching: list[bool] = []


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if not _watching:
        return
    if event == "open":
        path, mode, flags = [*args, None, None, None][:3]
        writes = isinstance(mode, str) and any(c in mode for c in "wax+")
        if writes or (isinstance(flags, int) and flags & _WRITE_FLAGS):
            _recorded.append((event, repr(path)))
    elif event in _CHANGES:
        _recorded.append((event, repr(args)[:200]))


sys.addaudithook(_hook)  # audit hooks cannot be removed; this one is idle unless watching


@contextmanager
def watching() -> Iterator[list[tuple[str, str]]]:
    """Record every write and change the process makes while the block runs."""
    _recorded.clear()
    _watching.append(True)
    try:
        yield _recorded
    finally:
        _watching.clear()


def listing(folder: Path, *, deep: bool) -> dict[str, tuple[int, int]]:
    """Each entry's (modification time, size), the folder itself included."""
    entries = {".": (folder.stat().st_mtime_ns, 0)}
    for path in folder.rglob("*") if deep else folder.iterdir():
        stat = path.lstat()
        entries[str(path.relative_to(folder))] = (stat.st_mtime_ns, stat.st_size)
    return entries


def _read_everything(cases: dict[str, bytes], corpus: list[tuple[str, bytes]]) -> int:
    opened = 0
    for name, data in [*cases.items(), *corpus]:
        walk(data, name, limits=LIMITS, keep_data=False)
        opened += 1
    return opened


def test_reading_every_case_writes_nothing_anywhere(
    corpus_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cases = scenarios()
    corpus = [
        (path.name, data)
        for path in corpus_files(corpus_dir)
        if sniff((data := path.read_bytes())[:SNIFF_BYTES]) is not None
    ]
    _read_everything(cases, corpus)  # once unwatched: imports and caches settle first

    sentinel = tmp_path / "sentinel"
    sentinel.mkdir()
    (sentinel / "keep.txt").write_text("untouched\n")
    workdir = tmp_path / "workdir"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    home = Path(os.path.expanduser("~"))
    before = (
        listing(sentinel, deep=True),
        listing(workdir, deep=True),
        listing(home, deep=False),
    )

    with watching() as writes:
        opened = _read_everything(cases, corpus)

    after = (
        listing(sentinel, deep=True),
        listing(workdir, deep=True),
        listing(home, deep=False),
    )
    assert opened > 100
    assert writes == []
    assert after == before


def test_the_watch_would_see_a_write(tmp_path: Path) -> None:
    with watching() as writes:
        (tmp_path / "written").write_bytes(b"x")
        os.mkdir(tmp_path / "made")
    assert [event for event, _ in writes] == ["open", "os.mkdir"]
