"""The release queue as one member sees it, and what release workers post back.

`ReleaseQueue.fetch` runs in a worker: every request, the names of the collections the member
holds (a request names its collection by id), and the policies' `approve-release` decision on
each of those collections. From that, on the UI thread, the queue says why the member may not
approve or run a request (`approve_refusal`, `run_refusal`), which requests wait for them, and
which are due or soonest. A collection the member does not hold cannot be named to `explain`, so
for its requests the policies are left to the service, which asks them when the member acts.

For a request the service says is due, the queue also holds the policies' `run-release`
decision for the member (`Vault.explain_run`, with the approvals the service verified), so Run
is greyed out, with the reason, for a member the policies would refuse.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from textual.message import Message

from vault.errors import VaultError
from vault.release.request import ReleaseRequest
from vault.service import Decision, ReleaseView, Vault

SOON = 3  # requests waiting for their time that the due panel lists


def local_time(instant: datetime) -> str:
    """An instant in the workstation's local zone, to the minute, with the zone's abbreviation."""
    return instant.astimezone().strftime("%Y-%m-%d %H:%M %Z")


def first_line(decision: Decision) -> str:
    """The first line of a decision's explanation (what was asked, and the verdict)."""
    return decision.explain().splitlines()[0]


@dataclass(frozen=True)
class ReleaseQueue:
    """Every request, with what the member holds and what the policies let them approve."""

    member: str
    views: tuple[ReleaseView, ...]
    names: Mapping[str, str]  # collection id -> name, for the collections the member holds
    approve: Mapping[str, Decision]  # collection id -> `approve-release` decision
    request: Mapping[str, Decision]  # collection name -> `request-release` decision
    run: Mapping[str, Decision]  # request id -> `run-release` decision, for due requests

    @classmethod
    def fetch(cls, vault: Vault) -> ReleaseQueue:
        """Read the queue (worker thread; the vault is borrowed).

        Raises:
            VaultError: the requests or the policies cannot be read.
        """
        views = tuple(vault.releases())
        held = vault.collections()
        names = {c.cid: c.name for c in held}
        approve = {
            c.cid: vault.explain("approve-release", on=c.cid)
            for c in held
            if any(v.collection == c.cid for v in views)
        }
        request = {c.name: vault.explain("request-release", on=c.cid) for c in held}
        run = {v.id: vault.explain_run(v.id) for v in views if v.status == "due"}
        return cls(vault.member, views, names, approve, request, run)

    def collection(self, view: ReleaseView) -> str:
        """The request's collection by name, or by a short id if the member does not hold it."""
        return self.names.get(view.collection, f"({view.collection[:8]})")

    def find(self, ref: str) -> ReleaseView | None:
        """The request with this id, if listed."""
        return next((v for v in self.views if v.id == ref), None)

    def approve_refusal(self, view: ReleaseView) -> str | None:
        """Why the member may not approve this request, or None if they may."""
        if view.status in ("released", "expired", "interrupted"):
            return f"this request is {view.status}"
        if view.requester == self.member:
            return "your own approval never counts"
        if self.member in view.approvers:
            return "you have already approved it"
        decision = self.approve.get(view.collection)
        if decision is not None and not decision.allowed:
            return first_line(decision)
        return None

    def run_refusal(self, view: ReleaseView) -> str | None:
        """Why this request cannot run now, or None if it is due and the member may run it."""
        if view.status == "due":
            decision = self.run.get(view.id)
            return first_line(decision) if decision is not None and not decision.allowed else None
        if view.status == "waiting for embargo":
            return f"not yet: it may run from {local_time(view.not_before)}"
        if view.status == "pending approvals":
            return "it still waits for the approvals the policy asks for"
        return f"this request is {view.status}"

    def request_refusal(self) -> str | None:
        """Why the member may not request a release of any collection, or None if they may."""
        if not self.request:
            return "you hold no collection to release from"
        if any(d.allowed for d in self.request.values()):
            return None
        return first_line(next(iter(self.request.values())))

    def requestable(self) -> list[str]:
        """Names of the collections the member may request a release of."""
        return [name for name, d in self.request.items() if d.allowed]

    def awaiting_me(self) -> list[ReleaseView]:
        """Requests pending approvals that the member could approve."""
        return [
            v
            for v in self.views
            if v.status == "pending approvals" and self.approve_refusal(v) is None
        ]

    def due_or_soon(self) -> list[ReleaseView]:
        """Requests due now, then the few waiting only for their time, soonest first."""
        due = [v for v in self.views if v.status == "due"]
        waiting = sorted(
            (v for v in self.views if v.status == "waiting for embargo"),
            key=lambda v: v.not_before,
        )
        return sorted(due, key=lambda v: v.not_before) + waiting[:SOON]


@dataclass(frozen=True)
class ReleaseDetail:
    """One request in full, as the queue's review shows it."""

    view: ReleaseView
    request: ReleaseRequest
    names: Mapping[str, str]  # document id -> name (empty unless the member holds the collection)
    roles: Mapping[str, tuple[str, ...]]  # member -> roles, for the requester and approvers
    asks: tuple[str, ...]  # the rules that hold a pending request, as the policies word them

    @classmethod
    def fetch(cls, vault: Vault, ref: str, collection: str | None) -> ReleaseDetail:
        """Read one request in full (worker thread); `collection` is its name if held.

        Raises:
            VaultError: the request is missing or its signature does not verify.
        """
        view, request = vault.release_request(ref)
        names: dict[str, str] = {}
        asks: tuple[str, ...] = ()
        if collection is not None:
            wanted = set(request.documents)
            names = {d.oid: d.name for d in vault.documents(collection) if d.oid in wanted}
            if view.status == "pending approvals":
                try:
                    decision = vault.explain("run-release", member=view.requester, on=collection)
                except VaultError:  # the requester was removed: nothing to explain for them
                    decision = None
                if decision is not None and not decision.allowed:
                    asks = decision.notes
        roles = {m.name: m.roles for m in vault.members()}
        return cls(view, request, names, roles, asks)


class QueueLoaded(Message):
    """The release queue, read in a worker (`read` numbers the reads, so a late one is seen)."""

    def __init__(self, queue: ReleaseQueue, read: int = 0) -> None:
        super().__init__()
        self.queue = queue
        self.read = read


class DetailLoaded(Message):
    """One request in full, read in a worker (`read` numbers the reads, so a late one is seen)."""

    def __init__(self, detail: ReleaseDetail, read: int = 0) -> None:
        super().__init__()
        self.detail = detail
        self.read = read


class RequestMade(Message):
    """The member made and signed a release request."""

    def __init__(self, view: ReleaseView) -> None:
        super().__init__()
        self.view = view


class Approved(Message):
    """The member's passphrase was right and their approval is signed."""

    def __init__(self, view: ReleaseView) -> None:
        super().__init__()
        self.view = view


class ApprovalFailed(Message):
    """Approving failed; `error` says why (a `BadCredentials` for a wrong passphrase)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error


class ReleaseProgress(Message):
    """A step of work under way, in words, for the queue's progress line."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class ReleaseRan(Message):
    """A release ran and wrote its bundle at `bundle`."""

    def __init__(self, ref: str, bundle: Path) -> None:
        super().__init__()
        self.ref = ref
        self.bundle = bundle


class OpenRelease(Message):
    """Open the release queue on one request."""

    def __init__(self, ref: str) -> None:
        super().__init__()
        self.ref = ref
