"""One e-mail message as review sees it: chosen headers, body texts, and a list of attachments.

The message is parsed with the stdlib `email` package from bytes the caller has already bounded:
with `policy.default` for the preview, with `policy.compat32` for the search index (`parse_raw`:
the same MIME tree and raw header values, several times faster, since only structure, charsets
and raw values are read; headers are decoded here, by `header_text`, either way). Its MIME tree
is walked without recursion, at most `MAX_DEPTH` multiparts deep and `MAX_PARTS` leaves long. A
leaf is body text when it is text/plain, text/html or text/enriched with no filename and no
`attachment` disposition (the rule check-in uses to decide what becomes a child document,
`vault.ingest.containers.mail`); every other leaf is an attachment, described by name, type and
size and never decoded as text.

Body text is decoded by the part's declared charset, else by detection; HTML is reduced to its
text (`vault.review.html_text`). Everything returned here is raw text: the preview escapes it, the
extractor cleans it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser

from vault.review.html_text import html_to_text
from vault.review.textdecode import decode_declared

MAX_DEPTH = 32
MAX_PARTS = 500
MAX_HEADER_CHARS = 16 * 1024
_BODY_TYPES = frozenset({"text/plain", "text/html", "text/enriched"})
_HEADER_LINE = re.compile(rb"(?:From |[!-9;-~]{1,76}:)")
_MESSAGE_HEADERS = frozenset(
    {"from", "to", "cc", "date", "subject", "message-id", "received", "return-path", "sender"}
)
_MIME_HEADERS = frozenset({"mime-version", "content-type"})


@dataclass(frozen=True)
class Body:
    """One body part's text.

    Attributes:
        number: the part's place among the message's leaves, from 1.
        content_type: e.g. `text/plain`.
        charset: the codec the text was decoded with.
        text: the text, raw; HTML already reduced to text.
        note: what was done to it (`HTML shown as text`, `cut`), or empty.
    """

    number: int
    content_type: str
    charset: str
    text: str
    note: str


@dataclass(frozen=True)
class Attachment:
    """A part that is not body text.

    Attributes:
        number: the part's place among the message's leaves, from 1.
        name: its file name, raw (may hold anything), or None.
        content_type: its declared type.
        size: its transfer-decoded size in bytes, or None when it cannot be decoded.
    """

    number: int
    name: str | None
    content_type: str
    size: int | None


def parse(data: bytes) -> Message:
    """Parse a message the caller has bounded in size.

    Raises:
        Exception: whatever the stdlib parser raises on input it cannot take (rare).
    """
    return BytesParser(policy=policy.default).parsebytes(data)


def parse_raw(data: bytes) -> Message:
    """Parse a message the caller has bounded in size, without structured header objects.

    Raises:
        Exception: whatever the stdlib parser raises on input it cannot take (rare).
    """
    return BytesParser(policy=policy.compat32).parsebytes(data)


def looks_like_message(data: bytes) -> bool:
    """Whether text bytes are an e-mail message: a header block from the first line on, with a
    sender (or the MIME headers of a saved web page, `.mht`) and another message header."""
    if not _HEADER_LINE.match(data):
        return False
    try:
        head = BytesParser(policy=policy.compat32).parsebytes(data[: 64 * 1024], headersonly=True)
    except Exception:
        return False
    names = {name.lower() for name in head}
    has_sender = bool(names & {"from", "sender", "return-path", "received"})
    if has_sender and len(names & _MESSAGE_HEADERS) >= 2:
        return True
    return names >= _MIME_HEADERS and content_type(head).startswith("multipart/")


def header_text(raw: str) -> str:
    """A header value as written, unfolded, its RFC 2047 encoded words decoded; not escaped.

    Unlike the structured parser, this never rewrites a value (a date keeps its own format, an
    address list its quirks): for judging authenticity, what the sender's software wrote counts.
    """
    try:
        raw.encode("ascii")
    except UnicodeEncodeError:  # 8-bit bytes carried as surrogates: UTF-8 where they are UTF-8
        raw = raw.encode("utf-8", "surrogateescape").decode("utf-8", "surrogateescape")
    unfolded = " ".join(raw[:MAX_HEADER_CHARS].split())
    try:
        text = str(make_header(decode_header(unfolded)))
    except Exception:  # an encoded word that does not decode: keep it as written
        text = unfolded
    return text + ("…" if len(raw) > MAX_HEADER_CHARS else "")


def header(message: Message, name: str) -> list[str]:
    """Every value of one header, as `header_text` gives it."""
    wanted = name.lower()
    return [header_text(str(raw)) for key, raw in message.raw_items() if key.lower() == wanted]


def content_type(part: Message) -> str:
    """A part's content type, `application/octet-stream` when it cannot be parsed."""
    try:
        return part.get_content_type()
    except Exception:  # a Content-Type the parser chokes on: an opaque part
        return "application/octet-stream"


def _leaves(message: Message) -> Iterator[Message]:
    stack: list[tuple[Message, int]] = [(message, 0)]
    count = 0
    while stack and count < MAX_PARTS:
        part, depth = stack.pop()
        if content_type(part).startswith("multipart/") and part.is_multipart():
            children = part.get_payload()
            if depth < MAX_DEPTH and isinstance(children, list):
                stack.extend(
                    (child, depth + 1) for child in reversed(children) if isinstance(child, Message)
                )
            continue
        count += 1
        yield part


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:  # malformed parameters
        return None
    return str(name) if name else None


def _disposition(part: Message) -> str | None:
    try:
        return part.get_content_disposition()
    except Exception:
        return None


def _payload(part: Message) -> bytes | None:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        return None
    return data if isinstance(data, bytes) else None


def _size(part: Message) -> int | None:
    if part.is_multipart():  # message/rfc822 and the like carry a message, not bytes
        try:
            return len(part.as_bytes())
        except Exception:
            return None
    data = _payload(part)
    return None if data is None else len(data)


def _charset(part: Message) -> str | None:
    try:
        return part.get_content_charset()
    except Exception:
        return None


def _body(part: Message, number: int, kind: str, limit_chars: int) -> Body:
    data = _payload(part) or b""
    decoded = decode_declared(data, _charset(part))
    if kind != "text/html":
        text = decoded.text[:limit_chars]
        note = "cut" if len(text) < len(decoded.text) else ""
        return Body(number, kind, decoded.encoding, text, note)
    html = html_to_text(decoded.text, limit_chars=limit_chars)
    notes = ["HTML shown as text, not rendered"]
    if html.truncated:
        notes.append("cut")
    if html.dropped:
        notes.append("malformed markup skipped")
    return Body(number, kind, decoded.encoding, html.text, "; ".join(notes))


def parts(message: Message, *, limit_chars: int) -> Iterator[Body | Attachment]:
    """The message's leaves, in MIME order: body texts and attachments.

    Args:
        message: a parsed message.
        limit_chars: most characters of text kept per body part.
    """
    for number, part in enumerate(_leaves(message), start=1):
        kind = content_type(part)
        filename = _filename(part)
        if filename is None and _disposition(part) != "attachment" and kind in _BODY_TYPES:
            yield _body(part, number, kind, limit_chars)
        else:
            yield Attachment(number, filename, kind, _size(part))
