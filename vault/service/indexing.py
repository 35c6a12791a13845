"""What check-in learns for review: document text for the full-text index, and DKIM evidence.

After a batch of new documents is committed, each one whose type holds text goes to the sandboxed
extractor — PDF, office and XML parsers never run in this process — and its text goes into the
collection's FTS5 index, inside the encrypted catalog, in one statement per batch. A small
document's plaintext is the one check-in kept; a larger one is read back (verified). Building the
index is the costliest step of a check-in of mail (SQLite's tokenizer, about 1 CPU-ms per 10 KiB
message), so an `IndexWriter` does it on a thread of its own, with the GIL released, while
check-in goes on with the next batch.
E-mail is also checked against the vault's offline archive of DKIM keys; the result is stored on
the document as evidence. A failed extraction is recorded on the document, never fatal.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from sqlmodel import Session

from vault.catalog.models import Setting
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
    data: bytes | None = None  # the plaintext, when check-in kept it


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


@dataclass
class Indexing:
    """One batch's extractions on their way: `finish` writes them once they are back."""

    opened: OpenCollection
    pending: list[tuple[str, str, Future[Extraction] | None]]  # oid, name, its text to come
    evidence: dict[str, tuple[str, str]]

    def finish(self) -> None:
        """Wait for the batch's text and write it with the DKIM evidence, in one transaction."""
        texts: list[tuple[str, str, str]] = []
        results: list[tuple[str, str, str, str]] = []  # new rows: no evidence is overwritten
        for oid, name, future in self.pending:
            extraction = future.result() if future is not None else Extraction("", None)
            texts.append((oid, name, extraction.text))
            dkim, detail = self.evidence.get(oid, ("", ""))
            results.append((extraction.error or "", dkim, detail, oid))
        if not texts:
            return
        # One statement each for the whole batch: row-by-row updates cost more than the index.
        with self.opened.catalog.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO document_text (oid, name, body) VALUES (?, ?, ?)", texts
            )
            conn.exec_driver_sql(
                "UPDATE document SET indexed = 1, index_error = ?, dkim = ?, dkim_detail = ?"
                " WHERE oid = ?",
                results,
            )


class IndexWriter:
    """Writes batches' text one at a time on a thread of its own.

    `lock` is held around every write to the catalog, the writer's and its caller's: SQLite
    would refuse one of two transactions that each read and then write (it cannot wait for both
    without a deadlock), so they take turns instead.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="index")
        self._writing: Future[None] | None = None

    def write(self, batch: Indexing) -> None:
        """Write a batch once the one before it is written; raises what that one raised."""
        self.wait()
        self._writing = self._thread.submit(self._locked, batch)

    def wait(self) -> None:
        """Wait until every batch handed over is written; raises what writing one raised."""
        writing, self._writing = self._writing, None
        if writing is not None:
            writing.result()

    def close(self) -> None:
        """Stop the thread once the batch being written is written.

        An error in writing it is raised by `wait`, which a run that ends well calls first; a run
        that is already failing keeps its own error.
        """
        self._thread.shutdown()

    def _locked(self, batch: Indexing) -> None:
        with self.lock:
            batch.finish()


def start(
    ctx: Context,
    opened: OpenCollection,
    documents: list[NewDocument],
    extractor: Callable[[], Extractor],
) -> Indexing:
    """Check the DKIM evidence of one committed batch and send its documents for extraction.

    The workers extract while check-in goes on with the next batch; `Indexing.finish` writes
    the results.
    """
    keys = opened.secret.object_keys
    archive = dkim_archive(ctx) if documents else None
    evidence: dict[str, tuple[str, str]] = {}
    texts: list[tuple[NewDocument, bytes]] = []
    for doc in documents:
        wants_text = doc.size <= MAX_DOCUMENT_BYTES and indexable(doc.mime)
        mail = is_mail(doc.mime, doc.name) and doc.size <= MAX_DOCUMENT_BYTES
        if not (wants_text or mail):
            continue
        data = doc.data
        if data is None:
            data = b"".join(ctx.store.read(doc.oid, size=doc.size, keys=keys))
        if mail and not _may_be_signed(data):
            # Most leaked mail carries no signature: say so without parsing the message.
            evidence[doc.oid] = ("no-signature", "no DKIM-Signature header")
        elif mail:
            assert archive is not None
            result = verify(data, archive, now=ctx.clock.now())
            evidence[doc.oid] = (result.status, result.detail)
        if wants_text:
            texts.append((doc, data))
    futures = (
        extractor().submit_many([(d.name, d.mime, data) for d, data in texts]) if texts else []
    )
    sent = {doc.oid: future for (doc, _), future in zip(texts, futures, strict=True)}
    pending = [(doc.oid, doc.name, sent.get(doc.oid)) for doc in documents]
    return Indexing(opened, pending, evidence)
