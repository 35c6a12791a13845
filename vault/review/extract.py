"""Text extraction for the search index, run in sandboxed worker processes.

`extract_text` turns one document into text by its detected type (`vault.review.kinds`):

- text (`text/*` and textual applications): decoded by byte-order mark, UTF-8 or charset
  detection; text that is an e-mail message is read as one;
- e-mail: Subject, From, To and Cc values, then each body part's text (HTML reduced to text);
  attachments are documents of their own at check-in and are not read here;
- HTML: its text, scripts and styles dropped (`vault.review.html_text`);
- XML: its character data, parsed with defusedxml (no DTD, entities or external references);
  XML the safe parser refuses (it has a DTD) is indexed as the raw text it is;
- PDF: up to 500 pages through pypdf (`vault.review.pdftext`);
- OOXML and ODF: the text parts of the zip package, bounded and parsed with defusedxml
  (`vault.review.office`);
- anything else: no text and no error.

Failures come back as `Extraction.error`, never as exceptions; the text is cleaned for the index
(`vault.review.cleantext`) and cut to `limit_chars`.

These parsers read hostile bytes and a PDF can make pypdf loop, so check-in never calls
`extract_text` itself: an `Extractor` runs it in a pool of sandboxed worker processes (the pool
of type detection, `vault.ingest.sandbox`, with its own codec `extract_protocol.EXTRACTION`),
each locked down and limited to 1 GiB of memory and 20 s of CPU per document, with a 20 s
wall-clock deadline. A document that hangs or crashes its worker costs that worker and that
document (`timed out`, `extraction crashed: …`); the pool replaces the worker and carries on.

    with Extractor() as extractor:
        future = extractor.submit(name, detection.mime, data)
        extraction = future.result()
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from types import TracebackType

from vault.ingest.detect_model import escape_text
from vault.ingest.sandbox import PoolStats, WorkerPool
from vault.ingest.sandbox_worker import WorkerLimits
from vault.review import mailparts
from vault.review.cleantext import clean_for_index, cut
from vault.review.extract_model import (
    CRASHED,
    MAX_DOCUMENT_BYTES,
    MAX_ERROR_CHARS,
    MAX_TEXT_BYTES,
    MAX_TEXT_CHARS,
    TIMED_OUT,
    TOO_LARGE,
    Document,
    Extraction,
    ExtractorUnavailable,
)
from vault.review.extract_protocol import EXTRACTION
from vault.review.html_text import html_to_text
from vault.review.kinds import Kind, kind_of
from vault.review.office import OfficeRefused, office_text
from vault.review.textdecode import decode_text
from vault.review.xmltext import GENERIC, xml_text

__all__ = [
    "CRASHED",
    "MAX_DOCUMENT_BYTES",
    "TIMED_OUT",
    "TOO_LARGE",
    "Document",
    "Extraction",
    "Extractor",
    "ExtractorUnavailable",
    "PoolStats",
    "WorkerLimits",
    "extract_document",
    "extract_text",
    "indexable",
]

EXTRACTION_LIMITS = WorkerLimits(memory_bytes=1024 * 1024 * 1024, cpu_seconds=20)
# Pages are no longer started after this many seconds, well inside the 20 s deadline, so a long
# PDF gives the text of its first pages instead of timing out with none.
PDF_BUDGET_SECONDS = 10.0
_ZIP_MAGIC = b"PK\x03\x04"
_MAIL_HEADERS = ("Subject", "From", "To", "Cc")

Found = tuple[str, str | None, bool]  # raw text, error, truncated


def _kind(mime: str, data: bytes) -> Kind:
    kind = kind_of(mime)
    if kind in ("text", "html") and mailparts.looks_like_message(data[: 64 * 1024]):
        return "email"
    if kind == "other" and data.startswith(_ZIP_MAGIC):
        return "office"  # libmagic names some OOXML packages only application/octet-stream
    return kind


def indexable(mime: str, head: bytes = b"") -> bool:
    """Whether a document of this detected type (and first bytes) can have text extracted.

    Check-in keeps a document whole in memory for the extractor only when this is true.

    Args:
        mime: the detected MIME type.
        head: the document's first bytes (a few are enough), for zips libmagic did not name.
    """
    return _kind(mime, head) != "other"


def _plain(data: bytes, limit: int) -> Found:
    decoded = decode_text(data)
    if decoded is None:
        return "", None, False  # a type that claims to be text and holds none
    return decoded.text, None, False


def _email(data: bytes, limit: int) -> Found:
    try:
        message = mailparts.parse_raw(data)
    except Exception as exc:
        return "", f"the message cannot be parsed ({type(exc).__name__})", False
    pieces = [value for name in _MAIL_HEADERS for value in mailparts.header(message, name)]
    truncated = False
    for part in mailparts.parts(message, limit_chars=limit):
        if isinstance(part, mailparts.Body) and part.text.strip():
            pieces.append(part.text.strip())
            truncated = truncated or "cut" in part.note
    return "\n\n".join(pieces), None, truncated


def _html(data: bytes, limit: int) -> Found:
    decoded = decode_text(data)
    if decoded is None:
        return "", None, False
    found = html_to_text(decoded.text, limit_chars=limit)
    return found.text, None, found.truncated


def _xml(data: bytes, limit: int) -> Found:
    reader = iter([data])
    found = xml_text(lambda _size: next(reader, b""), GENERIC, limit_chars=limit)
    if found.error is None:
        return found.text, None, found.truncated
    return _plain(data, limit)  # refused (a DTD) or malformed: index the text as it stands


def _pdf(data: bytes, limit: int) -> Found:
    # Imported in the worker only (its warm-up loads it): pypdf is the largest of the parsers,
    # and the vault process, which imports this module for `Extractor`, never reads a PDF.
    from vault.review.pdftext import pdf_text

    found = pdf_text(data, limit_chars=limit, budget=PDF_BUDGET_SECONDS)
    return found.text, found.error, found.truncated


def _office(data: bytes, limit: int) -> Found:
    try:
        found = office_text(data, limit_chars=limit)
    except OfficeRefused as exc:
        return "", str(exc), False
    error = "; ".join(found.errors) if found.errors else None
    return found.text, error, found.truncated


_READERS: dict[str, Callable[[bytes, int], Found]] = {
    "email": _email,
    "html": _html,
    "xml": _xml,
    "pdf": _pdf,
    "office": _office,
    "text": _plain,
}


def extract_text(
    data: bytes, *, mime: str, name: str, limit_chars: int = MAX_TEXT_CHARS
) -> Extraction:
    """A document's text for the search index (see the module docstring).

    Run this only inside a sandboxed worker (an `Extractor`): it parses hostile bytes.

    Args:
        data: the whole document.
        mime: its detected MIME type.
        name: its display name (unused by the parsers; the type decides).
        limit_chars: most characters of text kept.

    Returns:
        The cleaned text, and an error when extraction failed or was partial. It never raises.
    """
    del name  # the bytes' detected type decides, never the name
    reader = _READERS.get(_kind(mime, data))
    if reader is None:
        return Extraction("", None)
    try:
        text, error, truncated = reader(data, limit_chars)
    except MemoryError:
        return Extraction("", "out of memory")
    except Exception as exc:  # a parser's failure on hostile bytes is this document's
        return Extraction("", f"extraction failed ({type(exc).__name__})")
    # Cleaning only removes characters, so a little more than the limit is enough to clean.
    bound = limit_chars + limit_chars // 8 + 1024
    cleaned = clean_for_index(text[:bound])
    truncated = truncated or len(text) > bound or len(cleaned) > limit_chars
    shown_error = escape_text(error, MAX_ERROR_CHARS) if error is not None else None
    return Extraction(cleaned[:limit_chars], shown_error, truncated)


def extract_document(document: Document) -> Extraction:
    """Extract one document's text within the protocol's limits. Runs in a sandboxed worker.

    This is an `Extractor`'s default worker function; a replacement (for tests) must be a
    module-level function so a spawned worker can import it by name.
    """
    found = extract_text(document.data, mime=document.mime, name=document.name)
    text, was_cut = cut(found.text, max_chars=MAX_TEXT_CHARS, max_utf8_bytes=MAX_TEXT_BYTES)
    if not was_cut:
        return found
    return Extraction(text, found.error, truncated=True)


def _done(result: Extraction) -> Future[Extraction]:
    future: Future[Extraction] = Future()
    future.set_result(result)
    return future


class Extractor:
    """A pool of sandboxed text-extraction workers; use it as a context manager.

    Starting one (with `wait`) waits until every worker has imported and exercised its parsers
    (about a second). Documents are queued whole in memory: a caller should hold back while
    `pending` (documents) is high.

    Args:
        workers: worker processes (default 2).
        timeout: wall-clock seconds per document before its worker is killed (`timed out`).
        limits: the resource limits every worker applies to itself (default: 1 GiB of address
            space, 20 s of CPU per document, no files, no processes).
        extract: the function each worker applies to a document; module-level (tests inject
            misbehaving ones).
        max_bytes: larger documents are not sent: `too large to index`.
        batch_size: most documents handed to a worker at once.
        wait: wait for the workers to be ready (else documents queue while they start, and
            their futures fail with ExtractorUnavailable if none can).

    Raises:
        ExtractorUnavailable: no worker could start (only when waiting).
    """

    def __init__(
        self,
        workers: int = 2,
        *,
        timeout: float = 20.0,
        limits: WorkerLimits | None = None,
        extract: Callable[[Document], Extraction] = extract_document,
        max_bytes: int = MAX_DOCUMENT_BYTES,
        batch_size: int = 16,
        wait: bool = True,
    ) -> None:
        self._max_bytes = max_bytes
        self._pool = WorkerPool(
            workers=workers,
            analyse=extract,
            limits=limits if limits is not None else EXTRACTION_LIMITS,
            timeout=timeout,
            batch_size=batch_size,
            codec=EXTRACTION,
            wait=wait,
        )

    def __enter__(self) -> Extractor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def submit(self, name: str, mime: str, data: bytes) -> Future[Extraction]:
        """Queue one document without blocking.

        Args:
            name: its display name.
            mime: its detected MIME type (from type detection).
            data: the whole document.

        Returns:
            A future that completes with the Extraction: no text and no error at once for a
            type without text, `too large to index` at once past `max_bytes`, `timed out` or
            `extraction crashed: …` when its worker hung or died. Callbacks run on the pool's
            thread: keep them short.

        Raises:
            RuntimeError: the extractor is closed.
        """
        if not indexable(mime, data[:4]):
            return _done(Extraction("", None))
        if len(data) > self._max_bytes:
            return _done(Extraction("", TOO_LARGE))
        return self._pool.submit_many((Document(name, mime, data),))[0]

    def submit_many(self, documents: list[tuple[str, str, bytes]]) -> list[Future[Extraction]]:
        """Queue several documents (name, MIME type, bytes) at once; see `submit`.

        One hand-over for the lot: the pool's thread is woken once, not once per document.
        """
        futures: list[Future[Extraction] | None] = []
        sent: list[Document] = []
        for name, mime, data in documents:
            if not indexable(mime, data[:4]):
                futures.append(_done(Extraction("", None)))
            elif len(data) > self._max_bytes:
                futures.append(_done(Extraction("", TOO_LARGE)))
            else:
                futures.append(None)
                sent.append(Document(name, mime, data))
        queued = iter(self._pool.submit_many(sent) if sent else [])
        return [f if f is not None else next(queued) for f in futures]

    def extract(self, name: str, mime: str, data: bytes) -> Extraction:
        """Extract one document, waiting for the answer.

        Raises:
            ExtractorUnavailable: every worker failed to start.
        """
        return self.submit(name, mime, data).result()

    @property
    def pending(self) -> int:
        """Documents queued and not yet handed to a worker (for back-pressure)."""
        return self._pool.pending

    @property
    def stats(self) -> PoolStats:
        """Counters: workers started, crashed, timed out and retired; documents answered."""
        return self._pool.stats

    def close(self) -> None:
        """Finish the queued documents, then stop every worker. Idempotent."""
        self._pool.close()
