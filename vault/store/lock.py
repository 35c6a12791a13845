"""The vault's writer lock: one writer at a time, readers unhindered.

An `fcntl` lock on the `lock` file; the kernel releases it if the process dies, so a crash never
leaves the vault locked.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from types import TracebackType

from vault.errors import VaultLocked


class WriterLock:
    """Exclusive lock held for the duration of a writing operation."""

    def __init__(self, vault_dir: Path, *, wait_seconds: float = 30.0) -> None:
        self._path = vault_dir / "lock"
        self._wait = wait_seconds
        self._fd: int | None = None
        self._depth = 0

    def __enter__(self) -> WriterLock:
        if self._depth == 0:
            self._acquire()
        self._depth += 1
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def _acquire(self) -> None:
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        deadline = time.monotonic() + self._wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise VaultLocked(
                        "another process is writing to this vault",
                        hint="wait for it to finish and try again",
                    ) from None
                time.sleep(0.05)
                continue
            self._fd = fd
            return
