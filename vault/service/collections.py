"""Collections: creating, listing, granting, revoking and exporting an identity.

A collection's secret is sealed to its recipients as the signed roster lists them. Granting adds
a recipient and re-seals the current version; revoking rotates to a new version (new identity,
new catalog key, re-keyed catalog) sealed to the remaining members, so material checked in
afterwards is unreadable to the revoked member. Revocation does not un-read what they already
read, and objects stored before it stay encrypted to the old identity (which they may have kept).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlmodel import Session, func, select

from vault.catalog.models import CollectionEntry, CollectionInfo, Document
from vault.errors import UsageError
from vault.keys import sealed
from vault.keys.roster import Roster, RosterState
from vault.keys.sealed import CollectionSecret
from vault.service.authorize import authorize
from vault.service.context import Context, OpenCollection, open_catalog


@dataclass(frozen=True)
class CollectionView:
    """A collection as listings show it."""

    cid: str
    name: str
    description: str
    documents: int
    members: tuple[str, ...]
    key_version: int


def create_collection(ctx: Context, name: str, description: str = "") -> CollectionView:
    """Create a collection held by the acting member.

    Raises:
        UsageError: the name is empty or already used by a collection this member holds.
    """
    if not name.strip() or len(name) > 200 or not name.isprintable():
        raise UsageError("a collection needs a printable name of at most 200 characters")
    if any(c.name == name for c in ctx.readable_collections()):
        raise UsageError(f"a collection named {name!r} already exists")
    cid = secrets.token_hex(8)
    # A collection is made to check material into: creating one is asked as `checkin` on it.
    authorize(ctx, "checkin", collection_cid=cid)
    with ctx.lock:
        ctx.audit("collection-create", cid)
        secret = CollectionSecret.generate(cid)
        me = [ctx.record(ctx.member)]
        sealed.write_collection_secret(ctx.dir, secret, me)
        catalog = open_catalog(ctx.dir, cid, secret.catalog_key)
        now = ctx.clock.now()
        with Session(catalog) as session:
            session.add(
                CollectionInfo(
                    name=name, description=description, created_at=now, created_by=ctx.member
                )
            )
            session.commit()
        catalog.dispose()
        ctx.roster = _grant_statement(ctx, cid, 1, {ctx.member})
        with Session(ctx.db) as session:
            session.add(CollectionEntry(cid=cid, key_version=1, created_at=now))
            session.commit()
    return _view(ctx, ctx.open_collection(cid))


def list_collections(ctx: Context) -> list[CollectionView]:
    """Collections this member holds (others are not even named to them)."""
    return [_view(ctx, c) for c in ctx.readable_collections()]


def grant(ctx: Context, collection: str, member: str) -> CollectionView:
    """Give a member a collection's current secret.

    Raises:
        UsageError: the member already holds it.
    """
    opened = ctx.find_collection(collection)
    record = ctx.record(member)
    authorize(ctx, "grant", collection_cid=opened.cid)
    grant_ = ctx.roster.collections[opened.cid]
    if member in grant_.recipients:
        raise UsageError(f"{member!r} already holds this collection")
    with ctx.lock:
        ctx.audit("grant", opened.cid, {"member": member})
        recipients = set(grant_.recipients) | {record.name}
        ctx.roster = _grant_statement(ctx, opened.cid, grant_.version + 1, recipients)
        # Same keys, new version number: the roster version and the sealed file stay in step.
        secret = opened.secret
        bumped = CollectionSecret(
            secret.cid,
            secret.version + 1,
            (*secret.identities, secret.current),
            secret.catalog_key,
            secret.id_key,
        )
        sealed.write_collection_secret(ctx.dir, bumped, ctx.roster.recipients_of(opened.cid))
        _set_version(ctx, opened.cid, bumped.version)
    ctx.forget_collection(opened.cid)
    return _view(ctx, ctx.open_collection(opened.cid))


def revoke(ctx: Context, collection: str, member: str, *, audited: bool = True) -> CollectionView:
    """Take a collection away from a member, rotating its keys.

    Raises:
        UsageError: the member does not hold it, or is the last holder.
    """
    opened = ctx.find_collection(collection)
    if audited:
        # Without the audit entry, this is part of removing a member (`manage-members`).
        authorize(ctx, "revoke", collection_cid=opened.cid)
    grant_ = ctx.roster.collections[opened.cid]
    if member not in grant_.recipients:
        raise UsageError(f"{member!r} does not hold this collection")
    if grant_.recipients == {member}:
        raise UsageError("the last holder of a collection cannot be revoked")
    with ctx.lock:
        if audited:
            ctx.audit("revoke", opened.cid, {"member": member})
        rotated = opened.secret.rotated()
        recipients = set(grant_.recipients) - {member}
        ctx.roster = _grant_statement(ctx, opened.cid, rotated.version, recipients)
        sealed.write_collection_secret(ctx.dir, rotated, ctx.roster.recipients_of(opened.cid))
        with opened.catalog.connect() as conn:
            conn.exec_driver_sql(f"PRAGMA rekey = \"x'{rotated.catalog_key.hex()}'\"")
        _set_version(ctx, opened.cid, rotated.version)
    ctx.forget_collection(opened.cid)
    return _view(ctx, ctx.open_collection(opened.cid))


def export_identity(ctx: Context, collection: str) -> str:
    """The collection's age identities, one per line, for emergency recovery with `age -d`.

    Dangerous: whoever holds this text can read every object of the collection.
    """
    opened = ctx.find_collection(collection)
    authorize(ctx, "export-identity", collection_cid=opened.cid)
    ctx.audit("export-identity", opened.cid, {"danger": "collection identity exported"})
    lines = [f"# embargo-vault collection {opened.cid} (key versions 1-{opened.secret.version})"]
    lines += [str(identity) for identity in dict.fromkeys(opened.secret.identities)]
    return "\n".join(lines) + "\n"


def _grant_statement(ctx: Context, cid: str, version: int, recipients: set[str]) -> RosterState:
    return Roster(ctx.dir).append(
        ctx.roster,
        signer=ctx.member,
        key=ctx.keys.signing_key,
        kind="collection",
        body={"cid": cid, "version": version, "recipients": sorted(recipients)},
        at=ctx.clock.now(),
    )


def _set_version(ctx: Context, cid: str, version: int) -> None:
    with Session(ctx.db) as session:
        entry = session.get(CollectionEntry, cid)
        assert entry is not None
        entry.key_version = version
        session.add(entry)
        session.commit()


def _view(ctx: Context, opened: OpenCollection) -> CollectionView:
    with Session(opened.catalog) as session:
        info = session.get(CollectionInfo, 1)
        count = session.exec(select(func.count()).select_from(Document)).one()
    grant_ = ctx.roster.collections[opened.cid]
    return CollectionView(
        opened.cid,
        opened.name,
        info.description if info else "",
        int(count),
        tuple(sorted(grant_.recipients)),
        grant_.version,
    )
