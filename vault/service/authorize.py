"""Asking the active policy set before a governed action (DESIGN §2.4, §8).

Every workflow calls `authorize(ctx, action, …)` at its top, after finding what it acts on and
before it audits or changes anything. The request is built from verified facts only:

- the principal is the acting member with the roles of the verified roster;
- `now` is the vault's injected clock;
- the resource is the vault, a collection or a document, with the collection's and the
  document's verified embargo instants (`vault.service.governance_embargoes`).

Policy is an additional gate. The roster's own rules (admin-signed member statements) and
cryptography (you cannot open a collection you were not given) stay the real gates for reading:
`authorize` is called after a collection has been opened with the member's own key, never instead.

A refusal is logged (`refused`, with the action and the rules that decided) after it is decided and
before it is raised; if even that entry cannot be written, the refusal stands.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass

from vault.errors import NotFound, UsageError, VaultError
from vault.policy import Decision, PolicyDenied, Principal, Request, Resource
from vault.service import governance_embargoes as embargoes
from vault.service.context import Context
from vault.service.governance import PolicyUnavailable, active_policy


@dataclass(frozen=True)
class Target:
    """A collection or document named on the command line, resolved among what the member holds.

    `name` is the collection's name or the document's name, for messages.
    """

    kind: embargoes.TargetKind
    collection_id: str
    oid: str | None
    name: str
    collection_name: str

    @property
    def id(self) -> str:
        """The collection id, or the document id."""
        return self.oid or self.collection_id


def resolve_target(ctx: Context, ref: str) -> Target:
    """A collection the member holds (by name or id), else a document (by id or id prefix).

    Raises:
        NotFound: neither a collection nor a document the member can read.
        UsageError: an ambiguous document prefix.
    """
    from vault.service.reading import resolve

    with suppress(NotFound):
        opened = ctx.find_collection(ref)
        return Target("collection", opened.cid, None, opened.name, opened.name)
    try:
        opened, doc = resolve(ctx, ref)
    except UsageError as exc:
        if isinstance(exc, NotFound) or "is not a document id" in exc.message:
            raise NotFound(
                f"no collection or document {ref!r} that you can read",
                hint="give a collection name from `vault collection list` or a document id",
            ) from None
        raise
    return Target("document", opened.cid, doc.oid, doc.name, opened.name)


def principal(ctx: Context, member: str | None = None) -> Principal:
    """A member (by default the acting one) with the roles the verified roster gives them.

    Raises:
        NotFound: no such active member.
    """
    record = ctx.record(member or ctx.member)
    return Principal(record.name, record.roles)


def resource(
    ctx: Context, *, collection_cid: str | None = None, oid: str | None = None
) -> Resource:
    """The vault, a collection or a document, with the verified embargo instants.

    Raises:
        UsageError: a document without its collection.
        IntegrityError: an embargo row does not verify.
    """
    if oid is not None:
        if collection_cid is None:
            raise UsageError("a document is asked about with its collection")
        own = embargoes.get(ctx, "document", oid)
        held = embargoes.get(ctx, "collection", collection_cid)
        return Resource.for_document(
            oid,
            collection_cid,
            own.embargo.until if own else None,
            held.embargo.until if held else None,
        )
    if collection_cid is not None:
        held = embargoes.get(ctx, "collection", collection_cid)
        return Resource.for_collection(collection_cid, held.embargo.until if held else None)
    return Resource.vault(ctx.vault_id)


def request(
    ctx: Context,
    action: str,
    *,
    member: str | None = None,
    collection_cid: str | None = None,
    oid: str | None = None,
    approvals: Mapping[str, int] | None = None,
    approvers: int = 0,
    is_requester: bool = False,
) -> Request:
    """The policy request for an action, built from the verified roster, clock and embargoes."""
    return Request(
        principal(ctx, member),
        action,
        resource(ctx, collection_cid=collection_cid, oid=oid),
        ctx.clock.now(),
        approvals=dict(approvals or {}),
        approvers=approvers,
        is_requester=is_requester,
    )


def authorize(
    ctx: Context,
    action: str,
    *,
    collection_cid: str | None = None,
    oid: str | None = None,
    approvals: Mapping[str, int] | None = None,
    approvers: int = 0,
    is_requester: bool = False,
) -> Decision:
    """Refuse unless the active policy set allows the acting member this action now.

    Args:
        ctx: the unlocked vault.
        action: a policy action, e.g. `grant` (see `vault.policy.ACTIONS`).
        collection_cid: the collection acted on (or the document's collection).
        oid: the document acted on; needs `collection_cid`.
        approvals: valid approvals per role (release actions), the requester's own excluded.
        approvers: distinct members behind `approvals`.
        is_requester: the member made the release request acted on.

    Returns:
        The allowing decision (its `reasons` name the permitting rules, for the audit entry).

    Raises:
        PolicyDenied: the policies refuse it (exit 3).
        PolicyUnavailable: the active policy set is missing, invalid or does not verify (exit 3).
        UsageError: the action does not apply to that kind of resource (a bug to fix).
        IntegrityError: an embargo row does not verify.
    """
    target = oid or collection_cid or ""
    try:
        policy = active_policy(ctx)
        return policy.engine.require(
            request(
                ctx,
                action,
                collection_cid=collection_cid,
                oid=oid,
                approvals=approvals,
                approvers=approvers,
                is_requester=is_requester,
            )
        )
    except PolicyDenied as exc:
        _log_refusal(ctx, action, target, list(exc.decision.reasons) or ["default deny"])
        raise
    except PolicyUnavailable:
        _log_refusal(ctx, action, target, ["no valid active policy set"])
        raise


def permitted(
    ctx: Context, action: str, *, collection_cid: str | None = None, oid: str | None = None
) -> bool:
    """Whether the policies allow the acting member this action now (nothing is logged).

    Raises:
        PolicyUnavailable: the active policy set is missing, invalid or does not verify.
    """
    policy = active_policy(ctx)
    decision = policy.engine.decide(request(ctx, action, collection_cid=collection_cid, oid=oid))
    return decision.allowed


def explain(
    ctx: Context, action: str, *, member: str | None = None, on: str | None = None
) -> Decision:
    """The decision for a member (default: the acting one) and the rules that determined it.

    Args:
        ctx: the unlocked vault.
        action: the policy action.
        member: whom to ask about; any active member.
        on: a collection or document the acting member holds; None for the vault itself.

    Raises:
        PolicyUnavailable: the active policy set is missing, invalid or does not verify.
        NotFound: no such member, collection or document.
        UsageError: the action does not apply to that kind of resource.
    """
    target = resolve_target(ctx, on) if on else None
    policy = active_policy(ctx)
    return policy.engine.decide(
        request(
            ctx,
            action,
            member=member,
            collection_cid=target.collection_id if target else None,
            oid=target.oid if target else None,
        )
    )


def _log_refusal(ctx: Context, action: str, target: str, why: list[str]) -> None:
    # The refusal is already decided; failing to log it must not turn it into something else.
    with suppress(VaultError, OSError):
        ctx.audit("refused", target, {"action": action, "why": ", ".join(why)})
