"""Review: a document's verification status, with its history.

    unverified → in-review → authentic | disputed | forged      (and back to in-review)

Every change is audited and kept in the catalog's history with who, when and why.
"""

from __future__ import annotations

from sqlmodel import Session

from vault.catalog.models import Document, StatusChange
from vault.errors import UsageError
from vault.service.authorize import authorize
from vault.service.context import Context
from vault.service.reading import resolve

STATUSES = ("unverified", "in-review", "authentic", "disputed", "forged")
TRANSITIONS = {
    "unverified": {"in-review", "authentic", "disputed", "forged"},
    "in-review": {"authentic", "disputed", "forged"},
    "authentic": {"in-review"},
    "disputed": {"in-review"},
    "forged": {"in-review"},
}


def mark(ctx: Context, ref: str, status: str, note: str = "") -> str:
    """Set a document's status; returns the previous one.

    Raises:
        UsageError: unknown status, or a transition the workflow does not allow.
    """
    if status not in STATUSES:
        raise UsageError(f"unknown status {status!r}", hint="one of: " + ", ".join(STATUSES))
    opened, doc = resolve(ctx, ref)
    authorize(ctx, "mark", collection_cid=opened.cid, oid=doc.oid)
    if status not in TRANSITIONS[doc.status]:
        raise UsageError(
            f"a document cannot go from {doc.status} to {status}",
            hint="mark it in-review first" if doc.status != "in-review" else None,
        )
    with ctx.lock:
        ctx.audit("mark", doc.oid, {"from": doc.status, "to": status, "note": note})
        with Session(opened.catalog) as session:
            row = session.get(Document, doc.oid)
            assert row is not None
            previous = row.status
            row.status = status
            session.add(row)
            session.add(
                StatusChange(
                    oid=doc.oid,
                    old=previous,
                    new=status,
                    member=ctx.member,
                    at=ctx.clock.now(),
                    note=note,
                )
            )
            session.commit()
    return previous
