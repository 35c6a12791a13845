"""Text of a PDF through pypdf, page by page, at most `MAX_PAGES` pages.

pypdf is pure Python, but a hostile PDF can still make it loop (a page tree that points back at
itself), recurse, or inflate streams: this runs only inside a sandboxed extraction worker, whose
CPU, memory and wall-clock limits are the backstop (`vault.review.extract`). Here each page is
extracted on its own, so one bad page costs that page; pypdf's own stream limits stay in force.
A long document stops between pages once `budget` seconds have passed, keeping the pages read so
far, so that a slow but honest thesis is indexed in part rather than killed with nothing.

An encrypted PDF is opened with the empty user password (many are encrypted only to set
permissions); one that needs a real password gives no text and says so. Document information
(title, author, subject, keywords) comes first, as it is searchable too.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass

from pypdf import PasswordType, PdfReader

MAX_PAGES = 500
_INFO_FIELDS = ("title", "author", "subject", "keywords", "creator", "producer")


@dataclass(frozen=True)
class PdfText:
    """Text found in a PDF.

    Attributes:
        text: the text, raw; pages separated by blank lines.
        truncated: the character limit or the page limit was reached.
        error: what went wrong (a password is needed, pages could not be read), or None.
    """

    text: str
    truncated: bool
    error: str | None


def _info(reader: PdfReader) -> list[str]:
    try:
        info = reader.metadata
    except Exception:  # a broken info dictionary costs the information, not the text
        return []
    if info is None:
        return []
    found: list[str] = []
    for name in _INFO_FIELDS:
        try:
            value = getattr(info, name)
        except Exception:  # one broken entry costs that entry
            value = None
        if isinstance(value, str) and value.strip():
            found.append(value.strip())
    return found


def pdf_text(data: bytes, *, limit_chars: int, budget: float | None = None) -> PdfText:
    """The text of a PDF (see the module docstring).

    Args:
        data: the whole PDF.
        limit_chars: most characters kept.
        budget: seconds after which no further page is started (None: no budget).

    Returns:
        The text, with an error saying what could not be read. It never raises for what the
        bytes contain (a parser that loops is stopped by the worker's limits, not here).
    """
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            return PdfText("", False, "encrypted: a password is needed to read its text")
        count = len(reader.pages)
    except Exception as exc:
        return PdfText("", False, f"the PDF cannot be read ({type(exc).__name__})")
    pieces = _info(reader)
    size = sum(len(piece) + 2 for piece in pieces)
    failed = 0
    truncated = count > MAX_PAGES
    stop = None if budget is None else time.monotonic() + budget
    for number in range(min(count, MAX_PAGES)):
        if size >= limit_chars:
            truncated = True
            break
        if stop is not None and time.monotonic() > stop:
            return PdfText(
                "\n\n".join(pieces), True, f"stopped after {number} of {count} pages (time limit)"
            )
        try:
            text = reader.pages[number].extract_text()
        except Exception:
            failed += 1
            continue
        if text.strip():
            pieces.append(text[: limit_chars - size])
            size += len(pieces[-1]) + 2
    # More pages than MAX_PAGES is no error: the first pages are indexed and `truncated` says so.
    error = f"{failed} of {min(count, MAX_PAGES)} pages could not be read" if failed else None
    return PdfText("\n\n".join(pieces), truncated, error)
