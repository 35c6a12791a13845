"""Safe preview of a document: text decoded and escaped, e-mail as headers and parts, else hex.

A preview is what a reporter sees of a leaked document without opening it in anything: no viewer
is launched, no HTML is rendered, nothing is fetched, and no byte of the document can act on the
terminal. `preview` looks at the first `limit` bytes (256 KiB by default) and returns one of:

- **text** (`text/*` and the textual `application/*` types): decoded by byte-order mark, UTF-8 or
  charset-normalizer's guess (`vault.review.textdecode`); every control character, escape
  sequence, bidi or invisible format character shown as a visible escape
  (`vault.ingest.names.escape`), except newline and tab, which keep the layout; a carriage return
  shows as `\\r`; lines longer than `WRAP` characters are wrapped.
- **email** (`message/rfc822`, or text that parses as a message): the usual headers, decoded and
  escaped; each body part's text (HTML reduced to text, never rendered); attachments listed by
  escaped name, type and size, their content never shown (`vault.review.mailparts`).
- **hex**: everything else, and text that is no text in any encoding: offset, 16 bytes in hex and
  their printable ASCII (`.` for anything else), for the first `HEX_BYTES` bytes.

Whatever the input, `Preview.text` holds no C0 or C1 control other than `\\n` and `\\t`, no DEL,
no bidi control and no other format character. Parsing here runs in the caller's process on at
most `limit` bytes with pure-Python parsers (the stdlib's `email` and `html.parser`, with bounded
buffers) and charset-normalizer; the full-document parsers (PDF, office) run only in sandboxed
workers (`vault.review.extract`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from vault.ingest.names import escape
from vault.review import mailparts
from vault.review.kinds import MESSAGE_TYPES, is_textual, normalise
from vault.review.textdecode import decode_text

PreviewKind = Literal["text", "email", "hex"]

WRAP = 4096
HEX_BYTES = 4096
_SLICE = 400  # raw characters escaped at a time when wrapping: at most 4,000 escaped characters
_SHOWN_HEADERS = (
    "Date",
    "From",
    "Sender",
    "Reply-To",
    "To",
    "Cc",
    "Bcc",
    "Subject",
    "Message-ID",
    "In-Reply-To",
    "Return-Path",
    "X-Mailer",
    "User-Agent",
    "X-Originating-IP",
)
_PRINTABLE = bytes(range(0x20, 0x7F))
_HEX_COLUMN = bytes(b if b in _PRINTABLE else 0x2E for b in range(256))


@dataclass(frozen=True)
class Preview:
    """What a reporter is shown of a document.

    Attributes:
        kind: `text`, `email` or `hex`.
        text: the preview, safe to print: no control character other than `\\n` and `\\t`, no
            DEL, bidi or other format character.
        truncated: only part of the document is shown.
        encoding: the encoding text was decoded with (text previews only).
        note: one line saying what is shown and how (escaped, like everything here).
    """

    kind: PreviewKind
    text: str
    truncated: bool
    encoding: str | None
    note: str


def _escape_run(text: str) -> str:
    """Escape text in which `\\t` keeps its meaning and `\\r` shows as `\\r`."""
    return "\\r".join(
        "\t".join(escape(cell) for cell in piece.split("\t")) for piece in text.split("\r")
    )


def _escape_line(line: str) -> tuple[list[str], bool]:
    """One source line, escaped: one output line, or several when it is longer than WRAP."""
    shown = _escape_run(line)
    if len(shown) <= WRAP:
        return [shown], False
    out: list[str] = []
    current = ""
    for start in range(0, len(line), _SLICE):
        piece = _escape_run(line[start : start + _SLICE])
        if len(current) + len(piece) > WRAP:
            out.append(current)
            current = ""
        current += piece
    out.append(current)
    return out, True


def render_text(text: str) -> tuple[str, int]:
    """Text made safe to show, keeping newlines and tabs as layout.

    Returns:
        The escaped text, and how many source lines were wrapped.
    """
    out: list[str] = []
    wrapped = 0
    for line in text.split("\n"):
        shown, was_wrapped = _escape_line(line)
        out += shown
        wrapped += was_wrapped
    return "\n".join(out), wrapped


def hex_dump(data: bytes, *, start: int = 0) -> str:
    """Offset, 16 bytes as hex (two groups of 8), then the printable ASCII column in `|…|`.

    Args:
        data: the bytes to show (all of them: callers cut first).
        start: the offset of `data[0]` in its document.
    """
    lines = []
    for row in range(0, len(data), 16):
        chunk = data[row : row + 16]
        left = " ".join(f"{b:02x}" for b in chunk[:8])
        right = " ".join(f"{b:02x}" for b in chunk[8:])
        column = chunk.translate(_HEX_COLUMN).decode("ascii")
        lines.append(f"{start + row:08x}  {left:<23}  {right:<23}  |{column}|")
    return "\n".join(lines)


def _size_note(shown: int, size: int) -> str:
    return f"all {size} bytes" if shown >= size else f"the first {shown} of {size} bytes"


def _hex(data: bytes, size: int, why: str) -> Preview:
    shown = data[:HEX_BYTES]
    note = f"{why}; hex dump of {_size_note(len(shown), size)}"
    return Preview("hex", hex_dump(shown), len(shown) < size, None, note)


def _text(data: bytes, size: int, mime: str) -> Preview | None:
    decoded = decode_text(data, complete=len(data) >= size)
    if decoded is None:
        return None
    text, wrapped = render_text(decoded.text)
    notes = [f"{escape(mime)} decoded as {decoded.encoding}", _size_note(len(data), size)]
    notes.append("controls shown as escapes, \\r as \\r")
    if wrapped:
        notes.append(f"{wrapped} lines longer than {WRAP} characters wrapped")
    return Preview("text", text, len(data) < size, decoded.encoding, "; ".join(notes))


def _email(data: bytes, size: int, *, declared: bool) -> Preview | None:
    """An e-mail preview; None when the bytes are no message (for a declared or recognised
    message: not even one header; otherwise: none of the headers shown)."""
    try:
        message = mailparts.parse(data)
    except Exception:
        return None
    lines: list[str] = []
    for name in _SHOWN_HEADERS:
        lines += (f"{name}: {escape(value)}" for value in mailparts.header(message, name))
    if not message.keys() or not (lines or declared):
        return None
    bodies = attachments = 0
    listed: list[str] = []
    for part in mailparts.parts(message, limit_chars=len(data) + 1):
        if isinstance(part, mailparts.Body):
            bodies += 1
            notes = " · ".join(filter(None, [part.charset, part.note]))
            lines += ["", f"── part {part.number} · {escape(part.content_type)} · {notes} ──"]
            # CRLF is how mail travels, not part of what was written: only a lone CR shows.
            lines.append(render_text(part.text.replace("\r\n", "\n"))[0])
        else:
            attachments += 1
            name = escape(part.name) if part.name is not None else "(no name)"
            size_text = "size unknown" if part.size is None else f"{part.size} bytes"
            listed.append(f"[{part.number}] {name} · {escape(part.content_type)} · {size_text}")
    if listed:
        lines += ["", "── attachments (listed, not shown) ──", *listed]
    note = (
        f"e-mail message ({_size_note(len(data), size)}): {bodies} text parts, "
        f"{attachments} attachments; HTML shown as text, never rendered"
    )
    return Preview("email", "\n".join(lines), len(data) < size, None, note)


def preview(
    data: bytes, *, mime: str, name: str, limit: int = 256 * 1024, size: int | None = None
) -> Preview:
    """A safe preview of a document (see the module docstring).

    Args:
        data: the document's bytes, or at least its first `limit` bytes; only those are read.
        mime: its detected type (libmagic's MIME type from check-in).
        name: its display name; an `.eml` name makes text that parses as a message show as one.
        limit: most bytes looked at.
        size: the document's true size when `data` is only its start, for `truncated`.

    Returns:
        The preview. It never raises for what the bytes contain.
    """
    total = max(len(data), size or 0)
    head = data[:limit]
    mime = normalise(mime)
    if not head:
        return Preview("text", "", total > 0, None, "empty document")
    try:
        return _preview(head, total, mime, name)
    except Exception as exc:  # a parser's failure on hostile bytes: show the bytes instead
        return _hex(head, total, f"{escape(mime)}: preview failed ({type(exc).__name__})")


def _preview(head: bytes, total: int, mime: str, name: str) -> Preview:
    textual = is_textual(mime)
    declared = mime in MESSAGE_TYPES or (textual and mailparts.looks_like_message(head))
    if declared or (textual and name.lower().endswith(".eml")):
        shown = _email(head, total, declared=declared)
        if shown is not None:
            return shown
    if textual or mime in MESSAGE_TYPES:
        shown = _text(head, total, mime)
        if shown is not None:
            return shown
        return _hex(head, total, f"{escape(mime)}, but no text in any known encoding")
    return _hex(head, total, f"{escape(mime)}: no text preview for this type")
