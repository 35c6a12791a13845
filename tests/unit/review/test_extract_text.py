"""Text extraction in the test process: what each format gives, and what attacks do not.

These call `extract_text` directly, without the sandbox, on documents made here, so a failure
points at the parser and not at the pool; `test_extract_corpus` runs real files through workers.
"""

from __future__ import annotations

import base64
import io
import time
import zipfile
from pathlib import Path

import pytest

from tests.unit.review.corpus_docs import DOCX, ODT, UNSAFE, XLSX, docx, paragraph
from vault.ingest.sandbox_protocol import ProtocolError
from vault.review import office
from vault.review.cleantext import clean_for_index, is_clean
from vault.review.extract import Extraction, extract_text
from vault.review.extract_protocol import encode_result, parse_reply
from vault.review.extract_warmup import tiny_pdf, zip_package
from vault.review.html_text import MAX_PENDING, html_to_text

LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{n} "{("&lol" + str(n - 1) + ";") * 10 if n > 1 else "&lol;" * 10}">'
        for n in range(1, 10)
    )
    + "]>"
)


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text("SOURCE-IDENTITY-7f3a")
    return path


def test_docx_text_in_order_with_properties() -> None:
    data = docx(paragraph("First paragraph") + paragraph("Second &amp; last"))
    found = extract_text(data, mime=DOCX, name="a.docx")
    assert found == Extraction("First paragraph\nSecond & last\n\nQuarterly figures", None)


def test_docx_xxe_to_a_local_file_is_refused(secret_file: Path) -> None:
    prolog = f'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "{secret_file.as_uri()}">]>'
    data = docx(paragraph("before &xxe; after"), prolog=prolog)
    found = extract_text(data, mime=DOCX, name="xxe.docx")
    assert "SOURCE-IDENTITY" not in found.text
    assert found.text == "Quarterly figures"  # the other parts still give their text
    assert found.error == "word/document.xml: declares a DTD (refused)"


def test_plain_xml_xxe_is_indexed_as_the_text_it_is(secret_file: Path) -> None:
    data = (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "{secret_file.as_uri()}">]>'
        "<r>leak: &xxe;</r>"
    ).encode()
    found = extract_text(data, mime="application/xml", name="xxe.xml")
    assert "SOURCE-IDENTITY" not in found.text
    assert "leak: &xxe;" in found.text
    assert found.error is None


def test_billion_laughs_in_a_workbook_is_refused_at_once() -> None:
    strings = f'<?xml version="1.0"?>{LAUGHS}<sst><si><t>&lol9;</t></si></sst>'
    data = zip_package(
        {
            "[Content_Types].xml": b"<Types/>",
            "xl/workbook.xml": b"<workbook/>",
            "xl/sharedStrings.xml": strings.encode(),
            "xl/worksheets/sheet1.xml": b"<worksheet><sheetData><row><c><v>42</v></c></row>"
            b"</sheetData></worksheet>",
        }
    )
    started = time.monotonic()
    found = extract_text(data, mime=XLSX, name="lol.xlsx")
    assert time.monotonic() - started < 2
    assert "lol" not in found.text
    assert found.text == "42\t"
    assert found.error == "xl/sharedStrings.xml: declares a DTD (refused)"


def test_spreadsheet_cells_give_strings_and_values_not_string_indexes() -> None:
    data = zip_package(
        {
            "[Content_Types].xml": b"<Types/>",
            "xl/workbook.xml": b"<workbook/>",
            "xl/sharedStrings.xml": b"<sst><si><t>Payee</t></si><si><r><t>Off</t></r><r><t>shore"
            b"</t></r><rPh><t>furigana</t></rPh></si></sst>",
            "xl/worksheets/sheet2.xml": b'<worksheet><sheetData><row><c t="s"><v>1</v></c>'
            b'<c t="inlineStr"><is><t>inline</t></is></c><c><v>9.5</v></c></row></sheetData>'
            b"</worksheet>",
        }
    )
    found = extract_text(data, mime=XLSX, name="s.xlsx")
    assert found.text == "Payee\nOffshore\n\n\tinline\t9.5\t"  # a tab ends each cell
    assert found.error is None


def test_zip_bomb_part_is_refused_by_ratio() -> None:
    body = "<w:t>" + "a" * (16 * 1024 * 1024) + "</w:t>"
    data = docx(f"<w:p><w:r>{body}</w:r></w:p>")
    assert len(data) < 100_000
    started = time.monotonic()
    found = extract_text(data, mime=DOCX, name="bomb.docx")
    assert time.monotonic() - started < 3
    assert found.error is not None
    assert "compression ratio above 100:1" in found.error
    assert len(found.text) < 2 * 1024 * 1024


