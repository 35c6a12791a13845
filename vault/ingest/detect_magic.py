"""libmagic, loaded once per detection worker before the worker locks itself down.

`load` loads the libmagic shared library and reads its compiled database (the only files a
worker ever opens); `identify` then asks it about a buffer. Only a sandboxed worker process calls
these — libmagic parses hostile bytes and has had memory-safety bugs — so `magic` is imported
here lazily and never in the vault's main process.

libmagic answers one question per call, MIME type or description, and each call costs about half
a millisecond of fixed work (it walks its whole database) even for a 2 KiB e-mail: two calls per
item would cap a two-core workstation near 1,500 items/s. For text, which is what most of a large
intake is, a worker therefore remembers which MIME type each exact description came with
(`MimeMemo`): once a description has been seen with the same text MIME type a few times and never
with another, the MIME call is skipped for it, except for a periodic re-check; a disagreement bans
that description from the memo for good. Binary types are always asked for in full.
"""

from __future__ import annotations

from typing import Any

_loaded: list[tuple[Any, Any]] = []
TRUST_AFTER = 3
RECHECK_EVERY = 64
CAPACITY = 2048


class MimeMemo:
    """Exact description → MIME type, for text types only, learnt from full answers."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[str, int]] = {}
        self._banned: set[str] = set()
        self._asked = 0

    def get(self, description: str) -> str | None:
        """The remembered MIME type, or None when libmagic must be asked (again)."""
        self._asked += 1
        if self._asked % RECHECK_EVERY == 0:
            return None
        entry = self._seen.get(description)
        return entry[0] if entry is not None and entry[1] >= TRUST_AFTER else None

    def learn(self, description: str, mime: str) -> None:
        """Record a full answer; a contradiction bans the description from the memo."""
        if description in self._banned or not mime.startswith(("text/", "message/")):
            return
        entry = self._seen.get(description)
        if entry is None:
            if len(self._seen) < CAPACITY:
                self._seen[description] = (mime, 1)
        elif entry[0] != mime:
            del self._seen[description]
            if len(self._banned) < CAPACITY:
                self._banned.add(description)
        else:
            self._seen[description] = (mime, entry[1] + 1)


_memo = MimeMemo()


def load() -> None:
    """Open libmagic twice (MIME type and description) and load its database.

    Raises:
        ImportError: the libmagic shared library cannot be found.
        magic.MagicException: its database is missing or unreadable.
    """
    if not _loaded:
        import magic  # deliberately lazy: see the module docstring

        _loaded.append((magic.Magic(mime=True), magic.Magic()))


def identify(data: bytes) -> tuple[str, str]:
    """libmagic's MIME type and description of a buffer.

    Returns:
        (mime, description), as libmagic gives them (non-printable bytes already `\\ooo`-escaped).
    """
    load()
    by_mime, by_text = _loaded[0]
    description = str(by_text.from_buffer(data))
    mime = _memo.get(description)
    if mime is None:
        mime = str(by_mime.from_buffer(data))
        _memo.learn(description, mime)
    return mime, description
