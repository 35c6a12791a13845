"""Reading: listing documents, showing one, and writing one out. Every read is audited.

Reading needs the collection's key (cryptography, the real gate) and then `read` from the policies;
`ls` without a collection lists only the collections the policies let the member read.
"""

from __future__ import annotations

import functools
import os
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sqlmodel import Session, col, select

from vault.catalog.models import Document, Intake, Note, Occurrence, StatusChange, Tag
from vault.errors import NotFound, UsageError
from vault.review.preview import Preview, preview
from vault.service.authorize import authorize, permitted
from vault.service.context import Context, OpenCollection
from vault.store.atomic import create_exclusive, fsync_dir

PREVIEW_BYTES = 256 * 1024


@dataclass(frozen=True)
class DocumentView:
    """A document as listings show it."""

    oid: str
    collection: str
    name: str
    size: int
    sha256: str
    mime: str
    status: str
    flags: tuple[str, ...]
    tags: tuple[str, ...] = ()
    dkim: str = ""


@dataclass(frozen=True)
class OccurrenceView:
    """One place a document was found: intake, container, path."""

    intake: int
    member: str
    at: str
    source: str
    medium: str
    container: str | None
    path: str


@dataclass(frozen=True)
class DocumentDetail:
    """Everything `vault show` prints."""

    document: DocumentView
    description: str
    occurrences: tuple[OccurrenceView, ...]
    dkim_detail: str = ""
    index_error: str = ""
    notes: tuple[NoteView, ...] = ()
    history: tuple[StatusView, ...] = ()


@dataclass(frozen=True)
class NoteView:
    """A note, as written."""

    member: str
    at: str
    text: str


@dataclass(frozen=True)
class StatusView:
    """One change of verification status."""

    member: str
    at: str
    old: str
    new: str
    note: str


@dataclass(frozen=True)
class Filter:
    """What `ls` narrows a listing to; empty fields match everything."""

    status: str | None = None
    flag: str | None = None
    mime: str | None = None  # a prefix: "application/pdf", or "image/" for every image
    tag: str | None = None

    @property
    def empty(self) -> bool:
        """Whether it lets every document through."""
        return self.status is None and self.flag is None and self.mime is None and self.tag is None

    def accepts(self, view: DocumentView) -> bool:
        """Whether a document (with its tags) passes the filter."""
        return (
            (self.status is None or view.status == self.status)
            and (self.flag is None or self.flag in view.flags)
            and (self.mime is None or view.mime.startswith(self.mime))
            and (self.tag is None or self.tag in view.tags)
        )


# The columns a DocumentView is made of, in `view_of_row`'s order. Listings select just these:
# building an ORM object per row cost eight times the read itself at 100,000 documents.
VIEW_COLUMNS = ("oid", "name", "size", "sha256", "mime", "status", "flags", "dkim")


def view_of_row(
    opened: OpenCollection, row: Sequence[Any], tags: tuple[str, ...] = ()
) -> DocumentView:
    """A DocumentView from the `VIEW_COLUMNS` of one row."""
    oid, name, size, sha256, mime, status, flags, dkim = row[:8]
    return DocumentView(
        oid, opened.name, name, size, sha256, mime, status, _flags(flags), tags, dkim
    )


@functools.lru_cache(maxsize=4096)
def _flags(joined: str) -> tuple[str, ...]:
    # A catalog holds few distinct flag sets: each is split once per listing, not once per row.
    return tuple(f for f in joined.split(",") if f)


def tags_of(session: Session, oids: list[str] | None = None) -> dict[str, tuple[str, ...]]:
    """Tags per document (of the given documents, or of all)."""
    query = select(Tag.oid, Tag.tag).order_by(col(Tag.tag))
    if oids is not None:
        query = query.where(col(Tag.oid).in_(oids))
    found: dict[str, list[str]] = {}
    for oid, tag in session.exec(query):
        found.setdefault(oid, []).append(tag)
    return {oid: tuple(tags) for oid, tags in found.items()}


