"""E-mail messages and mbox mailboxes."""

from __future__ import annotations

import io
from email.message import EmailMessage

import pytest

from vault.ingest.containers import (
    ContainerError,
    ContainerKind,
    Member,
    members,
    message_headers,
    sniff,
)
from vault.ingest.limits import Budget, LimitExceeded, Limits

from .builders import PDF, PNG, email_with_attachments, mbox_of_three
from .walker import read_member, walk


def listing(data: bytes, kind: ContainerKind, limits: Limits | None = None) -> list[Member]:
    limits = limits or Limits()
    return list(
        members(
            kind, io.BytesIO(data), name="mail.eml", limits=limits, budget=Budget(limits), depth=0
        )
    )


def test_attachments_and_inline_parts_become_members() -> None:
    data = email_with_attachments()
    assert sniff(data) is ContainerKind.EMAIL
    found = listing(data, ContainerKind.EMAIL)
    assert [(m.path.display, "inline" in m.flags) for m in found] == [
        ("part-3.png", True),
        ("budget.pdf", False),
        ("données.csv", False),
        ("\\x1b[2Jrun.exe", False),
    ]
    contents = {m.path.display: read_member(m) for m in found}
    assert contents["part-3.png"] == PNG
    assert contents["budget.pdf"] == PDF
    assert contents["données.csv"] == b"col1,col2\n"
    assert {"path-traversal", "control-chars"} <= found[3].flags


def test_parts_carry_their_headers_escaped() -> None:
    found = listing(email_with_attachments(), ContainerKind.EMAIL)
    headers = found[1].headers
    assert headers is not None
    assert headers["Content-Type"] == "application/pdf"
    assert 'filename="budget.pdf"' in headers["Content-Disposition"]


def test_message_headers_are_decoded_and_escaped() -> None:
    headers = message_headers(io.BytesIO(email_with_attachments()))
    assert headers["Subject"] == "Documents \\u202egpj.exe"
    assert headers["From"] == "Source <source@example.org>"
    assert headers["Message-ID"] == "<1@example.org>"


def test_repeated_headers_are_kept_in_order() -> None:
    data = b"Received: from a\r\nReceived: from b\r\nFrom: x@example.org\r\n\r\nbody"
    assert message_headers(io.BytesIO(data))["Received"] == "from a\nfrom b"


def test_header_values_that_do_not_parse_are_shown_raw_and_escaped() -> None:
    data = b"From: <<<@@@>>> \x1b]0;pwned\x07\r\nSubject: =?utf-8?B?AAAA?=\r\n\r\n"
    headers = message_headers(io.BytesIO(data))
    assert "\x1b" not in headers["From"]
    assert "\\x1b]0;pwned\\x07" in headers["From"]
    assert "\x00" not in headers["Subject"]


def test_attachment_names_are_decoded_however_the_mailer_encoded_them() -> None:
    parts = [
        # Outlook and Gmail put RFC 2047 words in the quoted parameter; RFC 2231 is the standard.
        b'Content-Type: application/pdf; name="=?utf-8?b?w6l0w6kucGRm?="\r\n'
        b'Content-Disposition: attachment; filename="=?utf-8?b?w6l0w6kucGRm?="',
        b"Content-Disposition: attachment; filename*=utf-8''%E2%80%AEgpj.exe",
        b"Content-Disposition: attachment; filename==?utf-8?q?r=C3=A9sum=C3=A9.doc?=",
        b'Content-Disposition: attachment; filename="=?bogus?x?junk?="',
    ]
    body = b"".join(b"--XX\r\n" + headers + b"\r\n\r\ndata\r\n" for headers in parts)
    data = (
        b"From: a@example.org\r\nTo: b@example.org\r\nSubject: names\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="XX"\r\n\r\n' + body + b"--XX--\r\n"
    )
    found = listing(data, ContainerKind.EMAIL)
    assert [m.path.display for m in found] == [
        "été.pdf",
        "\\u202egpj.exe",  # escaped for showing, and flagged
        "résumé.doc",
        "=?bogus?x?junk?=",
    ]
    assert "bidi-override" in found[1].flags


def test_a_plain_message_has_no_members() -> None:
    data = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: hi\r\n\r\nJust text.\r\n"
    assert listing(data, ContainerKind.EMAIL) == []


