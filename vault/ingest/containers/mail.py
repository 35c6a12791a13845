"""One e-mail message: its attachments and inline non-body parts become members.

The message is read whole (up to `Limits.max_message_bytes`, else `too-large`) and parsed with
the stdlib `email` package and `policy.compat32`, which keeps headers as text (names are decoded
here). Its MIME tree is walked without recursion, at most `Limits.max_mime_depth` multiparts
deep. A leaf part is body text (and not a member) when it is text/plain, text/html or
text/enriched with no filename and no `attachment` disposition; every other leaf is a member:
attachments, inline images, calendar items, signatures, and attached messages (message/rfc822,
flagged `attached-message`, whose bytes are the message, so the pipeline opens it as e-mail in
turn). A part is named by its filename (Content-Disposition, else Content-Type `name`, decoded),
else `part-N.<ext>` from its content type. A message whose raw headers show it is a single body
part (most mail) has no members and is not parsed further.

Header values are decoded (RFC 2047, RFC 2231, UTF-8 headers) and escaped; a value that cannot be
parsed is shown raw, escaped. `message_headers` gives the same for the message itself.
"""

from __future__ import annotations

import io
import mimetypes
import re
from collections.abc import Callable, Iterator, Mapping
from email import policy
from email.generator import BytesGenerator
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser
from typing import Any, BinaryIO, cast

from vault.ingest.containers import ContainerError
from vault.ingest.containers.decoders import describe
from vault.ingest.containers.model import ContainerKind, Context, Member
from vault.ingest.containers.streams import open_stream
from vault.ingest.limits import LimitExceeded, Limits
from vault.ingest.names import escape

_BODY_TYPES = frozenset({"text/plain", "text/html", "text/enriched"})
_BODY_TYPES_RAW = frozenset(t.encode() for t in _BODY_TYPES)
# A header line and its continuation lines, in a lowered header block; a name spelt with
# blanks before the colon counts too (the parser would not see it: a superset is safe).
_TYPE_LINE = re.compile(rb"^content-type[ \t]*:(.*(?:\n[ \t].*)*)", re.MULTILINE)
_DISPOSITION_LINE = re.compile(rb"^content-disposition[ \t]*:", re.MULTILINE)
_MESSAGES = frozenset({"message/rfc822", "message/global"})
_EXTENSIONS = {"message/delivery-status": ".txt", "text/rfc822-headers": ".txt"}
_NAME_PARAMETER = re.compile(r"(?:^|;)\s*(?:file)?name\s*=\s*(\"[^\"]*\"|[^;]*)", re.IGNORECASE)
_MAX_VALUE_CHARS = 16 * 1024
# The stdlib's built-in table only: the machine's /etc/mime.types would make names vary.
_TYPES = mimetypes.MimeTypes(filenames=())
_GENERATOR_POLICY = policy.default.clone(refold_source="none", max_line_length=0)


def read_bounded(src: BinaryIO, limit: int, ctx_name: str) -> bytes:
    """All of `src` from its start, refusing more than `limit` bytes.

    Raises:
        LimitExceeded: `too-large` when the source is longer than `limit`.
    """
    src.seek(0)
    data = src.read(limit + 1)
    if len(data) > limit:
        raise LimitExceeded(
            "too-large",
            f"{ctx_name}: a message longer than {limit} bytes is kept whole, its parts not listed",
        )
    return data


def _readable(raw: str) -> str:
    """Header text with undecodable 8-bit bytes turned back into UTF-8 where they are UTF-8."""
    try:
        raw.encode("ascii")
        return raw
    except UnicodeEncodeError:
        return raw.encode("utf-8", "surrogateescape").decode("utf-8", "surrogateescape")


def _words(text: str) -> str:
    """The raw value unfolded, its RFC 2047 encoded words decoded where they decode."""
    unfolded = " ".join(text.split())
    try:
        return str(make_header(decode_header(unfolded)))
    except Exception:  # an encoded word that does not decode: keep it as written
        return unfolded


def decoded_header(name: str, raw: str) -> str:
    """A header's decoded value, unescaped: for building names, never for showing.

    A value the structured parser finds defects in (an address list it would rewrite, say) is
    decoded word by word instead, so nothing that was in the header is hidden.
    """
    text = _readable(raw)
    if len(text) > _MAX_VALUE_CHARS:
        return _words(text[:_MAX_VALUE_CHARS]) + "…"
    try:
        value = policy.default.header_fetch_parse(name, text)
    except Exception:  # the structured parser fails on some malformed values
        return _words(text)
    if getattr(value, "defects", None):
        return _words(text)
    return str(value)


def header_value(name: str, raw: str) -> str:
    """A header's decoded value, escaped: safe to show."""
    return escape(decoded_header(name, raw))


def headers_of(message: Message) -> dict[str, str]:
    """A message's or part's headers, decoded and escaped; repeated headers joined by newlines."""
    found: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for name, raw in message.raw_items():
        key = name.lower()
        names.setdefault(key, escape(name))
        found.setdefault(key, []).append(header_value(name, str(raw)))
    return {names[key]: "\n".join(values) for key, values in found.items()}


def message_headers(src: BinaryIO, *, limits: Limits) -> Mapping[str, str]:
    """The headers of the message in `src` (its first `limits.max_header_bytes` are read)."""
    try:
        src.seek(0)
        head = src.read(limits.max_header_bytes)
        message = BytesParser(policy=policy.default).parsebytes(head, headersonly=True)
    except Exception as exc:
        raise ContainerError("message", f"headers cannot be read ({describe(exc)})") from exc
    return headers_of(message)


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:  # a Content-Type the parser chokes on: treat the part as opaque data
        return "application/octet-stream"


