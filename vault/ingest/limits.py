"""The limits that keep hostile containers from exhausting memory, disk or time.

`Limits` is a frozen set of numbers, with defaults a newsroom workstation can afford. `Budget` is
the one mutable tally of an intake: every member listed and every byte a container expands to
(wherever in the tree it is) is charged to it, so a bomb split across many containers is caught as
surely as one in a single file. `LimitExceeded` says which limit tripped, as a flag the check-in
receipt can show: `bomb-suspected`, `too-deep`, `too-many-members` or `too-large`.

A Budget belongs to one intake and one thread; it is not safe to share between threads.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Literal

from vault.errors import VaultError

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB

LimitFlag = Literal["bomb-suspected", "too-deep", "too-many-members", "too-large"]

_HINTS: dict[str, str] = {
    "bomb-suspected": "the item is kept as found but not expanded; inspect it on an isolated "
    "machine, or raise Limits.max_ratio for this intake if the source is trusted",
    "too-deep": "containers nest deeper than Limits.max_depth; the innermost one is kept unopened",
    "too-many-members": "the intake lists more members than Limits.max_members; split the intake "
    "or raise the limit",
    "too-large": "the expanded size passes a limit (Limits.max_member_bytes or "
    "Limits.max_total_bytes); split the intake or raise the limit",
}


class LimitExceeded(VaultError):
    """A container was not expanded further because a limit tripped.

    Attributes:
        flag: which limit: `bomb-suspected`, `too-deep`, `too-many-members` or `too-large`.
    """

    def __init__(self, flag: LimitFlag, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint if hint is not None else _HINTS[flag])
        self.flag: LimitFlag = flag


@dataclass(frozen=True)
class Limits:
    """How far check-in expands containers. Every size is in bytes.

    Attributes:
        max_depth: containers nested deeper than this are not opened; the item handed to check-in
            is depth 0, so 8 allows a zip in a tar in a gzip … eight levels down.
        max_members: members listed per intake, across the whole tree.
        max_total_bytes: bytes expanded per intake: every byte a decompressor produces or a
            member stream yields counts, so the work done is bounded too.
        max_member_bytes: bytes one member may expand to.
        max_ratio: expansion ratio (expanded / compressed) allowed for one member and for one
            container as a whole, checked as the bytes flow ...
        ratio_floor: ... but only once more than this many bytes have been expanded, so that a
            tiny member of zeros that decompresses to a small size never trips it.
        max_name_bytes: the longest path component kept (UTF-8 bytes); longer ones are truncated,
            keeping the extension, and flagged `long-name`.
        max_path_bytes: the longest member path kept (UTF-8 bytes); longer ones are shortened in
            the middle and flagged `long-path`.
        max_path_components: the deepest member path kept; deeper ones are shortened likewise.
        max_header_bytes: one metadata record read whole: a tar pax or GNU long-name header, an
            e-mail header block.
        max_index_bytes: an archive index decoded whole into memory (a 7z header).
        max_message_bytes: one e-mail message parsed in memory (the stdlib parser needs it whole).
        max_mime_depth: nesting of multipart bodies inside one message.
        max_decoder_memory: memory an xz/LZMA decoder may use for its dictionary.
        chunk_bytes: the most one read asks a decompressor for: memory per stream stays near this.
    """

    max_depth: int = 8
    max_members: int = 200_000
    max_total_bytes: int = 64 * GiB
    max_member_bytes: int = 16 * GiB
    max_ratio: int = 200
    ratio_floor: int = 1 * MiB
    max_name_bytes: int = 255
    max_path_bytes: int = 4096
    max_path_components: int = 64
    max_header_bytes: int = 1 * MiB
    max_index_bytes: int = 64 * MiB
    max_message_bytes: int = 128 * MiB
    max_mime_depth: int = 32
    max_decoder_memory: int = 256 * MiB
    chunk_bytes: int = 64 * KiB

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"Limits.{field.name} must be a positive integer, not {value!r}")
        if self.max_name_bytes < 32:
            raise ValueError("Limits.max_name_bytes must leave room for a name (at least 32)")


class Budget:
    """What one intake has used so far: members listed and bytes expanded, across the tree."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._members = 0
        self._bytes = 0

    @property
    def members(self) -> int:
        """Members listed so far."""
        return self._members

    @property
    def bytes(self) -> int:
        """Bytes expanded so far."""
        return self._bytes

    def check_depth(self, depth: int, *, name: str) -> None:
        """Refuse to open a container nested `depth` levels down (the intake item is depth 0).

        Raises:
            LimitExceeded: `too-deep` when depth reaches `max_depth`.
        """
        if depth >= self.limits.max_depth:
            raise LimitExceeded(
                "too-deep",
                f"{name}: nested {depth} containers deep; the limit is {self.limits.max_depth}",
            )

    def add_member(self, *, name: str) -> None:
        """Count one more member listed.

        Raises:
            LimitExceeded: `too-many-members` past `max_members`.
        """
        if self._members >= self.limits.max_members:
            raise LimitExceeded(
                "too-many-members",
                f"{name}: the intake passes {self.limits.max_members} members",
            )
        self._members += 1

    def add_bytes(self, count: int, *, name: str) -> None:
        """Count `count` more bytes expanded.

        Raises:
            LimitExceeded: `too-large` past `max_total_bytes`.
        """
        self._bytes += count
        if self._bytes > self.limits.max_total_bytes:
            raise LimitExceeded(
                "too-large",
                f"{name}: the intake expands past {self.limits.max_total_bytes} bytes",
            )