def test_an_attached_message_is_a_member_opened_as_email() -> None:
    inner = EmailMessage()
    inner["From"] = "insider@example.org"
    inner["Subject"] = "the original"
    inner.set_content("forwarded")
    inner.add_attachment(
        b"secret", maintype="application", subtype="octet-stream", filename="s.bin"
    )
    outer = EmailMessage()
    outer["From"] = "source@example.org"
    outer["Subject"] = "Fwd"
    outer.set_content("see attached")
    outer.add_attachment(inner)
    walked = walk(outer.as_bytes(), "fwd.eml")
    assert [(s.depth, s.display) for s in walked.seen] == [(0, "part-2.eml"), (1, "s.bin")]
    assert "attached-message" in walked.seen[0].flags
    assert walked.by_name("s.bin").data == b"secret"


def test_a_message_larger_than_the_limit_is_refused() -> None:
    limits = Limits(max_message_bytes=10_000)
    with pytest.raises(LimitExceeded) as error:
        listing(email_with_attachments() + b"x" * 20_000, ContainerKind.EMAIL, limits)
    assert error.value.flag == "too-large"


def test_mime_nesting_past_the_limit_is_refused() -> None:
    depth = 40
    head = b"From: a@example.org\r\nSubject: deep\r\n"
    body = b""
    for level in range(depth):
        body += b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (level, level)
    body += b"Content-Type: application/octet-stream\r\n\r\nleaf\r\n"
    for level in reversed(range(depth)):
        body += b"--b%d--\r\n" % level
    with pytest.raises(LimitExceeded) as error:
        listing(head + body, ContainerKind.EMAIL, Limits(max_mime_depth=8))
    assert error.value.flag == "too-deep"


def test_an_mbox_of_three_messages() -> None:
    data = mbox_of_three()
    assert sniff(data) is ContainerKind.MBOX
    found = listing(data, ContainerKind.MBOX)
    assert [m.path.display for m in found] == [
        "0001 Message 1_3.eml",
        "0002 Message 2_3.eml",
        "0003 Message 3_3.eml",
    ]
    first = read_member(found[0])
    assert first == (
        b"From: sender1@example.org\nSubject: Message 1/3\n\nBody 1\n>From the archive, quoted\n"
    )
    assert sniff(first) is ContainerKind.EMAIL
    assert found[1].headers is not None
    assert found[1].headers["From_"] == "From sender2@example.org Mon Jan  2 10:00:00 2024"
    assert read_member(found[2]).endswith(b">From the archive, quoted\n")


def test_a_body_line_starting_with_from_does_not_split_a_message() -> None:
    data = b"From a@example.org Mon Jan  1 10:00:00 2024\nSubject: x\n\nFrom now on we talk.\n"
    found = listing(data, ContainerKind.MBOX)
    assert len(found) == 1
    assert read_member(found[0]).endswith(b"From now on we talk.\n")


def test_hostile_subjects_are_escaped_in_member_names() -> None:
    data = b"From a@example.org Mon Jan  1 10:00:00 2024\nSubject: ../\x1b[2J/evil\n\nx\n"
    found = listing(data, ContainerKind.MBOX)
    assert found[0].path.display == "0001 .._\\x1b[2J_evil.eml"
    assert "control-chars" in found[0].flags


def test_not_an_mbox() -> None:
    with pytest.raises(ContainerError, match="mbox"):
        listing(b"no envelope line here\n", ContainerKind.MBOX)


@pytest.mark.parametrize(
    "header",
    [
        b"Content-Type: text/plain; charset=utf-8\n",
        b"Content-Type: TEXT/HTML\n",
        b"",
        b"Content-Type: text/plain; name=notes.txt\n",
        b"Content-Type: text/plain\nContent-Disposition: attachment\n",
        b"Content-Disposition: inline; filename=a.txt\n",
        b"Content-Type: application/pdf\n",
        b"Content-Type: text/plain (a comment)\n",
        b"Content-Type: text/plain\nContent-Type: application/pdf\n",
        b"Content-Type: text/calendar\n",
        b"Content-Type: message/rfc822\n",
        b"Content-Type: text/plain;\n name=folded.txt\n",
        b"X-A: 1\rContent-Type: application/pdf\r",
        b"Content-Type : application/pdf\n",
    ],
)
def test_the_single_part_shortcut_agrees_with_the_full_parse(
    header: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vault.ingest.containers import mail

    data = b"From: a@example.org\nSubject: s\n" + header + b"\nbody text\n"
    quick = [(m.path.display, m.flags) for m in listing(data, ContainerKind.EMAIL)]
    monkeypatch.setattr(mail, "_plain_body", lambda _data: False)
    full = [(m.path.display, m.flags) for m in listing(data, ContainerKind.EMAIL)]
    assert quick == full
