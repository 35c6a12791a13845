"""Reading the small files a vault is unlocked with, never more than a bound.

Key files, roster statements, the vault and collection secrets and the `VAULT` file are a few
KiB at most. Someone with the disk can replace any of them with gigabytes, a FIFO that never
ends or a link to a device: unlock must refuse that as damage after reading at most the bound,
not load it into memory or block on it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from vault.errors import IntegrityError

KEY_FILE_LIMIT = 64 * 1024
STATEMENT_LIMIT = 1024 * 1024
SECRET_LIMIT = 4 * 1024 * 1024
VAULT_FILE_LIMIT = 4 * 1024


def read_bounded(path: Path, limit: int, *, what: str) -> bytes:
    """The contents of a regular file of at most `limit` bytes.

    Args:
        path: the file; a symbolic link is refused, not followed.
        limit: the most bytes a well-formed file of its kind can hold.
        what: how messages name the file.

    Returns:
        The whole file.

    Raises:
        FileNotFoundError: there is no such file (callers say what that means).
        IntegrityError: a link, a directory, a FIFO or device, a file over the bound, or one
            that cannot be read.
    """
    try:
        # O_NONBLOCK: opening a FIFO planted in the file's place must not wait for a writer.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise
    except OSError:
        raise IntegrityError(f"{what} cannot be read (a link or not a file)") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise IntegrityError(f"{what} is not a regular file")
        if info.st_size > limit:
            raise IntegrityError(f"{what} is too large ({info.st_size} bytes) to be what it says")
        chunks: list[bytes] = []
        remaining = limit + 1  # one byte more than allowed shows a file that grew past the bound
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 64 * 1024))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
    except OSError:
        raise IntegrityError(f"{what} cannot be read") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:
        raise IntegrityError(f"{what} is too large to be what it says")
    return data