def _leaves(message: Message, ctx: Context) -> Iterator[tuple[Message, str]]:
    """The leaf parts in MIME order, each with its content type (parsing it is costly: once)."""
    stack: list[tuple[Message, int]] = [(message, 0)]
    while stack:
        part, depth = stack.pop()
        content_type = _content_type(part)
        if content_type.startswith("multipart/") and part.is_multipart():
            if depth >= ctx.limits.max_mime_depth:
                raise LimitExceeded(
                    "too-deep",
                    f"{ctx.name}: MIME parts nest deeper than {ctx.limits.max_mime_depth}",
                )
            children = part.get_payload()
            if isinstance(children, list):
                stack.extend(
                    (child, depth + 1) for child in reversed(children) if isinstance(child, Message)
                )
        else:
            yield part, content_type


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()  # RFC 2231 decoded
    except Exception:  # malformed parameters
        name = None
    if not name:
        return _raw_filename(part)
    name = _readable(str(name))
    return _encoded_words(name) if "=?" in name else name


def _encoded_words(value: str) -> str:
    """RFC 2047 words decoded, as mailers put them in a quoted filename; kept as written if they
    do not decode."""
    try:
        return str(make_header(decode_header(value)))
    except Exception:
        return value


def _raw_filename(part: Message) -> str | None:
    """A filename the parameter parser gave up on, such as an unquoted RFC 2047 word."""
    for header in ("Content-Disposition", "Content-Type"):
        for _, raw in (item for item in part.raw_items() if item[0].lower() == header.lower()):
            found = _NAME_PARAMETER.search(str(raw)[:_MAX_VALUE_CHARS])
            if found is None:
                continue
            return _encoded_words(_readable(found.group(1).strip().strip('"')))
    return None


def _disposition(part: Message) -> str | None:
    try:
        return part.get_content_disposition()
    except Exception:
        return None


def _is_body(content_type: str, filename: str | None, disposition: str | None) -> bool:
    return filename is None and disposition != "attachment" and content_type in _BODY_TYPES


def _flattened(message: Message) -> bytes:
    buffer = io.BytesIO()
    try:
        generator = BytesGenerator(buffer, mangle_from_=False, policy=_GENERATOR_POLICY)
        generator.flatten(cast(Any, message))
    except Exception:  # damaged headers the generator will not write: fall back to text
        return str(message).encode("utf-8", "surrogateescape")
    return buffer.getvalue()


def _payload(part: Message) -> bytes:
    """A part's content: transfer-decoded bytes, or the message(s) a message/* part carries."""
    if part.is_multipart():
        inner = part.get_payload()
        blocks = inner if isinstance(inner, list) else [inner]
        return b"\n".join(_flattened(block) for block in blocks if isinstance(block, Message))
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _plain_body(data: bytes) -> bool:
    """Whether the message's headers alone show it is one body part and nothing else.

    Most mail is: a single text/plain (or HTML) part, no filename, no disposition. Only such a
    message, unmistakably so in its raw headers, skips the full parse (the costliest step of
    checking mail in); anything unusual takes the full parse. The block scanned runs to the
    first empty line, so it holds every header the parser would see.
    """
    lines = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")  # the parser's line ends
    end = lines.find(b"\n\n")
    block = (lines if end < 0 else lines[:end]).lower()
    if _DISPOSITION_LINE.search(block):
        return False
    types = _TYPE_LINE.findall(block)
    if not types:
        return True  # RFC 2045: text/plain
    value = types[0]
    return (
        len(types) == 1
        and b"name" not in value
        and value.split(b";", 1)[0].strip() in _BODY_TYPES_RAW
    )


def read(src: BinaryIO, kind: ContainerKind, ctx: Context) -> Iterator[Member]:
    """The attachments and inline parts of one e-mail message, in MIME order."""
    data = read_bounded(src, ctx.limits.max_message_bytes, ctx.name)
    if _plain_body(data):
        return
    try:
        # compat32 keeps headers as text: policy.default would parse every header again on
        # every read of it, most of the cost of a message. Names are decoded here instead.
        message = BytesParser(policy=policy.compat32).parsebytes(data)
    except Exception as exc:
        raise ContainerError(ctx.name, f"the message cannot be parsed ({describe(exc)})") from exc
    del data
    for number, (part, content_type) in enumerate(_leaves(message, ctx), start=1):
        filename = _filename(part)
        disposition = _disposition(part)
        if _is_body(content_type, filename, disposition):
            continue
        yield _member(part, content_type, number, filename, disposition, ctx)


def _member(
    part: Message,
    content_type: str,
    number: int,
    filename: str | None,
    disposition: str | None,
    ctx: Context,
) -> Member:
    attached = content_type in _MESSAGES
    if filename is None:
        extension = ".eml" if attached else _extension(content_type)
        filename = f"part-{number}{extension}"
    path = ctx.safe_path(filename)
    flags = set(path.flags)
    if disposition == "inline" or (disposition is None and "Content-ID" in part):
        flags.add("inline")
    if attached:
        flags.add("attached-message")
    return Member(
        path=path,
        kind="file",
        size=None,
        link_target=None,
        flags=frozenset(flags),
        headers=headers_of(part),
        open=_opener(part, ctx, path.display),
    )


def _extension(content_type: str) -> str:
    return _EXTENSIONS.get(content_type) or _TYPES.guess_extension(content_type) or ".bin"


def _opener(part: Message, ctx: Context, what: str) -> Callable[[], BinaryIO]:
    def open_member() -> BinaryIO:
        try:
            payload = _payload(part)
        except Exception as exc:
            raise ContainerError(ctx.name, f"{what} cannot be decoded ({describe(exc)})") from exc
        return open_stream(io.BytesIO(payload).read, ctx, what)

    return open_member
