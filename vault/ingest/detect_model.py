"""The values type detection trades in: what goes to a worker, and what comes back.

A `Sample` is the part of an item a worker sees: its display name (for the extension), the first
MiB, the last 64 KiB and the true size. A `Detection` is what the worker concluded: libmagic's MIME
type and description, and the risk flags (`vault.ingest.flags.FLAGS`). Both are plain frozen values
so they cross the process boundary in a fixed binary form (`vault.ingest.sandbox_protocol`), never
as pickles.
"""

from __future__ import annotations

from dataclasses import dataclass

from vault.errors import VaultError
from vault.ingest.flags import TYPE_UNKNOWN

MAX_HEAD = 1024 * 1024
MAX_TAIL = 64 * 1024
MAX_DESCRIPTION = 1024
UNKNOWN_MIME = "application/octet-stream"


class DetectorUnavailable(VaultError):
    """No detection worker could be started, so no item's type can be detected."""

    def __init__(self, message: str) -> None:
        super().__init__(
            message,
            hint="check that libmagic (Debian package libmagic1) and its database are installed",
        )


@dataclass(frozen=True)
class Sample:
    """What a detection worker is shown of one item.

    Attributes:
        name: the display name; only its extension is used.
        head: the first bytes of the item, at most `MAX_HEAD` (1 MiB).
        tail: the last bytes, at most `MAX_TAIL` (64 KiB); may overlap `head` for small items.
        size: the item's true size in bytes.

    Raises:
        ValueError: head or tail longer than allowed, or a size smaller than what was given.
    """

    name: str
    head: bytes
    tail: bytes
    size: int

    def __post_init__(self) -> None:
        if len(self.head) > MAX_HEAD or len(self.tail) > MAX_TAIL:
            raise ValueError("Sample head is limited to 1 MiB and tail to 64 KiB")
        if self.size < max(len(self.head), len(self.tail)):
            raise ValueError("Sample size is smaller than its head or tail")


@dataclass(frozen=True)
class Detection:
    """An item's detected type and risk flags.

    Attributes:
        mime: the MIME type libmagic gave, e.g. `application/pdf`.
        description: libmagic's description, with control characters escaped.
        flags: risk flag names, each a key of `vault.ingest.flags.FLAGS`.
    """

    mime: str
    description: str
    flags: frozenset[str]

    @classmethod
    def unknown(cls, reason: str) -> Detection:
        """The detection for an item whose worker crashed, timed out or failed.

        Args:
            reason: why, in a few words (`timed out after 5 s`, `worker killed by SIGSEGV`).
        """
        return cls(UNKNOWN_MIME, escape_text(f"type unknown: {reason}"), frozenset({TYPE_UNKNOWN}))


def escape_text(text: str, limit: int = MAX_DESCRIPTION) -> str:
    """Make text safe to show on a terminal: escape every non-printable character.

    Control characters, bidirectional overrides and other invisible code points become `\\xNN`,
    `\\uNNNN` or `\\UNNNNNNNN`; the result is cut to `limit` characters with a trailing `…`.
    """
    if text.isprintable():
        out = text
    else:
        out = "".join(ch if ch.isprintable() else _escape_char(ch) for ch in text)
    return out if len(out) <= limit else out[: limit - 1] + "…"


def _escape_char(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"
