"""Safe preview: nothing in a preview can act on a terminal, whatever the document holds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.unit.review.corpus_docs import UNSAFE, corpus_files, detect_all
from vault.review.preview import HEX_BYTES, WRAP, Preview, hex_dump, preview

HOSTILE_MAIL = (
    b"From: Mallory <mallory@example.org>\r\n"
    b"To: desk@example.org\r\n"
    b"Subject: urgent \x1b[2J\x1b]0;owned\x07 \xe2\x80\xae fdp.exe\r\n"
    b"Date: Fri, 5 May 2017 18:00:00 +0200\r\n"
    b"Message-ID: <leak@example.org>\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="b"\r\n'
    b"\r\n"
    b"--b\r\n"
    b"Content-Type: text/html; charset=utf-8\r\n"
    b"\r\n"
    b"<html><head><style>p{color:red}</style><script>alert('x');fetch('http://evil')</script>"
    b"</head><body><p>Please read&nbsp;<b>now</b></p><img src='http://tracker/p.gif'>"
    b"<p>bell\x07 and \x1b[31mred</p></body></html>\r\n"
    b"--b\r\n"
    b"Content-Type: application/octet-stream\r\n"
    b'Content-Disposition: attachment; filename="inv\x1b[0moice.pdf"\r\n'
    b"Content-Transfer-Encoding: base64\r\n"
    b"\r\n"
    b"JVBERi0xLjQKc2VjcmV0IGNvbnRlbnQ=\r\n"
    b"--b--\r\n"
)


def assert_safe(shown: Preview) -> None:
    assert UNSAFE.search(shown.text) is None
    assert UNSAFE.search(shown.note) is None
    assert "\x1b" not in shown.text


@pytest.fixture(scope="module")
def corpus_types(corpus_dir: Path) -> dict[str, str]:
    return detect_all(corpus_dir, corpus_files(corpus_dir))


def test_every_corpus_file_previews_safely(corpus_dir: Path, corpus_types: dict[str, str]) -> None:
    assert len(corpus_types) == 397
    kinds: dict[str, int] = {}
    for name, mime in corpus_types.items():
        data = (corpus_dir / name).read_bytes()
        shown = preview(data[: 256 * 1024], mime=mime, name=Path(name).name, size=len(data))
        assert_safe(shown)
        assert shown.truncated == (len(data) > (HEX_BYTES if shown.kind == "hex" else 256 * 1024))
        kinds[shown.kind] = kinds.get(shown.kind, 0) + 1
    assert kinds["text"] > 30
    assert kinds["email"] > 40
    assert kinds["hex"] > 200


def test_hostile_files_preview_safely_whatever_type_they_claim(
    corpus_dir: Path, corpus_types: dict[str, str]
) -> None:
    hostile = [name for name in corpus_types if name.startswith(("hostile/", "email/"))]
    assert len(hostile) > 100
    for name in hostile:
        data = (corpus_dir / name).read_bytes()[: 256 * 1024]
        for mime in ("text/plain", "message/rfc822", "text/html"):
            assert_safe(preview(data, mime=mime, name=name))


def test_hostile_mail_shows_escaped_headers_text_and_attachment_list() -> None:
    shown = preview(HOSTILE_MAIL, mime="message/rfc822", name="leak.eml")
    assert shown.kind == "email"
    assert_safe(shown)
    lines = shown.text.split("\n")
    subject = next(line for line in lines if line.startswith("Subject: "))
    assert subject == "Subject: urgent \\x1b[2J\\x1b]0;owned\\x07 \\u202e fdp.exe"
    assert "From: Mallory <mallory@example.org>" in lines
    assert "Date: Fri, 5 May 2017 18:00:00 +0200" in lines  # as written, not re-rendered
    assert "Please read\u00a0now" in shown.text
    assert "bell\\x07 and \\x1b[31mred" in shown.text
    for hidden in ("alert", "fetch", "color:red", "tracker", "<p>", "JVBER", "secret"):
        assert hidden not in shown.text
    assert "[2] inv\\x1b[0moice.pdf · application/octet-stream · 23 bytes" in lines
    assert "1 text parts, 1 attachments" in shown.note


def test_text_keeps_newlines_and_tabs_and_shows_every_other_control() -> None:
    data = "a\tb\r\nc\x00d\x1b[2J\x9b\u202eevil\u200b\x7f\\\n".encode()
    shown = preview(data, mime="text/plain", name="t.txt")
    assert shown.kind == "text"
    assert shown.encoding == "utf-8"
    assert shown.text == "a\tb\\r\nc\\x00d\\x1b[2J\\u009b\\u202eevil\\u200b\\x7f\\\\\n"
    assert_safe(shown)


def test_long_lines_are_wrapped_without_cutting_an_escape() -> None:
    line = ("x" * 37 + "\x1b") * 1000  # 38,000 characters, escaped to 41,000
    shown = preview(line.encode(), mime="text/plain", name="long.txt")
    rows = shown.text.split("\n")
    assert len(rows) > 1
    assert all(len(row) <= WRAP for row in rows)
    assert "".join(rows) == ("x" * 37 + "\\x1b") * 1000
    assert "wrapped" in shown.note


def test_utf16_csv_from_the_corpus_decodes(corpus_dir: Path) -> None:
    data = (corpus_dir / "documents/text/utf16le.csv").read_bytes()
    shown = preview(data, mime="text/csv", name="utf16le.csv")
    assert shown.kind == "text"
    assert shown.encoding == "utf-16-le"
    assert shown.text.startswith("Name,Age,City\nAlice,30,New York\n")
    assert "\\x00" not in shown.text


@pytest.mark.parametrize(
    ("encoding", "text"),
    [
        ("cp1252", "Le d\u00e9put\u00e9 a re\u00e7u l'argent, d\u00e9j\u00e0 en ao\u00fbt."),
        ("shift_jis", "\u3053\u306e\u30e1\u30fc\u30eb\u306f\u30c6\u30b9\u30c8\u7528\u3067\u3059"),
        (
            "koi8-r",
            "\u0414\u0435\u043d\u044c\u0433\u0438 \u043f\u0435\u0440\u0435\u0434\u0430"
            "\u043d\u044b \u0432 \u043f\u044f\u0442\u043d\u0438\u0446\u0443",
        ),
    ],
)
def test_legacy_encodings_are_detected(encoding: str, text: str) -> None:
    shown = preview(((text + "\n") * 20).encode(encoding), mime="text/plain", name="memo.txt")
    assert shown.kind == "text"
    assert text in shown.text


def test_binary_claiming_to_be_text_falls_back_to_hex() -> None:
    data = bytes(range(256)) * 4
    shown = preview(data, mime="text/plain", name="x.txt")
    assert shown.kind == "hex"
    assert "no text in any known encoding" in shown.note
    assert shown.text.startswith("00000000  00 01 02 03")


def test_hex_dump_format() -> None:
    data = b"%PDF-1.4\n\x00\xff\x1b[2J|ok" + bytes(range(20))
    assert hex_dump(data).split("\n") == [
        "00000000  25 50 44 46 2d 31 2e 34  0a 00 ff 1b 5b 32 4a 7c  |%PDF-1.4....[2J||",
        "00000010  6f 6b 00 01 02 03 04 05  06 07 08 09 0a 0b 0c 0d  |ok..............|",
        "00000020  0e 0f 10 11 12 13                                 |......|",
    ]


def test_other_types_are_a_bounded_hex_dump() -> None:
    data = b"\x89PNG\r\n\x1a\n" + bytes(10_000)
    shown = preview(data, mime="image/png", name="p.png")
    assert shown.kind == "hex"
    assert shown.truncated
    rows = shown.text.split("\n")
    assert len(rows) == HEX_BYTES // 16
    assert re.fullmatch(
        r"[0-9a-f]{8}  ([0-9a-f]{2} ){8} ([0-9a-f]{2} ){7}[0-9a-f]{2}  \|.{16}\|", rows[0]
    )
    assert "the first 4096 of 10008 bytes" in shown.note


def test_only_the_limit_is_read_and_a_cut_character_is_dropped() -> None:
    data = ("\u00e9" * 1000).encode()  # two bytes each: a limit of 999 cuts the last one
    shown = preview(data, mime="text/plain", name="e.txt", limit=999)
    assert shown.truncated
    assert shown.text == "\u00e9" * 499


def test_text_that_is_a_message_previews_as_mail(corpus_dir: Path) -> None:
    data = (corpus_dir / "email/eml/mail-parser-gtube.eml").read_bytes()
    shown = preview(data, mime="text/plain", name="gtube.eml")
    assert shown.kind == "email"
    assert "Subject: Test spam mail (GTUBE)" in shown.text.split("\n")
    assert "GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL" in shown.text


def test_empty_document() -> None:
    shown = preview(b"", mime="application/x-empty", name="empty")
    assert (shown.kind, shown.text, shown.truncated) == ("text", "", False)


def test_mail_bodies_lose_transport_line_ends_but_keep_a_lone_cr() -> None:
    data = (
        b"From: a@example.org\r\nTo: b@example.org\r\nSubject: s\r\n\r\nline one\r\nline\rtwo\r\n"
    )
    shown = preview(data, mime="message/rfc822", name="m.eml")
    assert shown.text.endswith("\nline one\nline\\rtwo\n")
