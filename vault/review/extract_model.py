"""The values text extraction trades in: a document in, an `Extraction` out, and their bounds.

They cross the boundary to sandboxed extraction workers in a fixed binary form
(`vault.review.extract_protocol`), never as pickles.
"""

from __future__ import annotations

from dataclasses import dataclass

from vault.errors import VaultError

MiB = 1024 * 1024
MAX_DOCUMENT_BYTES = 32 * MiB
MAX_TEXT_CHARS = 2_000_000
MAX_TEXT_BYTES = 2 * MiB
MAX_ERROR_CHARS = 1024
MAX_NAME_BYTES = 1024
MAX_MIME_BYTES = 255

TIMED_OUT = "timed out"
CRASHED = "extraction crashed"
TOO_LARGE = "too large to index"


class ExtractorUnavailable(VaultError):
    """No extraction worker could be started, so no document's text can be extracted."""

    def __init__(self, message: str) -> None:
        super().__init__(
            message,
            hint="check that pypdf, defusedxml and charset-normalizer are installed",
        )


@dataclass(frozen=True)
class Document:
    """What an extraction worker is given: a whole document and what check-in knows of it.

    Attributes:
        name: the display name (only for messages; the type decides the parser).
        mime: the detected MIME type.
        data: the document's bytes, at most `MAX_DOCUMENT_BYTES`.
    """

    name: str
    mime: str
    data: bytes


@dataclass(frozen=True)
class Extraction:
    """A document's text for the search index, or why there is none.

    Attributes:
        text: the text: newlines and tabs, no other control character, no invisible format
            character (see `vault.review.cleantext`). Empty for types without text.
        error: why extraction failed or was partial (`timed out`, `extraction crashed: …`,
            `too large to index`, `encrypted: a password is needed …`), escaped; None if it
            did not. Text found before a failure is kept.
        truncated: only the first part of the text was kept (character, byte or page limit).
    """

    text: str
    error: str | None
    truncated: bool = False
