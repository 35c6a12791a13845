"""Embargo records in `vault.db`: signed by who set them, verified before they are believed.

An embargo is the UTC instant it lifts plus the IANA zone it was entered in (DESIGN §8), with the
reason, who set it and when. The row is signed by the member who set it (the same scheme as policy
versions), because every member holds `vault.db`'s key: a row whose signature does not verify is an
`IntegrityError`, and the actions that would have used it fail closed rather than run as if there
were no embargo.

Not caught here: a member deleting a row outright (the audit log keeps every `embargo-set` and
`embargo-lift`, so `vault audit show` reveals it; the release desk should cross-check).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlmodel import Session, col, select

from vault.catalog.governance import EmbargoRow
from vault.errors import IntegrityError, UsageError
from vault.policy import Embargo
from vault.service.context import Context
from vault.service.governance import record_verifies, sign_record

EMBARGO_DOMAIN = b"embargo-vault embargo v1\n"

TargetKind = Literal["collection", "document"]


@dataclass(frozen=True)
class StoredEmbargo:
    """A verified embargo row: what it is on, and the embargo."""

    kind: TargetKind
    target_id: str
    collection_id: str
    embargo: Embargo


def get(ctx: Context, kind: TargetKind, target_id: str) -> StoredEmbargo | None:
    """The verified embargo on a collection or document, if it has one.

    Raises:
        IntegrityError: the row is not signed by the member it names.
    """
    with Session(ctx.db) as session:
        row = session.get(EmbargoRow, (kind, target_id))
    return None if row is None else _verified(ctx, row)


def in_collection(ctx: Context, cid: str) -> list[StoredEmbargo]:
    """The collection's own embargo and those of its documents, collection first.

    Raises:
        IntegrityError: a row is not signed by the member it names.
    """
    with Session(ctx.db) as session:
        rows: Sequence[EmbargoRow] = session.exec(
            select(EmbargoRow)
            .where(EmbargoRow.collection_id == cid)
            .order_by(col(EmbargoRow.target_kind), col(EmbargoRow.until_utc))
        ).all()
    return [_verified(ctx, row) for row in rows]


def put(
    ctx: Context, kind: TargetKind, target_id: str, collection_id: str, embargo: Embargo
) -> StoredEmbargo:
    """Store (or replace) an embargo signed by the acting member. Audit first, under the lock."""
    if embargo.set_by != ctx.member:
        raise UsageError("an embargo is recorded as set by the member who signs it")
    row = EmbargoRow(
        target_kind=kind,
        target_id=target_id,
        collection_id=collection_id,
        until_utc=embargo.until.isoformat(),
        zone=embargo.zone,
        reason=embargo.reason,
        set_by=embargo.set_by,
        set_at=embargo.set_at.isoformat(),
        signature="",
    )
    row.signature = sign_record(ctx, EMBARGO_DOMAIN, _payload(row))
    with Session(ctx.db) as session:
        session.merge(row)
        session.commit()
    return StoredEmbargo(kind, target_id, collection_id, embargo)


def delete(ctx: Context, kind: TargetKind, target_id: str) -> None:
    """Remove an embargo row (lifting it). Audit first, under the lock."""
    with Session(ctx.db) as session:
        row = session.get(EmbargoRow, (kind, target_id))
        if row is not None:
            session.delete(row)
            session.commit()


def _verified(ctx: Context, row: EmbargoRow) -> StoredEmbargo:
    what = f"the embargo on {row.target_kind} {row.target_id}"
    if row.target_kind not in ("collection", "document") or not record_verifies(
        ctx, EMBARGO_DOMAIN, _payload(row), row.set_by, row.signature
    ):
        raise IntegrityError(
            f"{what} is not signed by the member it names: vault.db was altered",
            hint="`vault audit show` lists who set and lifted embargoes",
        )
    try:
        embargo = Embargo(
            until=_instant(row.until_utc),
            zone=row.zone,
            reason=row.reason,
            set_by=row.set_by,
            set_at=_instant(row.set_at),
        )
    except (ValueError, UsageError):
        raise IntegrityError(f"{what} is damaged") from None
    kind: TargetKind = "collection" if row.target_kind == "collection" else "document"
    return StoredEmbargo(kind, row.target_id, row.collection_id, embargo)


def _payload(row: EmbargoRow) -> dict[str, Any]:
    return {
        "kind": row.target_kind,
        "target_id": row.target_id,
        "collection_id": row.collection_id,
        "until": row.until_utc,
        "zone": row.zone,
        "reason": row.reason,
        "set_by": row.set_by,
        "set_at": row.set_at,
    }


def _instant(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError("naive instant")
    return value.astimezone(UTC)
