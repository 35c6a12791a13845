"""What check-in learns for review: document text for the full-text index, and DKIM evidence.

After a batch of new documents is committed, each one whose type holds text goes to the sandboxed
extractor — PDF, office and XML parsers never run in this process — and its text goes into the
collection's FTS5 index, inside the encrypted catalog. A small document's plaintext is the one
check-in kept; a larger one is read back (verified). Building the index is the costliest step of
a check-in of mail (SQLite's FTS5 and SQLCipher, about 0.3 CPU-ms per 10 KiB message with the
settings below, 0.6 with SQLite's defaults), so an `IndexWriter` does it on a thread of its own,
with the GIL released, a few batches at a time, while check-in goes on.
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
GROUP = 2048  # documents whose text is written in one transaction, at the least
# The page cache of the connection writing a group (SQLite's default is 2 MiB). SQLCipher
# decrypts and authenticates a page each time it is read into the cache, and FTS5 reads the
# pages it is building and merging again and again: 64 MiB keeps them in memory for the length
# of the write, and halves its CPU with the merge setting below. It is held only while a group is
# written: each write opens a connection of its own.
WRITE_CACHE_KIB = 64 * 1024
# FTS5 merges index segments once this many pile up on a level (its default is 4): each word's
# postings are rewritten fewer times as the index grows. Searches at 100,000 documents measured
# the same either way: they spend their time in the postings, not in finding them.
AUTOMERGE = 16

TextRow = tuple[str, str, str]  # document_text: oid, name, body
StatusRow = tuple[str, str, str, str]  # document: index_error, dkim, dkim_detail; its oid


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
    """One batch's extractions on their way, and its DKIM evidence."""

    opened: OpenCollection
    pending: list[tuple[str, str, Future[Extraction] | None]]  # oid, name, its text to come
    evidence: dict[str, tuple[str, str]]

    def rows(self) -> tuple[list[TextRow], list[StatusRow]]:
        """Wait for the batch's text: its index rows, and its documents' new column values."""
        texts: list[TextRow] = []
        results: list[StatusRow] = []  # new rows: no evidence is overwritten
        for oid, name, future in self.pending:
            extraction = future.result() if future is not None else Extraction("", None)
            texts.append((oid, name, extraction.text))
            dkim, detail = self.evidence.get(oid, ("", ""))
            results.append((extraction.error or "", dkim, detail, oid))
        return texts, results


class IndexWriter:
    """Writes committed batches' text into the index on a thread of its own.

    Batches are written `GROUP` documents or more at a time, in one transaction: FTS5 makes a
    segment of each transaction and merges segments as they pile up, and fewer, larger ones cost
    a fifth less CPU for the same text. `lock` is held around every write to the catalog, the
    writer's and its caller's: SQLite would refuse one of two transactions that each read and
    then write (waiting for both could deadlock), so they take turns instead.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="index")
        self._writing: Future[None] | None = None
        self._held: list[Indexing] = []

    def add(self, batch: Indexing) -> None:
        """Take a batch; write what is held once it is a group, after the group before it.

        Raises:
            what writing the group before raised.
        """
        self._held.append(batch)
        if sum(len(held.pending) for held in self._held) >= GROUP:
            self._submit()

    def flush(self) -> None:
        """Write every batch taken and wait until it is written; raises what writing raised."""
        if self._held:
            self._submit()
        self._wait()

    def close(self) -> None:
        """Stop the thread once the group being written is written.

        An error in writing it is raised by `flush`, which a run that ends well calls first; a run
        that is already failing keeps its own error.
        """
        self._held.clear()
        self._thread.shutdown()

    def _submit(self) -> None:
        self._wait()
        group, self._held = self._held, []
        self._writing = self._thread.submit(self._write, group)

    def _wait(self) -> None:
        writing, self._writing = self._writing, None
        if writing is not None:
            writing.result()

    def _write(self, group: list[Indexing]) -> None:
        texts: list[TextRow] = []
        results: list[StatusRow] = []
        for batch in group:  # the extractions are awaited before the catalog is held
            batch_texts, batch_results = batch.rows()
            texts += batch_texts
            results += batch_results
        if not texts:
            return
        # One statement each for the whole group: row-by-row updates cost more than the index.
        with self.lock, group[0].opened.catalog.begin() as conn:
            conn.exec_driver_sql(f"PRAGMA cache_size = -{WRITE_CACHE_KIB}")
            # Stored in the index itself, so a catalog made before it was set takes it too.
            conn.exec_driver_sql(
                "INSERT INTO document_text (document_text, rank) VALUES ('automerge', ?)",
                (AUTOMERGE,),
            )
            conn.exec_driver_sql(
                "INSERT INTO document_text (oid, name, body) VALUES (?, ?, ?)", texts
            )
            conn.exec_driver_sql(
                "UPDATE document SET indexed = 1, index_error = ?, dkim = ?, dkim_detail = ?"
                " WHERE oid = ?",
                results,
            )


def start(
    ctx: Context,
    opened: OpenCollection,
    documents: list[NewDocument],
    extractor: Callable[[], Extractor],
) -> Indexing:
    """Check the DKIM evidence of one committed batch and send its documents for extraction.

    The workers extract while check-in goes on with the next batch; an `IndexWriter` writes the
    results.
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