def test_part_larger_than_the_cap_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(office, "MAX_PART_BYTES", 4096)
    words = " ".join(f"w{n}" for n in range(3000))
    found = extract_text(docx(paragraph(words)), mime=DOCX, name="big.docx")
    assert found.error == "word/document.xml: inflates past 0 MiB (refused)"


def test_damaged_and_foreign_zips_give_errors_or_nothing() -> None:
    data = docx(paragraph("x"))
    assert extract_text(data[:-60], mime=DOCX, name="cut.docx").error == (
        "not a readable zip package (BadZipFile)"
    )
    plain_zip = zip_package({"notes.txt": b"not an office document"})
    assert extract_text(plain_zip, mime="application/zip", name="a.zip") == Extraction("", None)


def test_encrypted_odf_says_so() -> None:
    manifest = b"<manifest:manifest><manifest:encryption-data/></manifest:manifest>"
    data = zip_package(
        {
            "mimetype": b"application/vnd.oasis.opendocument.text",
            "content.xml": b"\x8f\x12 not xml",
            "META-INF/manifest.xml": manifest,
        }
    )
    found = extract_text(data, mime=ODT, name="locked.odt")
    assert found == Extraction("", "encrypted: a password is needed to read its text")


def test_odf_text_with_spaces_tabs_and_tracked_deletions() -> None:
    content = (
        b'<office:document-content xmlns:office="o" xmlns:text="t"><office:body><office:text>'
        b"<text:h>Title</text:h><text:p>one<text:s/>two<text:tab/>three</text:p>"
        b"<text:tracked-changes><text:p>deleted words</text:p></text:tracked-changes>"
        b"</office:text></office:body></office:document-content>"
    )
    data = zip_package(
        {"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": content}
    )
    found = extract_text(data, mime=ODT, name="a.odt")
    assert found == Extraction("Title\none two\tthree\ndeleted words", None)


def test_html_drops_script_and_style_and_keeps_text() -> None:
    data = (
        b"<html><head><title>Memo</title><style>b{x:1}</style></head><body><script>var s='"
        b"hidden'</script><p>Transfer &euro;2&nbsp;m</p><table><tr><td>a</td><td>b</td></tr>"
        b"</table><p>bell\x07\x1b[2J</p></body></html>"
    )
    found = extract_text(data, mime="text/html", name="m.html")
    assert found.text == "Memo\n\nTransfer \u20ac2\u00a0m\n\na\tb\n\nbell  [2J"
    assert found.error is None


def test_html_parser_buffer_is_bounded() -> None:
    started = time.monotonic()
    found = html_to_text("<p>kept</p><!--" + "a <b" * 500_000, limit_chars=10_000)
    assert time.monotonic() - started < 5
    assert found.text == "kept"
    assert found.dropped
    assert MAX_PENDING < 500_000


