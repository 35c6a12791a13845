"""An mbox mailbox: each message becomes a member whose bytes are the raw message.

The mailbox is scanned as a stream, line by line (lines are read in bounded pieces). A message
starts at the `From ` line that opens the file, and at each later envelope line (`From sender`,
alone or followed by a date with a time of day) that follows a blank line; it ends before the
blank line that precedes the next one. `>From ` quoting is left as found. The envelope line is
not part of the message: it is kept in the member's headers as `From_`. Members are named
`NNNN <subject>.eml` (the subject decoded and escaped, separators replaced), so the pipeline
opens each one as e-mail.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from email import policy
from email.parser import BytesParser
from typing import BinaryIO

from vault.ingest.containers import ContainerError
from vault.ingest.containers.mail import decoded_header, headers_of
from vault.ingest.containers.model import ContainerKind, Context, Member
from vault.ingest.containers.streams import SourceView, buffered, open_stream
from vault.ingest.names import escape

# A From_ line after the first: "From sender" alone, or followed by a date with a time of day.
_SEPARATOR = re.compile(rb"From \S+(?: [^\r\n]*\d:\d\d[^\r\n]*)?\r?\n?")
_MAX_LINE = 64 * 1024
_MAX_SUBJECT = 120
_BLANK = (b"\n", b"\r\n")


def _message(
    src: BinaryIO, index: int, start: int, end: int, envelope: bytes, ctx: Context
) -> Member:
    head = buffered(src, start=start, length=min(end - start, ctx.limits.max_header_bytes))
    subject = ""
    try:
        parsed = BytesParser(policy=policy.default).parse(head, headersonly=True)
        headers = headers_of(parsed)
        raw_subject = next((str(v) for k, v in parsed.raw_items() if k.lower() == "subject"), "")
        subject = decoded_header("Subject", raw_subject)
    except Exception:  # a damaged header block: the message is still a member
        headers = {}
    headers["From_"] = escape(envelope.rstrip(b"\r\n").decode("utf-8", "surrogateescape"))
    subject = " ".join(subject.replace("/", "_").replace("\\", "_").split())[:_MAX_SUBJECT]
    path = ctx.safe_path(f"{index:04d} {subject}.eml" if subject else f"{index:04d}.eml")
    what = path.display

    def open_member() -> BinaryIO:
        view = SourceView(src, start, end - start)
        return open_stream(view.read, ctx, what, declared=end - start)

    return Member(
        path=path,
        kind="file",
        size=end - start,
        link_target=None,
        flags=path.flags,
        headers=headers,
        open=open_member,
    )


def _starts_message(line: bytes, position: int) -> bool:
    if position == 0:
        return line.startswith(b"From ")  # sniff has vetted the first line
    return _SEPARATOR.fullmatch(line) is not None


def read(src: BinaryIO, kind: ContainerKind, ctx: Context) -> Iterator[Member]:
    """The messages of an mbox mailbox, in order."""
    reader = buffered(src)
    position = 0
    start: int | None = None
    envelope = b""
    index = 0
    blank_before = 0  # length of the blank line just read, 0 if it was not blank
    previous_blank = True  # the start of the file counts as a blank line
    at_line_start = True
    while True:
        line = reader.readline(_MAX_LINE)
        if not line:
            break
        if at_line_start and previous_blank and _starts_message(line, position):
            if start is not None:
                index += 1
                end = max(start, position - blank_before)
                yield _message(src, index, start, end, envelope, ctx)
            start, envelope = position + len(line), line
        previous_blank = at_line_start and line in _BLANK
        blank_before = len(line) if previous_blank else 0
        at_line_start = line.endswith(b"\n")
        position += len(line)
    if start is None:
        raise ContainerError(ctx.name, "no 'From ' line starts a message: not an mbox mailbox")
    index += 1
    yield _message(src, index, start, position, envelope, ctx)
