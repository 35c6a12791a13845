"""A walker that opens an item as the check-in pipeline will.

`walk` sniffs an item, lists its members, reads each file member whole through its bounded
stream, and recurses into members that are containers themselves, recording what it met and the
errors that stopped a container or a member.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from vault.errors import VaultError
from vault.ingest.containers import SNIFF_BYTES, ContainerError, Member, members, sniff
from vault.ingest.limits import Budget, LimitExceeded, Limits


@dataclass
class Seen:
    """One member met during a walk."""

    depth: int
    container: str
    display: str
    raw: str
    kind: str
    flags: frozenset[str]
    link_target: str | None
    data: bytes | None
    headers: dict[str, str] | None


@dataclass
class Walked:
    """What a walk met: members, and the errors that stopped containers or members."""

    seen: list[Seen] = field(default_factory=list)
    errors: list[VaultError] = field(default_factory=list)
    read_bytes: int = 0

    def by_name(self, display: str) -> Seen:
        """The one member with this display path."""
        found = [item for item in self.seen if item.display == display]
        assert len(found) == 1, (display, [item.display for item in self.seen])
        return found[0]

    @property
    def flags(self) -> set[str]:
        """Every member flag met, and every limit flag raised."""
        out: set[str] = set()
        for item in self.seen:
            out |= item.flags
        for error in self.errors:
            if isinstance(error, LimitExceeded):
                out.add(error.flag)
        return out

    def limit_flags(self) -> set[str]:
        """The flags of the limits that tripped."""
        return {error.flag for error in self.errors if isinstance(error, LimitExceeded)}


def read_member(member: Member, keep: bool = True) -> bytes:
    """A member's bytes, read through its stream a chunk at a time."""
    chunks: list[bytes] = []
    with member.open() as stream:
        while True:
            chunk = stream.read(64 * 1024)
            if not chunk:
                break
            if keep:
                chunks.append(chunk)
    return b"".join(chunks)


def drain(member: Member, counted: list[int]) -> None:
    """Read a member's stream to its end, noting the size of each chunk as it comes."""
    with member.open() as stream:
        while chunk := stream.read(64 * 1024):
            counted.append(len(chunk))


def walk(
    data: bytes,
    name: str = "item",
    *,
    limits: Limits | None = None,
    budget: Budget | None = None,
    keep_going: bool = True,
    keep_data: bool = True,
) -> Walked:
    """Open `data` as check-in would, recursing into nested containers.

    With `keep_going`, a member or container that fails is recorded and the walk goes on with
    the rest (as the pipeline does); without it, the first error propagates.
    """
    limits = limits or Limits()
    budget = budget or Budget(limits)
    walked = Walked()
    _walk(data, name, 0, limits, budget, walked, keep_going, keep_data)
    return walked


def _walk(
    data: bytes,
    name: str,
    depth: int,
    limits: Limits,
    budget: Budget,
    walked: Walked,
    keep_going: bool,
    keep_data: bool,
) -> None:
    kind = sniff(data[:SNIFF_BYTES])
    if kind is None:
        return
    try:
        for member in members(
            kind, io.BytesIO(data), name=name, limits=limits, budget=budget, depth=depth
        ):
            content: bytes | None = None
            if member.kind == "file":
                try:
                    content = read_member(member)
                except (ContainerError, LimitExceeded) as error:
                    if not keep_going:
                        raise
                    walked.errors.append(error)
            walked.read_bytes += len(content or b"")
            walked.seen.append(
                Seen(
                    depth=depth,
                    container=name,
                    display=member.path.display,
                    raw=member.path.raw,
                    kind=member.kind,
                    flags=member.flags,
                    link_target=member.link_target,
                    data=content if keep_data else None,
                    headers=dict(member.headers) if member.headers is not None else None,
                )
            )
            if content:
                _walk(
                    content, member.path.display, depth + 1, limits, budget, walked,
                    keep_going, keep_data,
                )  # fmt: skip
    except (ContainerError, LimitExceeded) as error:
        if not keep_going:
            raise
        walked.errors.append(error)