def test_email_gives_headers_and_body_text_not_attachments() -> None:
    attachment = base64.b64encode(b"ATTACHMENT-BYTES-NOT-TEXT").decode()
    data = (
        (
            b"From: =?utf-8?q?Ren=C3=A9?= <rene@example.org>\r\nTo: desk@example.org\r\n"
            b"Subject: =?iso-8859-1?q?Caf=E9_meeting?=\r\nMIME-Version: 1.0\r\n"
            b'Content-Type: multipart/mixed; boundary="x"\r\n\r\n--x\r\n'
            b"Content-Type: text/plain; charset=koi8-r\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        )
        + "Встреча в пятницу\r\n".encode("koi8-r")
        + (
            "--x\r\nContent-Type: text/html\r\n\r\n<p>See <b>attached</b></p>\r\n--x\r\n"
            'Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="a.pdf"\r\n'
            f"Content-Transfer-Encoding: base64\r\n\r\n{attachment}\r\n--x--\r\n"
        ).encode()
    )
    found = extract_text(data, mime="message/rfc822", name="m.eml")
    assert found.text.split("\n\n") == [
        "Caf\u00e9 meeting",
        "Ren\u00e9 <rene@example.org>",
        "desk@example.org",
        "Встреча в пятницу",
        "See attached",
    ]
    assert "ATTACHMENT" not in found.text


def test_pdf_text_and_broken_pdfs() -> None:
    assert extract_text(tiny_pdf(b"Offshore account"), mime="application/pdf", name="a.pdf") == (
        Extraction("Offshore account", None)
    )
    broken = extract_text(b"%PDF-1.4\n1 0 obj <<", mime="application/pdf", name="b.pdf")
    assert broken.text == ""
    assert broken.error is not None
    assert broken.error.startswith("the PDF cannot be read")


def test_text_is_cleaned_for_the_index() -> None:
    data = "pass\u200bword\r\nrow\x1b[31m\u202eexe\x00end\u2028next\ttab".encode()
    found = extract_text(data, mime="text/plain", name="t.txt")
    assert found.text == "password\nrow [31mexe end\nnext\ttab"
    assert is_clean(found.text)
    assert not is_clean("a\rb")


def test_limit_cuts_and_says_so() -> None:
    found = extract_text(b"word " * 1000, mime="text/plain", name="t.txt", limit_chars=100)
    assert len(found.text) == 100
    assert found.truncated


def test_types_without_text_give_nothing() -> None:
    assert extract_text(b"\x89PNG\r\n", mime="image/png", name="a.png") == Extraction("", None)
    assert extract_text(bytes(100), mime="text/plain", name="z.txt").error is None


def test_cleaning_removes_every_unsafe_character() -> None:
    every = "".join(chr(code) for code in range(0x3000)) + "\U000e0041\U0001d173"
    cleaned = clean_for_index(every)
    assert UNSAFE.search(cleaned) is None
    assert is_clean(cleaned)
    assert "\U000e0041" not in cleaned


def test_ascii_text_is_cleaned_and_judged_as_any_other_text() -> None:
    # ASCII takes a shorter path; a non-ASCII character appended forces the general one.
    for code in range(0x80):
        text = f"a{chr(code)}b"
        general = clean_for_index(text + "\u00e9")[:-1]
        assert clean_for_index(text) == general, hex(code)
        assert is_clean(text) == is_clean(text + "\u00e9"), hex(code)


def test_protocol_round_trip_and_refusals() -> None:
    extraction = Extraction("caf\u00e9\tok\n", "2 of 3 pages could not be read", truncated=True)
    assert parse_reply(encode_result(5, extraction)).result == extraction
    lying = encode_result(5, Extraction("x", None)).replace(b"x", b"\x1b")
    with pytest.raises(ProtocolError):
        parse_reply(lying)
    with pytest.raises(ProtocolError):
        parse_reply(encode_result(5, extraction) + b"!")
    with pytest.raises(ProtocolError):
        parse_reply(encode_result(5, Extraction("ok", None)).replace(b"ok", b"\xff\xfe"))
    escaped = parse_reply(encode_result(5, Extraction("", "bad \x1b[2J"))).result
    assert escaped == Extraction("", "bad \\x1b[2J")


def test_reply_text_is_capped_at_two_mebibytes() -> None:
    big = Extraction("\u00e9" * 1_500_000, None)  # 3,000,000 bytes of UTF-8
    parsed = parse_reply(encode_result(1, big)).result
    assert parsed is not None
    assert parsed.truncated
    assert len(parsed.text.encode()) <= 2 * 1024 * 1024


def test_malformed_part_keeps_the_text_before_the_damage() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        archive.writestr(
            "word/document.xml", b"<w:document><w:p><w:t>kept</w:t></w:p><w:p><w:t>cut"
        )
    found = extract_text(buffer.getvalue(), mime=DOCX, name="x.docx")
    assert found.error == "word/document.xml: malformed XML (line 1)"
    assert found.text.startswith("kept")


def test_the_index_reads_mail_as_the_preview_parser_would(monkeypatch: pytest.MonkeyPatch) -> None:
    from vault.review import extract_warmup, mailparts

    messages = [
        extract_warmup._MAIL,
        b"From: a@example.org\nSubject: =?utf-8?b?w4l2ZQ==?=\nContent-Type: text/plain;"
        b" charset*=utf-8''iso-8859-1\n\ncaf\xe9\n",
        b"From: a@example.org\nContent-Type: text/html; charset=utf-8\n\n<p>\xc3\xa9t\xc3\xa9</p>",
    ]
    fast = [extract_text(m, mime="message/rfc822", name="m.eml") for m in messages]
    monkeypatch.setattr(mailparts, "parse_raw", mailparts.parse)
    assert fast == [extract_text(m, mime="message/rfc822", name="m.eml") for m in messages]