def list_documents(
    ctx: Context, collection: str | None = None, where: Filter | None = None
) -> list[DocumentView]:
    """Documents in one collection, or in every collection the member holds."""
    return [view for page in document_pages(ctx, collection, where) for view in page]


def document_pages(
    ctx: Context, collection: str | None = None, where: Filter | None = None, *, first: int = 0
) -> Iterator[list[DocumentView]]:
    """`list_documents` in pages: at least the first `first` documents, as soon as they are
    read, then the rest if there is any. With `first=0`, or fewer documents, one page.

    A screen paints the first page while the rest is read: at 100,000 documents, reading every
    row takes most of a second, the first screenful a fraction of that. The listing is
    authorized and audited once, when iteration starts.
    """
    where = where or Filter()
    if collection:
        chosen = [ctx.find_collection(collection)]
        authorize(ctx, "read", collection_cid=chosen[0].cid)
    else:
        # Only the collections the policies let this member read are listed (and logged).
        chosen = [
            c for c in ctx.readable_collections() if permitted(ctx, "read", collection_cid=c.cid)
        ]
    ctx.audit("list", ",".join(c.cid for c in chosen))
    page: list[DocumentView] = []
    wanted = first  # rows still owed to the first page; 0 once it is out
    sql = f"SELECT {', '.join(VIEW_COLUMNS)} FROM document ORDER BY name, oid"  # noqa: S608
    for opened in chosen:
        with Session(opened.catalog) as session:
            tags = tags_of(session)
            # The driver's own cursor: SQLAlchemy's row objects cost a third of the fetch again.
            cursor = session.connection().connection.cursor()
            try:
                cursor.execute(sql)
                while rows := cursor.fetchmany(wanted) if wanted else cursor.fetchall():
                    found = (view_of_row(opened, row, tags.get(row[0], ())) for row in rows)
                    page.extend(found if where.empty else (v for v in found if where.accepts(v)))
                    if wanted and len(page) >= first:
                        yield page
                        page, wanted = [], 0
            finally:
                cursor.close()
    if page or wanted == first:  # the rest, or everything when no first page went out
        yield page


def resolve(ctx: Context, ref: str) -> tuple[OpenCollection, Document]:
    """A document by id or unique id prefix (at least 6 hex digits).

    Raises:
        UsageError: the prefix is too short or matches several documents.
        NotFound: no readable document matches.
    """
    ref = ref.lower()
    if len(ref) < 6 or any(c not in "0123456789abcdef" for c in ref):
        raise UsageError(
            f"{ref!r} is not a document id",
            hint="give at least 6 hex digits of an id from `vault ls`",
        )
    matches: list[tuple[OpenCollection, Document]] = []
    for opened in ctx.readable_collections():
        with Session(opened.catalog) as session:
            rows = session.exec(select(Document).where(col(Document.oid).startswith(ref)).limit(2))
            matches.extend((opened, row) for row in rows)
    if not matches:
        raise NotFound(f"no document {ref!r} that you can read")
    if len(matches) > 1:
        raise UsageError(f"{ref!r} matches several documents", hint="give more digits")
    return matches[0]


def show(ctx: Context, ref: str) -> DocumentDetail:
    """A document's metadata and every occurrence."""
    opened, doc = resolve(ctx, ref)
    authorize(ctx, "read", collection_cid=opened.cid, oid=doc.oid)
    ctx.audit("show", doc.oid)
    with Session(opened.catalog) as session:
        rows = session.exec(
            select(Occurrence, Intake)
            .join(Intake, col(Intake.id) == col(Occurrence.intake_id))
            .where(Occurrence.oid == doc.oid)
            .order_by(col(Occurrence.id))
        ).all()
        parents = {o.parent_oid for o, _ in rows if o.parent_oid}
        names = {
            d.oid: d.name
            for d in session.exec(select(Document).where(col(Document.oid).in_(parents)))
        }
        tags = tags_of(session, [doc.oid]).get(doc.oid, ())
        notes = tuple(
            NoteView(n.member, n.at.isoformat(timespec="seconds"), n.text)
            for n in session.exec(select(Note).where(Note.oid == doc.oid).order_by(col(Note.id)))
        )
        history = tuple(
            StatusView(h.member, h.at.isoformat(timespec="seconds"), h.old, h.new, h.note)
            for h in session.exec(
                select(StatusChange)
                .where(StatusChange.oid == doc.oid)
                .order_by(col(StatusChange.id))
            )
        )
    occurrences = tuple(
        OccurrenceView(
            intake.id or 0,
            intake.member,
            intake.at.isoformat(timespec="seconds"),
            intake.source,
            intake.medium,
            names.get(occ.parent_oid, occ.parent_oid) if occ.parent_oid else None,
            occ.path,
        )
        for occ, intake in rows
    )
    return DocumentDetail(
        document_view(opened, doc, tags),
        doc.description,
        occurrences,
        doc.dkim_detail,
        doc.index_error,
        notes,
        history,
    )


