"""`Vault`: the one door through which the command line and the terminal app reach the vault.

A small facade: each method delegates to the workflow module that owns it (members,
collections, checkin, reading, integrity, audit). It knows nothing of any user interface.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

from vault.audit import Checkpoint, Entry, VerifyReport
from vault.clock import Clock, SystemClock
from vault.ingest.detect import Detector
from vault.ingest.limits import Limits
from vault.keys.member import KdfParams
from vault.policy import Decision, Problem, parse_local
from vault.release.request import ReleaseRequest
from vault.release.verify import BundleReport, verify_bundle
from vault.review.preview import Preview
from vault.service import audit as audit_flow
from vault.service import checkin as checkin_flow
from vault.service import collections as collection_flow
from vault.service import containers as container_flow
from vault.service import embargo as embargo_flow
from vault.service import (
    evidence,
    governance,
    governance_changes,
    governance_time,
    integrity,
    members,
    reading,
    review,
)
from vault.service import release as release_flow
from vault.service import search as search_flow
from vault.service.authorize import explain
from vault.service.collections import CollectionView
from vault.service.context import Context, create, unlock
from vault.service.embargo import EmbargoView
from vault.service.governance_changes import PolicyChange, PolicyView
from vault.service.governance_time import ClockStatus
from vault.service.integrity import CheckReport
from vault.service.members import MemberView
from vault.service.reading import DocumentDetail, DocumentView, Filter
from vault.service.receipt import Progress, Receipt
from vault.service.release import ReleaseView
from vault.service.search import SearchHit

__all__ = [
    "BundleReport",
    "CheckReport",
    "ClockStatus",
    "CollectionView",
    "Decision",
    "DocumentDetail",
    "DocumentView",
    "EmbargoView",
    "Filter",
    "MemberView",
    "PolicyChange",
    "PolicyView",
    "Preview",
    "Problem",
    "Progress",
    "Receipt",
    "ReleaseView",
    "SearchHit",
    "Vault",
    "verify_bundle",
]


class Vault:
    """An unlocked vault, acting as one member."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    @classmethod
    def init(
        cls,
        path: Path,
        admin: str,
        passphrase: bytes,
        *,
        clock: Clock | None = None,
        kdf: KdfParams | None = None,
    ) -> Vault:
        """Create a vault with its founding admin (also editor-in-chief).

        The shipped policies become version 1 of the vault's policy set, signed by the admin.
        """
        ctx = create(path, admin, passphrase, clock=clock or SystemClock(), kdf=kdf or KdfParams())
        try:
            governance.install_shipped(ctx)
        except BaseException:
            ctx.close()
            raise
        return cls(ctx)

    @classmethod
    def open(
        cls, path: Path, member: str, passphrase: bytes, *, clock: Clock | None = None
    ) -> Vault:
        """Unlock an existing vault as a member."""
        return cls(unlock(path, member, passphrase, clock=clock or SystemClock()))

    @property
    def member(self) -> str:
        """The acting member."""
        return self._ctx.member

    @property
    def path(self) -> Path:
        """The vault directory."""
        return self._ctx.dir

    def close(self) -> None:
        """Release database handles."""
        self._ctx.close()

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # Members
    def add_member(
        self, name: str, roles: list[str], passphrase: bytes, *, kdf: KdfParams | None = None
    ) -> MemberView:
        """Add a member (admins only)."""
        return members.add_member(self._ctx, name, roles, passphrase, kdf=kdf or KdfParams())

    def remove_member(self, name: str) -> None:
        """Remove a member and revoke their collections (admins only)."""
        members.remove_member(self._ctx, name)

    def members(self) -> list[MemberView]:
        """Every member of the roster."""
        return members.list_members(self._ctx)

    def confirm_passphrase(self, passphrase: bytes) -> None:
        """Check the acting member's passphrase again, before an action that needs consent.

        Args:
            passphrase: what the member typed; it is not kept.

        Raises:
            BadCredentials: the passphrase is wrong (exit code 5).
        """
        members.confirm_passphrase(self._ctx, passphrase)

    # Collections
    def create_collection(self, name: str, description: str = "") -> CollectionView:
        """Create a collection held by the acting member."""
        return collection_flow.create_collection(self._ctx, name, description)

    def collections(self) -> list[CollectionView]:
        """Collections the acting member holds."""
        return collection_flow.list_collections(self._ctx)

    def grant(self, collection: str, member: str) -> CollectionView:
        """Give a member a collection."""
        return collection_flow.grant(self._ctx, collection, member)

    def revoke(self, collection: str, member: str) -> CollectionView:
        """Take a collection away from a member, rotating its keys."""
        return collection_flow.revoke(self._ctx, collection, member)

    def export_identity(self, collection: str) -> str:
        """The collection's age identities, for emergency recovery (dangerous, audited)."""
        return collection_flow.export_identity(self._ctx, collection)

    # Check-in and reading
    def check_in(
        self,
        paths: list[Path],
        *,
        collection: str,
        source: str = "",
        medium: str = "",
        limits: Limits | None = None,
        progress: Callable[[Progress], None] | None = None,
        cancel: Callable[[], bool] | None = None,
        detector: Callable[[], Detector] | None = None,
    ) -> Receipt:
        """Check files, folders, archives and mailboxes into a collection."""
        return checkin_flow.check_in(
            self._ctx,
            paths,
            collection=collection,
            source=source,
            medium=medium,
            limits=limits,
            progress=progress,
            cancel=cancel,
            detector=detector,
        )

    def documents(
        self, collection: str | None = None, where: Filter | None = None
    ) -> list[DocumentView]:
        """Documents of one or every readable collection, optionally filtered."""
        return reading.list_documents(self._ctx, collection, where)

    def document_pages(
        self, collection: str | None = None, where: Filter | None = None, *, first: int = 0
    ) -> Iterator[list[DocumentView]]:
        """`documents` in two pages, the first `first` before the rest is read (for screens)."""
        return reading.document_pages(self._ctx, collection, where, first=first)

    def show(self, ref: str) -> DocumentDetail:
        """One document's metadata and provenance."""
        return reading.show(self._ctx, ref)

    def read(self, ref: str) -> tuple[DocumentView, Iterator[bytes]]:
        """A document's verified plaintext."""
        return reading.read_document(self._ctx, ref)

    def export(self, ref: str, output: Path) -> DocumentView:
        """Write a document to a file."""
        return reading.export_document(self._ctx, ref, output)

    def containers(self, collection: str) -> dict[str, tuple[str | None, ...]]:
        """Each document's containers in a collection, by oid (`None`: found loose)."""
        return container_flow.containers(self._ctx, collection)

    def mark(self, ref: str, status: str, note: str = "") -> str:
        """Set a document's verification status; returns the previous one."""
        return review.mark(self._ctx, ref, status, note)

    def add_note(self, ref: str, text: str) -> None:
        """Append a note to a document."""
        review.add_note(self._ctx, ref, text)

    def tag(self, ref: str, tags: list[str], *, remove: bool = False) -> tuple[str, ...]:
        """Add or remove tags; returns the document's tags."""
        return review.tag(self._ctx, ref, tags, remove=remove)

    def preview(self, ref: str) -> tuple[DocumentView, Preview]:
        """A safe preview: escaped text, mail headers and text parts, or a hex dump."""
        return reading.preview_document(self._ctx, ref)

    def search(
        self,
        query: str,
        *,
        collection: str | None = None,
        where: Filter | None = None,
        limit: int = 50,
    ) -> list[SearchHit]:
        """Full-text search, ranked, over the collections the member can read."""
        return search_flow.search(self._ctx, query, collection=collection, where=where, limit=limit)

    def import_dkim_keys(self, text: str) -> int:
        """Merge archived DKIM key records into the vault's archive."""
        return evidence.import_keys(self._ctx, text)

    def check_mail(self, collection: str | None = None) -> dict[str, int]:
        """Re-check e-mail against the DKIM key archive; counts by result."""
        return evidence.check_mail(self._ctx, collection)

    # Integrity and audit
    def check(
        self, *, read_data: bool = False, progress: Callable[[int, int], None] | None = None
    ) -> CheckReport:
        """Check every file of the vault for damage."""
        return integrity.check(self._ctx, read_data=read_data, progress=progress)

    def audit_entries(self) -> Iterator[Entry]:
        """Every audit entry, decrypted."""
        return audit_flow.entries(self._ctx)

    def audit_verify(self, checkpoint: Checkpoint | None = None) -> VerifyReport:
        """Verify the audit chain and signatures (and a checkpoint, if given)."""
        return audit_flow.verify(self._ctx, checkpoint)

    def audit_checkpoint(self) -> Checkpoint:
        """Sign the audit log's current head."""
        return audit_flow.checkpoint(self._ctx)

    # Policies
    @staticmethod
    def check_policies(directory: Path) -> list[Problem]:
        """Every problem of a policy directory, as file:line:column; no vault needed."""
        return governance_changes.check(directory)

    def apply_policies(self, directory: Path) -> PolicyChange:
        """Make a policy directory the vault's next signed policy version (`change-policy`)."""
        return governance_changes.apply(self._ctx, directory)

    def policy(self) -> PolicyView:
        """The active, verified policy set and its history."""
        return governance_changes.show(self._ctx)

    def explain(self, action: str, *, member: str | None = None, on: str | None = None) -> Decision:
        """The policies' decision on an action for a member (default: you), on a target."""
        return explain(self._ctx, action, member=member, on=on)

    # Embargoes
    @staticmethod
    def local_instant(until: str, zone: str) -> datetime:
        """The UTC instant a local time in an IANA zone names; DST gaps and overlaps refused."""
        return parse_local(until, zone)

    def set_embargo(
        self, target: str, until: str | datetime, *, zone: str, reason: str
    ) -> EmbargoView:
        """Embargo a collection or document until a local time in `zone` (or an aware instant).

        Moving an existing embargo earlier needs `lift-embargo`; otherwise `set-embargo`.
        """
        instant = parse_local(until, zone) if isinstance(until, str) else until
        return embargo_flow.set_embargo(self._ctx, target, instant, zone, reason)

    def extend_embargo(
        self, target: str, until: str | datetime, *, zone: str, reason: str | None = None
    ) -> EmbargoView:
        """Move an embargo later (`set-embargo`)."""
        instant = parse_local(until, zone) if isinstance(until, str) else until
        return embargo_flow.extend_embargo(self._ctx, target, instant, zone, reason)

    def lift_embargo(self, target: str) -> EmbargoView:
        """Lift a collection's or document's own embargo now (`lift-embargo`)."""
        return embargo_flow.lift_embargo(self._ctx, target)

    def embargoes(self, target: str | None = None) -> list[EmbargoView]:
        """Embargoes on what you hold and may read, or on one collection or document."""
        return embargo_flow.embargoes(self._ctx, target)

    # Time
    def confirm_time(self) -> ClockStatus:
        """Sign and log that the clock is right (`confirm-time`); returns the guard's state."""
        return governance_time.confirm_time(self._ctx)

    def clock_status(self) -> ClockStatus:
        """Whether the clock guard lets time-dependent actions run, and who has confirmed."""
        return governance_time.clock_status(self._ctx)

    def set_time_quorum(self, quorum: int) -> int:
        """How many distinct members must confirm the time (`change-policy`)."""
        return governance_time.set_quorum(self._ctx, quorum)

    # Release
    def now(self) -> datetime:
        """The vault's clock."""
        return self._ctx.clock.now()

    def request_release(
        self,
        collection: str,
        *,
        documents: list[str] | None = None,
        reason: str,
        not_before: datetime | None = None,
        expires: datetime | None = None,
    ) -> ReleaseView:
        """Make and sign a release request."""
        return release_flow.request_release(
            self._ctx,
            collection,
            documents=documents,
            reason=reason,
            not_before=not_before,
            expires=expires,
        )

    def release_request(self, ref: str) -> tuple[ReleaseView, ReleaseRequest]:
        """A request in full, its signature verified."""
        return release_flow.show_request(self._ctx, ref)

    def release_to_approve(self, ref: str) -> tuple[ReleaseView, ReleaseRequest]:
        """A request in full, once it is known this member may approve it now."""
        return release_flow.to_approve(self._ctx, ref)

    def approve_release(self, ref: str) -> ReleaseView:
        """Sign a request as an approver."""
        return release_flow.approve(self._ctx, ref)

    def releases(self) -> list[ReleaseView]:
        """Every release request with its status."""
        return release_flow.list_releases(self._ctx)

    def explain_run(self, ref: str) -> Decision:
        """The policies' decision on running a request now, with its verified approvals."""
        return release_flow.run_decision(self._ctx, ref)

    def due_releases(self) -> list[str]:
        """Ids of requests that may run now."""
        return release_flow.due(self._ctx)

    def run_release(self, ref: str, destination: Path, *, recipient: str | None = None) -> Path:
        """Run a release into `destination`; returns the bundle's path."""
        return release_flow.run(self._ctx, ref, destination, recipient=recipient)
