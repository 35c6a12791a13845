"""Extracted text made fit for a search index: no controls, no invisible characters, bounded.

Text pulled out of hostile documents can carry terminal escape sequences, bidi overrides that
reorder what a reader sees, and zero-width characters that split a word so a search misses it
(`pass\\u200bword`). `clean_for_index` keeps newlines and tabs, turns every other control
character into a space and line ends into `\\n`, and removes format characters (zero-width, bidi,
soft hyphen, byte-order mark) and lone surrogates. `is_clean` is the check the vault applies to
text an extraction worker sends back: a worker that skipped the cleaning is not believed.

Snippets shown from the index must still be escaped (`vault.ingest.names.escape`) before they
reach a terminal: cleaning is for searching, escaping is for showing.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata

_ALWAYS = {"\t", "\n"}
# Control, format and separator characters live in planes 0, 1 and 14 (and surrogates in 0);
# planes 2 and 3 hold ideographs, 15 and 16 private use. Scanning only these is ~4x faster.
_PLANES_0_TO_3_END = 0x40000
_PLANE_14 = 0xE0000
# Most text is ASCII, where the only characters to clean are controls (no format characters or
# surrogates there): one small class is four times quicker to scan than the two full ones.
_ASCII_SPACING = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@functools.cache
def _classes() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(controls and separators, format characters and surrogates), built once per process."""
    spacing: list[str] = []
    invisible: list[str] = []
    for code in itertools.chain(range(_PLANES_0_TO_3_END), range(_PLANE_14, _PLANE_14 + 0x10000)):
        ch = chr(code)
        category = unicodedata.category(ch)
        if category in ("Cc", "Zl", "Zp") and ch not in _ALWAYS:
            spacing.append(ch)
        elif category in ("Cf", "Cs"):
            invisible.append(ch)
    return re.compile(_char_class(spacing)), re.compile(_char_class(invisible))


def _char_class(chars: list[str]) -> str:
    ranges: list[list[int]] = []
    for ch in chars:
        code = ord(ch)
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    parts = (
        f"\\U{a:08x}" if a == b else f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges
    )  # \U escapes keep the pattern itself free of the characters it matches
    return "[" + "".join(parts) + "]"


def warm_up() -> None:
    """Build the character classes now (a sandboxed worker does this before it locks down)."""
    _classes()


def clean_for_index(text: str) -> str:
    """Text with `\\n` line ends, controls as spaces and invisible characters removed.

    Args:
        text: decoded text, possibly holding any code point.

    Returns:
        Text in which the only characters below U+0020 are `\\n` and `\\t`, with no DEL, C1
        control, line or paragraph separator, format character or surrogate.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.isascii():
        return _ASCII_SPACING.sub(" ", text)
    spacing, invisible = _classes()
    text = text.replace("\u2028", "\n").replace("\u2029", "\n")
    return invisible.sub("", spacing.sub(" ", text))


def is_clean(text: str) -> bool:
    """Whether text is as `clean_for_index` leaves it (no `\\r` either)."""
    if text.isascii():
        return _ASCII_SPACING.search(text) is None
    spacing, invisible = _classes()
    return spacing.search(text) is None and invisible.search(text) is None


def cut(text: str, *, max_chars: int, max_utf8_bytes: int) -> tuple[str, bool]:
    """Text cut to at most `max_chars` characters and `max_utf8_bytes` bytes of UTF-8.

    Returns:
        The text, and whether anything was cut.
    """
    cut_text = text[:max_chars]
    encoded = cut_text.encode("utf-8", "surrogatepass")
    if len(encoded) > max_utf8_bytes:
        cut_text = encoded[:max_utf8_bytes].decode("utf-8", "ignore")
    return cut_text, len(cut_text) < len(text)
