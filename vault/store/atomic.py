"""Crash-safe file writes: temp file (O_EXCL, 0600) → fsync → rename → fsync directory.

A reader never sees a half-written file: after a crash either the old file or the new one is
there, never a torn mix.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import secrets
from pathlib import Path

_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
_syncfs = getattr(_libc, "syncfs", None)


def fsync_dir(path: Path) -> None:
    """Make a rename or creation inside `path` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_filesystem(path: Path) -> None:
    """Make everything written to the filesystem holding `path` durable, in one call.

    Batched durability: one `syncfs(2)` after writing many objects costs what one `fsync` does,
    where an `fsync` per object would dominate a check-in of many small files. Without
    `syncfs`, falls back to `sync(2)`.

    Raises:
        OSError: the kernel reported a write-back error.
    """
    if _syncfs is None:
        os.sync()
        return
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if _syncfs(fd) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, os.strerror(errno))
    finally:
        os.close(fd)


def create_exclusive(path: Path) -> int:
    """Open a new file for writing that nobody else can have created or can read."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)


def write_atomic(path: Path, data: bytes) -> None:
    """Durably replace `path` with `data`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = create_exclusive(tmp)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
        os.close(fd)
        fd = -1
        os.replace(tmp, path)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def is_temp_name(name: str) -> bool:
    """Whether a file name is one `write_atomic` uses before its rename (a crash leftover)."""
    return name.startswith(".") and name.endswith(".tmp")
