"""What a container reader hands the check-in pipeline: kinds, members, and per-container state.

A `Member` is a value: its safe path, its kind, its declared size (never trusted for anything),
its flags, e-mail headers where it has them, and `open`, which returns a fresh stream of the
member's bytes with every limit enforced as it is read. Only `kind == "file"` members have
content; opening any other kind raises `ContainerError`.

`Member.flags` holds everything the reader found about the member, the flags of its path
included: `encrypted`, `unsupported-compression`, `link-escape`, `bad-link`, `through-symlink`,
`special-file`, `sparse`, `unusual-type`, `local-name-mismatch`, `inline`, `attached-message`,
plus the name flags of `vault.ingest.names`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import BinaryIO, Literal

from vault.ingest.limits import Budget, Limits
from vault.ingest.names import Deduplicator, SafePath, safe_member_path

MemberKind = Literal["file", "dir", "symlink", "hardlink", "device", "fifo", "socket", "other"]


class ContainerKind(enum.StrEnum):
    """A container format check-in opens, as `sniff` recognises it by content."""

    ZIP = "zip"
    TAR = "tar"
    TAR_GZIP = "tar.gz"
    TAR_BZIP2 = "tar.bz2"
    TAR_XZ = "tar.xz"
    GZIP = "gzip"
    BZIP2 = "bzip2"
    XZ = "xz"
    SEVEN_ZIP = "7z"
    MBOX = "mbox"
    EMAIL = "email"


@dataclass(frozen=True)
class Member:
    """One member of a container.

    Attributes:
        path: the safe display path, the escaped raw path and the name's flags.
        kind: file, dir, symlink, hardlink, device, fifo, socket or other.
        size: the size the container declares, if any; never trusted for allocation. For an
            `encrypted` or `unsupported-compression` member the stream holds the packed bytes as
            found, so its length is not this size.
        link_target: the escaped target of a symlink or hard link, recorded, never followed.
        flags: what the reader found about this member, the path's flags included.
        headers: escaped header values, for e-mail messages and MIME parts; None otherwise.
        open: returns a new stream of the member's bytes that raises `LimitExceeded` as soon
            as a limit is passed, and `ContainerError` if the bytes turn out damaged.
    """

    path: SafePath
    kind: MemberKind
    size: int | None
    link_target: str | None
    flags: frozenset[str]
    headers: Mapping[str, str] | None
    open: Callable[[], BinaryIO]


@dataclass
class Context:
    """What one container's reader needs: its name, the limits, the intake's budget, and the
    running tallies of this container (bytes it expanded to, names it has given out)."""

    name: str  # the container's name, escaped, for messages
    source: str  # the container's name as the pipeline gave it
    limits: Limits
    budget: Budget
    depth: int
    size: int  # the container's own size in bytes
    expanded: int = 0
    names: Deduplicator = field(default_factory=Deduplicator)

    def safe_path(
        self, raw: bytes | str, *, is_dir: bool = False, encoding_hint: str | None = None
    ) -> SafePath:
        """A member's safe path, made unique within this container."""
        path = safe_member_path(raw, encoding_hint=encoding_hint, limits=self.limits)
        return self.names.claim(path, is_dir=is_dir or path.is_dir)
