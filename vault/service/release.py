"""Release: request, approve, run when due, and list (DESIGN §9).

1. A request is canonical and signed by the requester (`vault.release.request`). Its
   `not_before` is the latest of the time asked for and every embargo on what it names.
2. Approvals are SSH signatures of the request's bytes by members other than the requester; they
   count per role, and only for members the policy lets `approve-release` on the collection.
3. Running re-verifies everything before a byte leaves: the requester's and approvers'
   signatures against the roster, the policy (`run-release`, with the counted approvals), every
   embargo and status against the audit log (`vault.service.freshness`), the expiry and the
   clock guard. It then writes an audit intent entry (if that fails, nothing is released),
   marks the request running (so it runs once), writes the bundle beside the destination and
   renames it into place, and logs the result.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

from sqlmodel import Session, col, select

from vault import age
from vault.audit import Checkpoint
from vault.catalog.models import Document, Intake, Occurrence
from vault.catalog.releases import ApprovalRow, ReleaseRow
from vault.errors import IntegrityError, NotFound, Refused, UsageError, VaultError
from vault.policy import Decision
from vault.policy.embargo import due_in
from vault.release import sshsig
from vault.release.bundle import BundleContents, BundleFile, PublicMember, write_bundle
from vault.release.request import ReleaseRequest
from vault.service import freshness
from vault.service import governance_embargoes as embargoes
from vault.service.authorize import authorize
from vault.service.authorize import request as policy_request
from vault.service.context import Context, OpenCollection
from vault.service.governance import active_policy
from vault.service.governance_time import require_clock

LATE_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class ReleaseView:
    """A request as `vault release list` shows it."""

    id: str
    collection: str
    documents: int
    reason: str
    requester: str
    not_before: datetime
    expires: datetime | None
    approvers: tuple[str, ...]
    status: str  # pending approvals, waiting for embargo, due, released, expired, interrupted
    bundle: str | None

    def countdown(self, now: datetime) -> str:
        """How long until the request may run (`in 2 d 3 h`, `now`), or `-` once it is over."""
        return "-" if self.status in _OVER else due_in(self.not_before, now)


_OVER = frozenset({"released", "expired", "interrupted"})


def request_release(
    ctx: Context,
    collection: str,
    *,
    documents: list[str] | None = None,
    reason: str,
    not_before: datetime | None = None,
    expires: datetime | None = None,
) -> ReleaseView:
    """Make and sign a release request for documents of a collection (all of them by default).

    Raises:
        UsageError: no such documents, or an expiry before the release could run.
        PolicyDenied: the member may not request releases of this collection.
    """
    from vault.service.reading import resolve

    opened = ctx.find_collection(collection)
    if documents:
        oids = []
        for ref in documents:
            found, doc = resolve(ctx, ref)
            if found.cid != opened.cid:
                raise UsageError(f"document {ref!r} is not in collection {opened.name!r}")
            oids.append(doc.oid)
    else:
        with Session(opened.catalog) as session:
            oids = list(session.exec(select(Document.oid)))
    if not oids:
        raise UsageError("nothing to release: the collection is empty")
    authorize(ctx, "request-release", collection_cid=opened.cid)
    now = ctx.clock.now()
    earliest = max([now, *([not_before] if not_before else []), *_embargoes(ctx, opened.cid, oids)])
    if expires is not None and expires <= earliest:
        raise UsageError("the request would expire before it could run")
    head = ctx.audit_log.head()
    request = ReleaseRequest(
        id=secrets.token_hex(8),
        vault_id=ctx.vault_id,
        collection=opened.cid,
        documents=tuple(sorted(set(oids))),
        reason=reason,
        destination="bundle",
        not_before=earliest,
        expires=expires,
        requester=ctx.member,
        created=now,
        checkpoint_seq=head.seq,
        checkpoint_digest=head.digest.hex(),
    )
    data = request.encode()
    with ctx.lock:
        ctx.audit(
            "release-request",
            request.id,
            {"digest": request.digest, "documents": len(request.documents)},
        )
        with Session(ctx.db) as session:
            session.add(
                ReleaseRow(
                    id=request.id,
                    digest=request.digest,
                    request=data.decode(),
                    signature=sshsig.sign(data, ctx.keys.signing_key),
                    collection=opened.cid,
                    not_before=earliest,
                    expires=expires,
                )
            )
            session.commit()
    return _view(ctx, _row(ctx, request.id))


def approve(ctx: Context, ref: str) -> ReleaseView:
    """Sign a request as an approver.

    Raises:
        Refused: one's own request, a second approval, or a request that already ran or expired.
        PolicyDenied: the member may not approve releases of this collection.
    """
    row, _ = _approvable(ctx, ref)
    with ctx.lock:
        ctx.audit("release-approve", row.id, {"digest": row.digest})
        with Session(ctx.db) as session:
            session.add(
                ApprovalRow(
                    release_id=row.id,
                    approver=ctx.member,
                    at=ctx.clock.now(),
                    signature=sshsig.sign(row.request.encode(), ctx.keys.signing_key),
                )
            )
            session.commit()
    return _view(ctx, row)


def to_approve(ctx: Context, ref: str) -> tuple[ReleaseView, ReleaseRequest]:
    """A request in full, verified, once it is known this member may approve it now.

    What `vault release approve` shows before asking for confirmation: a member the policy does
    not let approve learns nothing of the request.

    Raises:
        Refused: one's own request, a second approval, or a request that already ran or expired.
        PolicyDenied: the member may not approve releases of this collection.
    """
    row, request = _approvable(ctx, ref)
    return _view(ctx, row), request


def _approvable(ctx: Context, ref: str) -> tuple[ReleaseRow, ReleaseRequest]:
    row = _row(ctx, ref)
    request = _verified_request(ctx, row)
    if request.requester == ctx.member:
        raise Refused("your own approval never counts", hint="ask another member to approve")
    if any(a.approver == ctx.member for a in _approvals(ctx, row.id)):
        raise Refused("you have already approved this request")
    _require_open(ctx, row, request)
    authorize(ctx, "approve-release", collection_cid=request.collection)
    return row, request


def show_request(ctx: Context, ref: str) -> tuple[ReleaseView, ReleaseRequest]:
    """A request in full, verified."""
    row = _row(ctx, ref)
    return _view(ctx, row), _verified_request(ctx, row)


def list_releases(ctx: Context) -> list[ReleaseView]:
    """Every request, newest first."""
    with Session(ctx.db) as session:
        rows = list(session.exec(select(ReleaseRow).order_by(col(ReleaseRow.not_before).desc())))
    return [_view(ctx, row) for row in rows]


def run(ctx: Context, ref: str, destination: Path, *, recipient: str | None = None) -> Path:
    """Run one request: re-verify everything, then write the bundle. Returns its path.

    Raises:
        Refused: not yet due, expired, already run, missing approvals, clock rolled back.
        IntegrityError: a signature does not verify, or a released object is damaged.
        AuditUnavailable: the intent could not be logged; nothing was released.
    """
    row = _row(ctx, ref)
    request = _verified_request(ctx, row)
    changes = require_clock(ctx, action="run-release", target=row.id)
    _require_open(ctx, row, request)
    opened = ctx.open_collection(request.collection)
    # The embargoes and statuses below come from databases that could be old copies: they must
    # be what the audit log says they are (as the clock guard's pass over it just read them).
    freshness.require_fresh(ctx, opened, request.documents, changes)
    now = ctx.clock.now()
    due = max([request.not_before, *_embargoes(ctx, request.collection, request.documents)])
    if now < due:
        raise Refused(
            f"not yet: this release may run from {due.isoformat(timespec='seconds')}",
            hint="embargoes and the requested time hold it until then",
        )
    approvers, counts = _counted_approvals(ctx, row, request)
    authorize(
        ctx,
        "run-release",
        collection_cid=request.collection,
        approvals=counts,
        approvers=len(approvers),
        is_requester=request.requester == ctx.member,
    )
    target = age.X25519Recipient.parse(recipient) if recipient else None
    late = now - due > LATE_AFTER
    with ctx.lock:
        head = ctx.audit(
            "release-intent",
            row.id,
            {"digest": row.digest, "late": late, "due": due.isoformat(), "to": str(destination)},
        )
        _set_state(ctx, row.id, state="running")
        checkpoint = Checkpoint.sign(
            head, vault_id=ctx.vault_id, at=now, signer=ctx.member, key=ctx.keys.signing_key
        )
        contents = BundleContents(
            vault_id=ctx.vault_id,
            request=row.request.encode(),
            request_signatures={
                request.requester: row.signature,
                **{
                    a.approver: a.signature
                    for a in _approvals(ctx, row.id)
                    if a.approver in approvers
                },
            },
            approvals=tuple(sorted(approvers)),
            members=tuple(_public_roster(ctx)),
            checkpoint=checkpoint.to_json(),
            released_at=now.isoformat(timespec="seconds"),
            released_by=ctx.member,
            late=late,
            policy_digest=active_policy(ctx).digest,
        )
        try:
            path = write_bundle(
                destination,
                contents,
                _files(ctx, opened, request),
                runner_key=ctx.keys.signing_key,
                recipient=target,
            )
        except (VaultError, OSError) as exc:
            _set_state(ctx, row.id, state="open")
            ctx.audit("release-failed", row.id, {"reason": str(exc)[:200]})
            raise
        _set_state(ctx, row.id, state="released", ran_at=now, ran_by=ctx.member, bundle=str(path))
        ctx.audit("release-done", row.id, {"bundle": path.name, "late": late})
    return path


def run_decision(ctx: Context, ref: str) -> Decision:
    """The policies' `run-release` decision for the acting member on a request, as `run` asks it.

    The approvals counted are the verified ones `run` would count; the embargoes are those in
    force now. It decides nothing else `run` checks (the clock guard, freshness, expiry).
    """
    row = _row(ctx, ref)
    request = _verified_request(ctx, row)
    approvers, counts = _counted_approvals(ctx, row, request)
    return active_policy(ctx).engine.decide(
        policy_request(
            ctx,
            "run-release",
            collection_cid=request.collection,
            approvals=counts,
            approvers=len(approvers),
            is_requester=request.requester == ctx.member,
        )
    )


def due(ctx: Context) -> list[str]:
    """Ids of open requests whose time has come and whose approvals the policy accepts."""
    return [v.id for v in list_releases(ctx) if v.status == "due"]


def _embargoes(ctx: Context, cid: str, oids: list[str] | tuple[str, ...]) -> list[datetime]:
    held = embargoes.get(ctx, "collection", cid)
    found = [held.embargo.until] if held else []
    for oid in oids:
        own = embargoes.get(ctx, "document", oid)
        if own:
            found.append(own.embargo.until)
    return found


def _row(ctx: Context, ref: str) -> ReleaseRow:
    ref = ref.lower()
    with Session(ctx.db) as session:
        rows = list(session.exec(select(ReleaseRow).where(col(ReleaseRow.id).startswith(ref))))
    if len(ref) < 4 or not rows:
        raise NotFound(f"no release request {ref!r}", hint="`vault release list` shows them")
    if len(rows) > 1:
        raise UsageError(f"{ref!r} matches several requests", hint="give more digits")
    return rows[0]


def _verified_request(ctx: Context, row: ReleaseRow) -> ReleaseRequest:
    data = row.request.encode()
    request = ReleaseRequest.decode(data)
    if request.id != row.id or request.digest != row.digest or request.vault_id != ctx.vault_id:
        raise IntegrityError(f"release request {row.id} does not match its record")
    requester = ctx.roster.members.get(request.requester)
    if requester is None:
        raise IntegrityError(f"release request {row.id} names an unknown requester")
    sshsig.verify(data, row.signature, requester.public_key())
    return request


def _approvals(ctx: Context, release_id: str) -> list[ApprovalRow]:
    with Session(ctx.db) as session:
        return list(session.exec(select(ApprovalRow).where(ApprovalRow.release_id == release_id)))


def _counted_approvals(
    ctx: Context, row: ReleaseRow, request: ReleaseRequest
) -> tuple[set[str], dict[str, int]]:
    """Approvers whose signature verifies and whom the policy lets approve; counts per role."""
    approvers: set[str] = set()
    counts: Counter[str] = Counter()
    for approval in _approvals(ctx, row.id):
        member = ctx.roster.member(approval.approver)
        if member is None or approval.approver == request.requester:
            continue
        try:
            sshsig.verify(row.request.encode(), approval.signature, member.public_key())
        except IntegrityError:
            continue
        asked = policy_request(
            ctx, "approve-release", member=approval.approver, collection_cid=request.collection
        )
        if not active_policy(ctx).engine.decide(asked).allowed:
            continue
        if approval.approver not in approvers:
            approvers.add(approval.approver)
            counts.update(member.roles)
    return approvers, dict(counts)


def _require_open(ctx: Context, row: ReleaseRow, request: ReleaseRequest) -> None:
    if row.state != "open":
        raise Refused(
            f"release {row.id} has already run"
            if row.state == "released"
            else f"release {row.id} was interrupted while running",
            hint="a request runs once; make a new request to release again",
        )
    if request.expires is not None and ctx.clock.now() >= request.expires:
        raise Refused(f"release {row.id} expired at {request.expires.isoformat()}")


def _set_state(ctx: Context, release_id: str, **values: object) -> None:
    with Session(ctx.db) as session:
        row = session.get(ReleaseRow, release_id)
        assert row is not None
        for key, value in values.items():
            setattr(row, key, value)
        session.add(row)
        session.commit()


def _public_roster(ctx: Context) -> Iterator[PublicMember]:
    for record in ctx.roster.members.values():
        yield PublicMember(
            record.name, tuple(sorted(record.roles)), sshsig.public_key_line(record.public_key())
        )


def _files(ctx: Context, opened: OpenCollection, request: ReleaseRequest) -> list[BundleFile]:
    keys = opened.secret.object_keys
    files = []
    with Session(opened.catalog) as session:
        for oid in request.documents:
            doc = session.get(Document, oid)
            if doc is None:
                raise IntegrityError(f"document {oid[:12]} of the request is not in the catalog")
            first = session.exec(
                select(Occurrence, Intake)
                .join(Intake, col(Intake.id) == col(Occurrence.intake_id))
                .where(Occurrence.oid == oid)
                .order_by(col(Occurrence.id))
            ).first()
            provenance = ""
            if first is not None:
                occurrence, intake = first
                provenance = (
                    f"{occurrence.path} (intake {intake.id}, {intake.source or 'no source'})"
                )
            files.append(
                BundleFile(
                    oid=oid,
                    name=doc.name,
                    size=doc.size,
                    sha256=doc.sha256,
                    mime=doc.mime,
                    status=doc.status,
                    provenance=provenance,
                    chunks=partial(ctx.store.read, oid, size=doc.size, keys=keys),
                )
            )
    return files


def _view(ctx: Context, row: ReleaseRow) -> ReleaseView:
    request = ReleaseRequest.decode(row.request.encode())
    now = ctx.clock.now()
    approvers, counts = _counted_approvals(ctx, row, request)
    if row.state == "released":
        status = "released"
    elif row.state == "running":
        status = "interrupted"
    elif request.expires is not None and now >= request.expires:
        status = "expired"
    elif not _approvals_suffice(ctx, request, approvers, counts):
        status = "pending approvals"
    elif now < max([request.not_before, *_embargoes(ctx, request.collection, request.documents)]):
        status = "waiting for embargo"
    else:
        status = "due"
    return ReleaseView(
        row.id,
        request.collection,
        len(request.documents),
        request.reason,
        request.requester,
        request.not_before,
        request.expires,
        tuple(sorted(approvers)),
        status,
        row.bundle,
    )


def _approvals_suffice(
    ctx: Context, request: ReleaseRequest, approvers: set[str], counts: dict[str, int]
) -> bool:
    """Would the policy let the requester run it, were the embargo over?"""
    asked = policy_request(
        ctx,
        "run-release",
        member=request.requester,
        collection_cid=request.collection,
        approvals=counts,
        approvers=len(approvers),
        is_requester=True,
    )
    # Embargoes are judged separately (status "waiting for embargo"): ask without them.
    unembargoed = replace(asked.resource, embargo_until=None, collection_embargo_until=None)
    return active_policy(ctx).engine.decide(replace(asked, resource=unembargoed)).allowed
