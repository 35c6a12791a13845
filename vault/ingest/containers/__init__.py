"""Container readers for check-in: is this item a container, and what is inside it, safely.

`sniff(head)` tells a container by its first bytes, never by its name. `members(kind, src, …)`
lists what is inside as `Member` values, lazily, from a seekable source; each member's `open()`
streams its bytes through the limits, so memory stays bounded whatever the input and a bomb is
stopped mid-stream. Nothing is ever written to the filesystem: no extraction, no temporary files.

Every failure is a `VaultError`: `ContainerError` for input that cannot be read (it names the
container and says why in plain words), `LimitExceeded` when a limit trips. A reader that fails
midway has already yielded every member it could read safely before the damage.

Formats: zip (zip64, data descriptors, CP437/UTF-8 names, encrypted entries kept as found), tar
(ustar, pax, GNU, v7, sparse; plain or gzip/bzip2/xz-compressed), single-file gzip/bzip2/xz, 7z
(through py7zr), one e-mail message (attachments and inline parts), mbox (one member per message).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from typing import BinaryIO

from vault.errors import VaultError
from vault.ingest.containers.model import ContainerKind, Context, Member, MemberKind
from vault.ingest.containers.sniff import SNIFF_BYTES, sniff
from vault.ingest.limits import Budget, Limits
from vault.ingest.names import escape

__all__ = [
    "SNIFF_BYTES",
    "ContainerError",
    "ContainerKind",
    "Member",
    "MemberKind",
    "members",
    "message_headers",
    "sniff",
]


class ContainerError(VaultError):
    """A container (or one of its members) cannot be read: damaged, truncated, or unsupported.

    Attributes:
        container: the container's name, escaped.
        reason: what is wrong, in plain words.
        flags: what the failure says about the item, e.g. `encrypted` for a 7z archive whose
            names are encrypted; the pipeline records them on the container.
    """

    def __init__(
        self,
        container: str,
        reason: str,
        *,
        flags: frozenset[str] = frozenset(),
        hint: str | None = None,
    ) -> None:
        super().__init__(
            f"{container}: {reason}",
            hint=hint or "the container itself is kept as found; its members were not all read",
        )
        self.container = container
        self.reason = reason
        self.flags = flags


_TARS = frozenset(
    {ContainerKind.TAR, ContainerKind.TAR_GZIP, ContainerKind.TAR_BZIP2, ContainerKind.TAR_XZ}
)
Reader = Callable[[BinaryIO, ContainerKind, Context], Iterator[Member]]


def _reader(kind: ContainerKind) -> Reader:
    # Imported on use: each format pulls in its own libraries (py7zr is heavy).
    if kind is ContainerKind.ZIP:
        from vault.ingest.containers import ziparchive

        return ziparchive.read
    if kind in _TARS:
        from vault.ingest.containers import tararchive

        return tararchive.read
    if kind in (ContainerKind.GZIP, ContainerKind.BZIP2, ContainerKind.XZ):
        from vault.ingest.containers import compressed

        return compressed.read
    if kind is ContainerKind.SEVEN_ZIP:
        from vault.ingest.containers import sevenzip

        return sevenzip.read
    if kind is ContainerKind.MBOX:
        from vault.ingest.containers import mbox

        return mbox.read
    from vault.ingest.containers import mail

    return mail.read


def _size(src: BinaryIO, name: str) -> int:
    try:
        size = src.seek(0, 2)
        src.seek(0)
    except (OSError, ValueError) as exc:
        raise ContainerError(name, "the source cannot be read or is not seekable") from exc
    return size


def members(
    kind: ContainerKind,
    src: BinaryIO,
    *,
    name: str,
    limits: Limits,
    budget: Budget,
    depth: int,
) -> Iterator[Member]:
    """List a container's members, lazily, each with a bounded stream of its bytes.

    Args:
        kind: what `sniff` said the container is.
        src: the container's bytes; seekable. Members' streams read from it, so it must stay
            open while they are used.
        name: the container's name (for messages and for naming a single compressed member).
        limits: the limits of this intake.
        budget: the intake's tally, shared by every container of the intake.
        depth: how deep this container is nested; the item checked in is depth 0.

    Yields:
        Members in the container's own order, directories and links included.

    Raises:
        ContainerError: the container is damaged, truncated or unsupported (after yielding the
            members read before the damage).
        LimitExceeded: a limit tripped: `too-deep` before anything is read, `too-many-members`,
            `bomb-suspected` (overlapping zip entries are caught before any member is listed)
            or `too-large`.
    """
    shown = escape(name)
    budget.check_depth(depth, name=shown)
    context = Context(
        name=shown,
        source=name,
        limits=limits,
        budget=budget,
        depth=depth,
        size=_size(src, shown),
    )
    found = _reader(kind)(src, kind, context)
    while True:
        try:
            member = next(found)
        except StopIteration:
            return
        except VaultError:
            raise
        except Exception as exc:  # a library bug or a case it did not foresee: never a traceback
            raise ContainerError(shown, f"cannot be read ({type(exc).__name__})") from exc
        budget.add_member(name=shown)
        yield replace(member, open=_guarded(member.open, shown))


def _guarded(open_member: Callable[[], BinaryIO], container: str) -> Callable[[], BinaryIO]:
    def guarded() -> BinaryIO:
        try:
            return open_member()
        except VaultError:
            raise
        except Exception as exc:
            reason = f"a member cannot be opened ({type(exc).__name__})"
            raise ContainerError(container, reason) from exc

    return guarded


def message_headers(src: BinaryIO, *, limits: Limits | None = None) -> Mapping[str, str]:
    """The headers of an e-mail message, escaped, for showing on the container itself.

    Args:
        src: the message (seekable); only its first `limits.max_header_bytes` are read.
        limits: defaults to `Limits()`.

    Returns:
        Header names as found mapped to their decoded, escaped values; a header that appears more
        than once (Received) has its values joined by newlines, in order.

    Raises:
        ContainerError: the source cannot be read.
    """
    from vault.ingest.containers import mail

    return mail.message_headers(src, limits=limits if limits is not None else Limits())
