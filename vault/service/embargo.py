"""Embargoes: setting, extending, lifting and showing them (DESIGN §8).

An embargo holds a collection, or one document, until a UTC instant, shown with the zone it was
entered in. A document's own embargo can only be stricter (later) than its collection's; the
policies see the later of the two. Every change is time-dependent (the clock guard runs first),
governed (`set-embargo`; moving an embargo *earlier*, even through `set`, is a partial lift and
needs `lift-embargo`) and audited before it is made, then confirmed in the log once `vault.db`
holds it (`vault.service.freshness`), so a `vault.db` rolled back past it is caught.

Embargoes hold publication, not reading: reporters work on embargoed material.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from vault.catalog.models import Document
from vault.errors import UsageError
from vault.policy import Embargo
from vault.policy.embargo import countdown, local_rendering, utc_rendering, zone_info
from vault.service import freshness
from vault.service import governance_embargoes as records
from vault.service.authorize import Target, authorize, permitted, resolve_target
from vault.service.context import Context
from vault.service.governance_embargoes import StoredEmbargo
from vault.service.governance_time import require_clock

MAX_REASON = 500


@dataclass(frozen=True)
class EmbargoView:
    """An embargo as `vault embargo show` prints it.

    `until_utc` is ISO 8601; `utc` and `local` are the two renderings; `effective_until` is, for a
    document, the later of its own and its collection's embargo (what actually holds it).
    """

    kind: str
    target_id: str
    collection_id: str
    collection: str
    name: str
    until_utc: str
    utc: str
    local: str
    zone: str
    reason: str
    set_by: str
    set_at: str
    holds: bool
    countdown: str
    rendering: str
    effective_until: str


def set_embargo(ctx: Context, ref: str, until: datetime, zone: str, reason: str) -> EmbargoView:
    """Put an embargo on a collection or document, or replace the one it has.

    Raises:
        UsageError: a past instant, a bad zone or reason, or a document embargo earlier than its
            collection's.
        ClockRolledBack: the clock guard refuses.
        PolicyDenied: `set-embargo` (or `lift-embargo`, when moving an embargo earlier) refused.
    """
    target = resolve_target(ctx, ref)
    embargo = _new_embargo(ctx, target, until, zone, reason)
    existing = records.get(ctx, target.kind, target.id)
    earlier = existing is not None and embargo.until < existing.embargo.until
    return _store(ctx, target, embargo, existing, "lift-embargo" if earlier else "set-embargo")


def extend_embargo(
    ctx: Context, ref: str, until: datetime, zone: str, reason: str | None = None
) -> EmbargoView:
    """Move an existing embargo later (keeping its reason unless a new one is given).

    Raises:
        UsageError: no embargo to extend, or an instant that is not later than the current one.
        ClockRolledBack: the clock guard refuses.
        PolicyDenied: `set-embargo` refused.
    """
    target = resolve_target(ctx, ref)
    existing = records.get(ctx, target.kind, target.id)
    if existing is None:
        raise UsageError(
            f"{target.kind} {_shown(target)} has no embargo to extend",
            hint="`vault embargo set` puts one on",
        )
    embargo = _new_embargo(
        ctx, target, until, zone, existing.embargo.reason if reason is None else reason
    )
    if embargo.until <= existing.embargo.until:
        raise UsageError(
            f"extend only moves an embargo later: {utc_rendering(embargo.until)} is not after "
            f"{utc_rendering(existing.embargo.until)}",
            hint="moving it earlier is a partial lift: `vault embargo set` (needs lift-embargo)",
        )
    return _store(ctx, target, embargo, existing, "set-embargo")


def lift_embargo(ctx: Context, ref: str) -> EmbargoView:
    """Lift a collection's or document's own embargo now; returns the embargo that was lifted.

    Raises:
        UsageError: it has no embargo.
        ClockRolledBack: the clock guard refuses.
        PolicyDenied: `lift-embargo` refused.
    """
    target = resolve_target(ctx, ref)
    existing = records.get(ctx, target.kind, target.id)
    if existing is None:
        raise UsageError(f"{target.kind} {_shown(target)} has no embargo to lift")
    require_clock(ctx, action="lift-embargo", target=target.id)
    authorize(ctx, "lift-embargo", collection_cid=target.collection_id, oid=target.oid)
    view = _view(ctx, target, existing)
    with ctx.lock:
        intent = ctx.audit(
            "embargo-lift",
            target.id,
            {
                "kind": target.kind,
                "until": existing.embargo.until.isoformat(),
                "zone": existing.embargo.zone,
                "reason": existing.embargo.reason,
            },
        )
        records.delete(ctx, target.kind, target.id)
        freshness.confirm(ctx, "embargo-lift", target.id, intent, target.kind)
    return view


def embargoes(ctx: Context, ref: str | None = None) -> list[EmbargoView]:
    """Embargoes in the collections the member holds and may read (or on one target).

    For a collection target: its own embargo and its documents'. For a document: its own and
    its collection's.
    """
    if ref is not None:
        target = resolve_target(ctx, ref)
        authorize(ctx, "read", collection_cid=target.collection_id, oid=target.oid)
        stored = records.in_collection(ctx, target.collection_id)
        if target.kind == "document":
            stored = [s for s in stored if s.kind == "collection" or s.target_id == target.oid]
        return _views(ctx, target, stored)
    views: list[EmbargoView] = []
    for opened in ctx.readable_collections():
        if permitted(ctx, "read", collection_cid=opened.cid):
            holder = Target("collection", opened.cid, None, opened.name, opened.name)
            views += _views(ctx, holder, records.in_collection(ctx, opened.cid))
    return views


def _views(ctx: Context, holder: Target, stored: list[StoredEmbargo]) -> list[EmbargoView]:
    views: list[EmbargoView] = []
    for row in stored:
        target = _target_of(ctx, holder, row)
        if target is not None:
            views.append(_view(ctx, target, row))
    return views


def _new_embargo(ctx: Context, target: Target, until: datetime, zone: str, reason: str) -> Embargo:
    zone_info(zone)
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON or not reason.isprintable():
        raise UsageError(
            f"an embargo needs a reason: printable text of at most {MAX_REASON} characters",
            hint='e.g. --reason "polls close; electoral silence law"',
        )
    now = ctx.clock.now()
    embargo = Embargo(until=until, zone=zone, reason=reason, set_by=ctx.member, set_at=now)
    if not embargo.holds(now):
        raise UsageError(
            f"{utc_rendering(embargo.until)} has already passed (the clock reads "
            f"{utc_rendering(now)})",
            hint="an embargo holds until a future instant",
        )
    if target.kind == "document":
        held = records.get(ctx, "collection", target.collection_id)
        if held is not None and embargo.until < held.embargo.until:
            raise UsageError(
                "a document's embargo can only be stricter than its collection's: "
                f"{_shown(target)} is in {target.collection_name!r}, embargoed "
                f"{held.embargo.render(now)}",
                hint=f"give {utc_rendering(held.embargo.until)} or later",
            )
    return embargo


def _store(
    ctx: Context, target: Target, embargo: Embargo, existing: StoredEmbargo | None, action: str
) -> EmbargoView:
    require_clock(ctx, action=action, target=target.id)
    authorize(ctx, action, collection_cid=target.collection_id, oid=target.oid)
    details = {
        "kind": target.kind,
        "until": embargo.until.isoformat(),
        "zone": embargo.zone,
        "reason": embargo.reason,
        "previous": existing.embargo.until.isoformat() if existing else None,
        "policy_action": action,
    }
    with ctx.lock:
        intent = ctx.audit("embargo-set", target.id, details)
        stored = records.put(ctx, target.kind, target.id, target.collection_id, embargo)
        freshness.confirm(ctx, "embargo-set", target.id, intent, target.kind)
    return _view(ctx, target, stored)


def _target_of(ctx: Context, holder: Target, stored: StoredEmbargo) -> Target | None:
    """The target a stored row is about, named from the collection's catalog (None if gone)."""
    name = holder.collection_name
    if stored.kind == "collection":
        return Target("collection", holder.collection_id, None, name, name)
    opened = ctx.open_collection(holder.collection_id)
    with Session(opened.catalog) as session:
        doc = session.get(Document, stored.target_id)
    if doc is None:
        return None
    return Target("document", holder.collection_id, doc.oid, doc.name, name)


def _view(ctx: Context, target: Target, stored: StoredEmbargo) -> EmbargoView:
    now = ctx.clock.now()
    embargo = stored.embargo
    effective = embargo.until
    if stored.kind == "document":
        held = records.get(ctx, "collection", stored.collection_id)
        if held is not None and held.embargo.until > effective:
            effective = held.embargo.until
    return EmbargoView(
        kind=stored.kind,
        target_id=stored.target_id,
        collection_id=stored.collection_id,
        collection=target.collection_name,
        name=target.name,
        until_utc=embargo.until.isoformat(),
        utc=utc_rendering(embargo.until),
        local=f"{local_rendering(embargo.until, zone_info(embargo.zone))} {embargo.zone}",
        zone=embargo.zone,
        reason=embargo.reason,
        set_by=embargo.set_by,
        set_at=embargo.set_at.isoformat(),
        holds=now < effective,
        countdown=countdown(effective, now),
        rendering=embargo.render(now),
        effective_until=effective.isoformat(),
    )


def _shown(target: Target) -> str:
    return repr(target.name) if target.kind == "collection" else f"{target.oid} ({target.name!r})"
