"""The writer lock, exercised across real processes: the kernel's `flock` is what is tested."""

import multiprocessing
import os
import signal
import stat
import threading
import time
from collections.abc import Iterator
from multiprocessing.synchronize import Event
from pathlib import Path

import pytest

from vault.errors import VaultLocked
from vault.store.lock import WriterLock

_CTX = multiprocessing.get_context("fork")
_TIMEOUT = 10.0


def _hold(vault_dir: str, held: Event, release: Event) -> None:
    with WriterLock(Path(vault_dir)):
        held.set()
        release.wait(_TIMEOUT)


def _hold_forever(vault_dir: str, held: Event) -> None:
    WriterLock(Path(vault_dir)).__enter__()
    held.set()
    time.sleep(_TIMEOUT)


def _try_lock(vault_dir: str) -> None:
    try:
        with WriterLock(Path(vault_dir), wait_seconds=0):
            pass
    except VaultLocked:
        os._exit(3)
    os._exit(0)


def _lockable_from_another_process(vault_dir: Path) -> bool:
    child = _CTX.Process(target=_try_lock, args=(str(vault_dir),))
    child.start()
    child.join(_TIMEOUT)
    assert child.exitcode in (0, 3)
    return child.exitcode == 0


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[Event]:
    """A child process holding the lock until the returned event is set."""
    held, release = _CTX.Event(), _CTX.Event()
    child = _CTX.Process(target=_hold, args=(str(tmp_path), held, release))
    child.start()
    try:
        assert held.wait(_TIMEOUT)
        yield release
    finally:
        release.set()
        child.join(_TIMEOUT)
        if child.is_alive():
            child.kill()
            child.join()


def test_second_writer_times_out_while_the_first_holds_the_lock(
    tmp_path: Path, holder: Event
) -> None:
    start = time.monotonic()
    with pytest.raises(VaultLocked) as caught, WriterLock(tmp_path, wait_seconds=0.3):
        pytest.fail("acquired a lock another process holds")
    waited = time.monotonic() - start
    assert 0.3 <= waited < 5
    assert caught.value.exit_code == 1
    assert caught.value.hint


def test_waiting_writer_gets_the_lock_once_the_first_releases(
    tmp_path: Path, holder: Event
) -> None:
    timer = threading.Timer(0.3, holder.set)
    start = time.monotonic()
    timer.start()
    try:
        with WriterLock(tmp_path, wait_seconds=5):
            waited = time.monotonic() - start
    finally:
        timer.cancel()
    assert 0.25 <= waited < 5


def test_lock_is_released_on_exit(tmp_path: Path) -> None:
    with WriterLock(tmp_path):
        assert not _lockable_from_another_process(tmp_path)
    assert _lockable_from_another_process(tmp_path)


def test_lock_is_reentrant_within_one_object(tmp_path: Path) -> None:
    lock = WriterLock(tmp_path, wait_seconds=0)
    with lock:
        with lock, lock:
            assert not _lockable_from_another_process(tmp_path)
        # Leaving the inner blocks must not release what the outer one still holds.
        assert not _lockable_from_another_process(tmp_path)
    assert _lockable_from_another_process(tmp_path)
    with lock:  # and it can be taken again afterwards
        assert not _lockable_from_another_process(tmp_path)


def test_lock_is_released_on_exception(tmp_path: Path) -> None:
    lock = WriterLock(tmp_path)
    with pytest.raises(RuntimeError), lock:
        raise RuntimeError("write failed")
    assert _lockable_from_another_process(tmp_path)


def test_two_lock_objects_in_one_process_exclude_each_other(tmp_path: Path) -> None:
    # flock belongs to the open file, so a second object (say, a second Vault opened by the
    # same program) is a second writer, not a re-entry.
    with WriterLock(tmp_path), pytest.raises(VaultLocked), WriterLock(tmp_path, wait_seconds=0):
        pytest.fail("acquired a lock already held")


def test_lock_is_released_when_the_holder_is_killed(tmp_path: Path) -> None:
    held = _CTX.Event()
    child = _CTX.Process(target=_hold_forever, args=(str(tmp_path), held))
    child.start()
    try:
        assert held.wait(_TIMEOUT)
        assert not _lockable_from_another_process(tmp_path)
        assert child.pid is not None
        os.kill(child.pid, signal.SIGKILL)
        child.join(_TIMEOUT)
        assert child.exitcode == -signal.SIGKILL
    finally:
        if child.is_alive():
            child.kill()
            child.join()
    with WriterLock(tmp_path, wait_seconds=2):
        assert not _lockable_from_another_process(tmp_path)


def test_lock_file_is_private(tmp_path: Path) -> None:
    with WriterLock(tmp_path):
        pass
    assert stat.S_IMODE((tmp_path / "lock").stat().st_mode) == 0o600
