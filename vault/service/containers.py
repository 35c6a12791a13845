"""Containers: which documents of a collection were found inside which (archives, mailboxes).

Check-in stores an archive or mailbox as a document and each member as a document of its own,
whose occurrence names the container (`Occurrence.parent_oid`). `containers` returns, for every
document, the distinct containers it was found in, in the order it was first found there; `None`
stands for "at the top of an intake" (found loose, not inside another document). A document found
both loose and in an archive, or in two archives, lists each place. Reading this needs `read` on
the collection, like listing it, and is audited as a listing.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from vault.catalog.models import Occurrence
from vault.service.authorize import authorize
from vault.service.context import Context


def containers(ctx: Context, collection: str) -> dict[str, tuple[str | None, ...]]:
    """Each document's containers (by oid; `None` for the top of an intake).

    Args:
        collection: the collection's name or id.

    Returns:
        Every document that has an occurrence, mapped to the distinct places it was found in.

    Raises:
        NotFound: no such collection among those the member holds.
        PolicyDenied: the policies refuse `read` on the collection.
    """
    opened = ctx.find_collection(collection)
    authorize(ctx, "read", collection_cid=opened.cid)
    ctx.audit("list", opened.cid, {"containers": True})
    places: dict[str, list[str | None]] = {}
    with Session(opened.catalog) as session:
        rows = session.exec(
            select(Occurrence.oid, Occurrence.parent_oid).order_by(col(Occurrence.id))
        )
        for oid, parent in rows:
            found = places.setdefault(oid, [])
            if parent not in found:
                found.append(parent)
    return {oid: tuple(found) for oid, found in places.items()}
