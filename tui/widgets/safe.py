"""Text from the vault, made safe to put on the screen.

Names and text in the vault come from hostile material. Everything shown passes through
`vault.ingest.names.escape` (no C0/C1 control, escape sequence, bidi or format character survives)
and is inserted as a `rich.text.Text`, never parsed as markup, so neither `\\x1b[2J` nor `[bold]`
in a file name can act on the terminal or restyle the screen.

The service stores the names it found already escaped (a literal backslash doubled, an ESC as the
four characters `\\x1b`). Escaping those again would show every backslash twice, so `shown`
undoes only the doubling of backslashes after escaping: text that was escaped before shows
exactly as recorded, and text that was not loses nothing but the doubling. Removing a backslash
cannot create a control character, so the result is as safe as `escape`'s.
"""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size
from rich.text import Text

from vault.ingest.names import escape

ELLIPSIS = "…"


def shown(text: str) -> str:
    """Vault text as safe display text: escaped, with backslashes shown once."""
    return escape(text).replace("\\\\", "\\")


def safe_text(text: str, style: str = "") -> Text:
    """Vault text as a `Text` that is never read as markup."""
    return Text(shown(text), style=style, end="")


def fit(text: str, width: int, *, right: bool = False, keep_end: bool = False) -> str:
    """Pad or cut already-safe text to exactly `width` cells, marking a cut with `…`.

    `keep_end` cuts the start instead of the end (for paths, whose end says most).
    """
    if width <= 0:
        return ""
    if cell_len(text) > width:
        if keep_end:
            tail = set_cell_size(text[::-1], width - 1)[::-1]
            return ELLIPSIS + tail
        return set_cell_size(text, width - 1) + ELLIPSIS
    if right:
        return " " * (width - cell_len(text)) + text
    return set_cell_size(text, width)
