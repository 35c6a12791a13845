"""Fail closed: when the record cannot be written, `append` raises `AuditUnavailable` and the
log is left exactly as it was.

The tests run as root in CI, where permission bits stop nothing. Each failure here is one that
also stops root: the read-only cases run in a child that has dropped to an unprivileged uid
(when started as root), the others use a path whose parent is a file, a real file-size limit
(RLIMIT_FSIZE binds root too) that cuts a write short, or an injected fsync failure.
"""

from __future__ import annotations

import os
import resource
import traceback
from collections.abc import Callable
from pathlib import Path

import pytest

from vault.audit import AuditLog
from vault.errors import AuditUnavailable

from .helpers import Members, fill, open_log

NOBODY = 65534
APPENDED, REFUSED, CRASHED, NO_PRIVILEGE_DROP = 10, 11, 12, 13


def _in_child(work: Callable[[], None], *, drop_to: int | None, cwd: Path | None = None) -> int:
    """Run `work` in a forked child (in `cwd`, as `drop_to` if given); which way it ended."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = CRASHED
        try:
            if cwd is not None:
                os.chdir(cwd)  # while still allowed to reach it by its full path
            if drop_to is not None:
                try:
                    os.setgroups([])
                    os.setgid(drop_to)
                    os.setuid(drop_to)
                except OSError:
                    os._exit(NO_PRIVILEGE_DROP)
            work()
            code = APPENDED
        except AuditUnavailable:
            code = REFUSED
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _append_here(members: Members) -> Callable[[], None]:
    def work() -> None:
        fill(open_log(Path("audit.log")), members, 1, first=2)

    return work


def _unprivileged(directory: Path) -> int | None:
    """Hand `directory` to the uid the child will run as; None when not root."""
    if os.geteuid() != 0:
        return None
    for path in (directory, *directory.iterdir()):
        os.chown(path, NOBODY, NOBODY)
    return NOBODY


def _expect(code: int, expected: int) -> None:
    if code == NO_PRIVILEGE_DROP:
        pytest.skip("cannot drop root privileges here")
    assert code == expected


def test_read_only_file(tmp_path: Path, members: Members) -> None:
    directory = tmp_path / "log"
    directory.mkdir()
    log_file = directory / "audit.log"
    fill(open_log(log_file), members, 1)
    before = log_file.read_bytes()
    uid = _unprivileged(directory)

    log_file.chmod(0o400)
    _expect(_in_child(_append_here(members), drop_to=uid, cwd=directory), REFUSED)
    assert log_file.read_bytes() == before

    # The control: the same child, with a writable file, appends.
    log_file.chmod(0o600)
    _expect(_in_child(_append_here(members), drop_to=uid, cwd=directory), APPENDED)
    assert open_log(log_file).head().seq == 2


def test_read_only_directory(tmp_path: Path, members: Members) -> None:
    directory = tmp_path / "log"
    directory.mkdir()
    uid = _unprivileged(directory)
    directory.chmod(0o500)
    try:
        _expect(_in_child(_append_here(members), drop_to=uid, cwd=directory), REFUSED)
        assert list(directory.iterdir()) == []
    finally:
        directory.chmod(0o700)


def test_parent_is_a_file(tmp_path: Path, members: Members) -> None:
    (tmp_path / "log").write_bytes(b"not a directory")
    log = open_log(tmp_path / "log" / "audit.log")
    with pytest.raises(AuditUnavailable, match="could not be opened: Not a directory") as caught:
        fill(log, members, 1)
    assert caught.value.hint is not None
    assert (tmp_path / "log").read_bytes() == b"not a directory"


def test_write_cut_short_by_the_file_size_limit(
    log: AuditLog, log_path: Path, members: Members
) -> None:
    fill(log, members, 2)
    before = log_path.read_bytes()

    def work() -> None:
        _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        # Room for a few bytes of the frame, not all of it: a short write, then EFBIG.
        resource.setrlimit(resource.RLIMIT_FSIZE, (len(before) + 20, hard))
        fill(log, members, 1, first=3)

    assert _in_child(work, drop_to=None) == REFUSED
    assert log_path.read_bytes() == before
    assert log.verify(members.public_key_of).ok


def test_failed_fsync_leaves_no_record(
    log: AuditLog, log_path: Path, members: Members, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(log, members, 2)
    before = log_path.read_bytes()
    real_fsync = os.fsync
    calls: list[int] = []

    def failing_fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 1:
            raise OSError(5, "Input/output error")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(AuditUnavailable, match="could not be written: Input/output error"):
        fill(log, members, 1, first=3)
    assert log_path.read_bytes() == before
    monkeypatch.undo()
    assert fill(log, members, 1, first=3)[0].seq == 3


def test_short_writes_are_completed(
    log: AuditLog, log_path: Path, members: Members, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = os.write

    def dribble(fd: int, data: bytes | memoryview) -> int:
        return real_write(fd, bytes(data[:7]))

    monkeypatch.setattr(os, "write", dribble)
    fill(log, members, 3)
    monkeypatch.undo()
    assert log.verify(members.public_key_of).ok