def preview_document(ctx: Context, ref: str) -> tuple[DocumentView, Preview]:
    """A safe preview of a document: text made harmless, mail as headers and text, else hex.

    The object is verified in full first; only its first 256 KiB are shown.
    """
    opened, doc = resolve(ctx, ref)
    authorize(ctx, "read", collection_cid=opened.cid, oid=doc.oid)
    ctx.audit("preview", doc.oid)
    head = bytearray()
    for chunk in ctx.store.read(doc.oid, size=doc.size, keys=opened.secret.object_keys):
        if len(head) < PREVIEW_BYTES:
            head += chunk[: PREVIEW_BYTES - len(head)]
    shown = preview(bytes(head), mime=doc.mime, name=doc.name, limit=PREVIEW_BYTES, size=doc.size)
    return document_view(opened, doc), shown


def read_document(ctx: Context, ref: str) -> tuple[DocumentView, Iterator[bytes]]:
    """A document's verified plaintext, for writing to standard output.

    The object is verified in full before the first byte is returned, so nothing of a swapped
    or damaged object is ever shown.
    """
    opened, doc = resolve(ctx, ref)
    authorize(ctx, "read", collection_cid=opened.cid, oid=doc.oid)
    ctx.audit("cat", doc.oid, {"to": "stdout"})
    keys = opened.secret.object_keys
    ctx.store.verify(doc.oid, size=doc.size, keys=keys)
    return document_view(opened, doc), ctx.store.read(doc.oid, size=doc.size, keys=keys)


def export_document(ctx: Context, ref: str, output: Path) -> DocumentView:
    """Write a document's plaintext to a file (an explicit, audited export).

    The file appears only once its content is verified: it is written beside the destination
    under a temporary name and renamed into place.

    Raises:
        UsageError: the destination exists.
    """
    opened, doc = resolve(ctx, ref)
    if output.exists() or output.is_symlink():
        raise UsageError(f"{output} already exists", hint="choose a new file name")
    authorize(ctx, "read", collection_cid=opened.cid, oid=doc.oid)
    ctx.audit("cat", doc.oid, {"to": "file"})
    tmp = output.with_name(f".{output.name}.{secrets.token_hex(6)}.partial")
    fd = create_exclusive(tmp)
    try:
        with os.fdopen(fd, "wb") as out:
            _copy(ctx.store.read(doc.oid, size=doc.size, keys=opened.secret.object_keys), out)
            out.flush()
            os.fsync(out.fileno())
        os.link(tmp, output)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.unlink()
    fsync_dir(output.parent)
    return document_view(opened, doc)


def _copy(chunks: Iterator[bytes], out: BinaryIO) -> None:
    for chunk in chunks:
        out.write(chunk)


def document_view(
    opened: OpenCollection, doc: Document, tags: tuple[str, ...] = ()
) -> DocumentView:
    """A catalog row as listings show it."""
    flags = tuple(f for f in doc.flags.split(",") if f)
    return DocumentView(
        doc.oid,
        opened.name,
        doc.name,
        doc.size,
        doc.sha256,
        doc.mime,
        doc.status,
        flags,
        tags,
        doc.dkim,
    )
