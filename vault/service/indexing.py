"""What check-in learns for review: document text for the full-text index, and DKIM evidence.

After a batch of new documents is committed, each one whose type holds text is read back
(verified) and sent to the sandboxed extractor — PDF, office and XML parsers never run in this
process — and its text goes into the collection's FTS5 index, inside the encrypted catalog.
E-mail is also checked against the vault's offline archive of DKIM keys; the result is stored on
the document as evidence. A failed extraction is recorded on the document, never fatal.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

from sqlalchemy import update
from sqlmodel import Session, col

from vault.catalog.models import Document, Setting
from vault.review.dkim import KeyArchive, parse_key_archive, verify
from vault.review.extract import Extraction, Extractor, indexable
from vault.review.extract_model import MAX_DOCUMENT_BYTES
from vault.service.context import Context, OpenCollection

DKIM_SETTING = "dkim_keys"


@dataclass(frozen=True)
class NewDocument:
    """What indexing needs to know of a document just committed."""

    oid: str
    name: str
    mime: str
    size: int


def dkim_archive(ctx: Context) -> KeyArchive:
    """The vault's archive of DKIM public keys (empty until keys are imported)."""
    with Session(ctx.db) as session:
        row = session.get(Setting, DKIM_SETTING)
    return parse_key_archive(row.value if row else "")


def is_mail(mime: str, name: str) -> bool:
    """Whether a document is an e-mail message worth a DKIM check."""
    return mime == "message/rfc822" or name.lower().endswith(".eml")


def _may_be_signed(message: bytes) -> bool:
    """Whether a DKIM-Signature header could be in the message's header block."""
    end = message.find(b"\r\n\r\n")
    if end < 0:
        end = message.find(b"\n\n")
    header = message if end < 0 else message[:end]
    return b"dkim-signature" in header.lower()


def index(
    ctx: Context,
    opened: OpenCollection,
    documents: list[NewDocument],
    extractor: Callable[[], Extractor],
) -> None:
    """Extract, index and check the documents of one committed batch."""
    if not documents:
        return
    archive = dkim_archive(ctx)
    keys = opened.secret.object_keys
    pending: list[tuple[NewDocument, Future[Extraction] | None]] = []
    evidence: dict[str, tuple[str, str]] = {}
    for doc in documents:
        wants_text = doc.size <= MAX_DOCUMENT_BYTES and indexable(doc.mime)
        mail = is_mail(doc.mime, doc.name) and doc.size <= MAX_DOCUMENT_BYTES
        if not (wants_text or mail):
            pending.append((doc, None))
            continue
        data = b"".join(ctx.store.read(doc.oid, size=doc.size, keys=keys))
        if mail and not _may_be_signed(data):
            # Most leaked mail carries no signature: say so without parsing the message.
            evidence[doc.oid] = ("no-signature", "no DKIM-Signature header")
        elif mail:
            result = verify(data, archive, now=ctx.clock.now())
            evidence[doc.oid] = (result.status, result.detail)
        future = extractor().submit(doc.name, doc.mime, data) if wants_text else None
        pending.append((doc, future))
    with Session(opened.catalog) as session:
        for doc, future in pending:
            extraction = future.result() if future is not None else Extraction("", None)
            session.connection().exec_driver_sql(
                "INSERT INTO document_text (oid, name, body) VALUES (?, ?, ?)",
                (doc.oid, doc.name, extraction.text),
            )
            values: dict[str, object] = {"indexed": True, "index_error": extraction.error or ""}
            if doc.oid in evidence:
                values["dkim"], values["dkim_detail"] = evidence[doc.oid]
            session.execute(update(Document).where(col(Document.oid) == doc.oid).values(**values))
        session.commit()
