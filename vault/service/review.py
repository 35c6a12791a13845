"""Review: a document's verification status with its history, notes and tags.

    unverified → in-review → authentic | disputed | forged      (and back to in-review, with a note)

Every change is audited and kept in the catalog: status changes as history (who, when, why),
notes append-only with their author and time, tags free-form.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from vault.catalog.models import Document, Note, StatusChange, Tag
from vault.errors import UsageError
from vault.service import freshness
from vault.service.authorize import authorize
from vault.service.context import Context
from vault.service.reading import resolve

STATUSES = ("unverified", "in-review", "authentic", "disputed", "forged")
TRANSITIONS = {
    "unverified": {"in-review"},
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
    if status == "in-review" and doc.status != "unverified" and not note.strip():
        raise UsageError(
            f"reopening a document marked {doc.status} needs a note saying why",
            hint="add --note TEXT",
        )
    with ctx.lock:
        intent = ctx.audit("mark", doc.oid, {"from": doc.status, "to": status, "note": note})
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
        # Confirmed in the log once the catalog holds it: a catalog rolled back past it is caught.
        freshness.confirm(ctx, "mark", doc.oid, intent)
    return previous


def add_note(ctx: Context, ref: str, text: str) -> None:
    """Append a note to a document (notes are never edited or removed).

    Raises:
        UsageError: an empty note.
    """
    if not text.strip():
        raise UsageError("the note is empty")
    opened, doc = resolve(ctx, ref)
    authorize(ctx, "mark", collection_cid=opened.cid, oid=doc.oid)
    with ctx.lock:
        ctx.audit("note", doc.oid, {"text": text})
        with Session(opened.catalog) as session:
            session.add(Note(oid=doc.oid, member=ctx.member, at=ctx.clock.now(), text=text))
            session.commit()


def tag(ctx: Context, ref: str, tags: list[str], *, remove: bool = False) -> tuple[str, ...]:
    """Add (or remove) tags on a document; returns its tags afterwards.

    Raises:
        UsageError: an empty or over-long tag, or one with control characters.
    """
    cleaned = sorted({t.strip() for t in tags})
    if not cleaned or any(not t or len(t) > 64 or not t.isprintable() for t in cleaned):
        raise UsageError("tags are 1-64 printable characters", hint="e.g. vault tag DOC finance")
    opened, doc = resolve(ctx, ref)
    authorize(ctx, "tag", collection_cid=opened.cid, oid=doc.oid)
    with ctx.lock:
        ctx.audit("untag" if remove else "tag", doc.oid, {"tags": ",".join(cleaned)})
        with Session(opened.catalog) as session:
            for name in cleaned:
                existing = session.get(Tag, (doc.oid, name))
                if remove and existing is not None:
                    session.delete(existing)
                elif not remove and existing is None:
                    session.add(Tag(oid=doc.oid, tag=name))
            session.commit()
            rows = session.exec(select(Tag.tag).where(Tag.oid == doc.oid).order_by(col(Tag.tag)))
            return tuple(rows)
