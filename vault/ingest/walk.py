"""Walking the input of a check-in without ever following a link or opening a special file.

Every path given, and everything below a given folder, becomes one `Found` entry. Only regular
files are opened, with `O_NOFOLLOW`, and the opened file is checked to be the very file that was
listed (same device and inode), so a file swapped for a link or FIFO between listing and opening
is refused rather than followed.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

Kind = Literal["file", "dir", "symlink", "fifo", "socket", "device", "other", "missing"]


@dataclass(frozen=True)
class Found:
    """One entry of the input: its path, its path relative to the given root, kind and size."""

    path: Path
    rel: str
    kind: Kind
    size: int
    device: int = 0
    inode: int = 0
    error: str = ""


def walk(paths: list[Path]) -> Iterator[Found]:
    """Every entry under the given paths, depth first, in name order; folders themselves too."""
    for path in paths:
        yield from _walk(path, Path(path.name or path.resolve().name))


def _walk(path: Path, rel: Path) -> Iterator[Found]:
    found = _classify(path, rel.as_posix())
    yield found
    if found.kind != "dir":
        return
    try:
        names = sorted(os.listdir(path))
    except OSError as exc:
        yield Found(path, rel.as_posix(), "other", 0, error=f"cannot list: {exc.strerror}")
        return
    for name in names:
        yield from _walk(path / name, rel / name)


def _classify(path: Path, rel: str) -> Found:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return Found(path, rel, "missing", 0, error="no such file")
    except OSError as exc:
        return Found(path, rel, "other", 0, error=f"cannot inspect: {exc.strerror}")
    mode = st.st_mode
    kind: Kind
    if stat.S_ISREG(mode):
        kind = "file"
    elif stat.S_ISDIR(mode):
        kind = "dir"
    elif stat.S_ISLNK(mode):
        kind = "symlink"
    elif stat.S_ISFIFO(mode):
        kind = "fifo"
    elif stat.S_ISSOCK(mode):
        kind = "socket"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        kind = "device"
    else:
        kind = "other"
    return Found(path, rel, kind, st.st_size, st.st_dev, st.st_ino)


def open_regular(found: Found) -> BinaryIO:
    """Open a listed regular file for reading, refusing anything that changed since.

    Raises:
        OSError: the file cannot be opened, or is no longer the file that was listed.
    """
    fd = os.open(found.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or (st.st_dev, st.st_ino) != (found.device, found.inode):
            raise OSError(0, "the file changed while it was being checked in")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb", buffering=0)
    except BaseException:
        os.close(fd)
        raise
