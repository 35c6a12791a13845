"""Corpus documents through the sandboxed extractor: known text is found, attacks stay bounded.

The MIME types are those libmagic gives these files at check-in (some e-mails are `text/plain`
or `text/html`, one docx only `application/zip`), so each path is taken as it will be in use.
The hostile XML and office files are also sent as the XML or office type they pretend to be, so
the defused parser, not a text fallback, meets the attack.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.review.corpus_docs import DOCX, ODT, UNSAFE, XLSX, docx, paragraph
from vault.review.cleantext import is_clean
from vault.review.extract import CRASHED, Extraction, Extractor

PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"

KNOWN = [
    ("documents/variations/lorem-ipsum.txt", "text/plain", "Proin lacinia cursus congue"),
    ("documents/text/utf16le.csv", "text/csv", "Charlie,35,Tokyo"),
    ("documents/text/text_cr.txt", "text/plain", "sed do eiusmod tempor"),
    ("documents/variations/lorem-ipsum.htm", "text/html", "Variatio Ipsius"),
    ("documents/variations/lorem-ipsum.mht", "text/plain", "Variatio Ipsius"),
    (
        "email/eml/mail-parser-gtube.eml",
        "text/plain",
        "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X",
    ),
    ("email/eml/mail-parser-gtube.eml", "text/plain", "Test spam mail (GTUBE)"),
    (
        "email/eml/mail-multi_charset-japanese_shift_jis.eml",
        "message/rfc822",
        "\u3053\u306e\u30e1\u30fc\u30eb\u306f\u30c6\u30b9\u30c8\u7528\u306e\u30e1\u30fc\u30eb",
    ),
    ("email/eml/tika-testEML_embedded_xhtml_and_img.eml", "text/html", "This is the subject"),
    ("email/eml/mail-parser-test_14.eml", "message/rfc822", "HTML here"),
    ("documents/variations/lorem-ipsum.pdf", "application/pdf", "Proin lacinia cursus"),
    (
        "documents/pdf/multilang.pdf",
        "application/pdf",
        "\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440",
    ),
    ("documents/pdf/encrypted/r6-empty-password.pdf", "application/pdf", "pdf encryption test"),
    ("documents/pdf/encrypted/testPDF_protected.pdf", "application/pdf", "Rethinking the"),
    ("documents/office/word/testWORD_various.docx", DOCX, "Footnote appears here"),
    ("documents/office/word/testComment.docx", DOCX, "Here is a comment"),
    ("documents/office/word/testWORD.docx", "application/zip", "Sample Word Document Title"),
    ("documents/variations/lorem-ipsum.docx", DOCX, "Proin lacinia cursus congue"),
    ("documents/office/excel/testEXCEL.xlsx", XLSX, "Numbers and their Squares"),
    ("documents/office/powerpoint/testPPT.pptx", PPTX, "Attachment Test"),
    ("documents/office/opendocument/LibreOfficeWriter_1.3.odt", ODT, "This is an example document"),
    ("documents/variations/lorem-ipsum.odt", ODT, "Proin lacinia cursus congue"),
]
HOSTILE_OFFICE = {".docx": DOCX, ".docm": DOCX, ".ooxml": DOCX, ".xlsx": XLSX, ".xlsm": XLSX}


@pytest.fixture(scope="module")
def extractor() -> Iterator[Extractor]:
    with Extractor() as running:
        yield running


def extract(extractor: Extractor, path: Path, mime: str) -> tuple[Extraction, float]:
    started = time.monotonic()
    found = extractor.submit(path.name, mime, path.read_bytes()).result(timeout=60)
    return found, time.monotonic() - started


def assert_clean(found: Extraction) -> None:
    assert is_clean(found.text)
    assert UNSAFE.search(found.text) is None
    assert found.error is None or found.error.isprintable()


@pytest.mark.parametrize(("name", "mime", "expected"), KNOWN)
def test_known_text_is_found(
    extractor: Extractor, corpus_dir: Path, name: str, mime: str, expected: str
) -> None:
    found, _ = extract(extractor, corpus_dir / name, mime)
    assert expected in found.text
    assert found.error is None
    assert_clean(found)


def test_password_protected_pdf_says_so(extractor: Extractor, corpus_dir: Path) -> None:
    path = corpus_dir / "documents/pdf/encrypted/r4-aes-user-password.pdf"
    found, _ = extract(extractor, path, "application/pdf")
    assert found == Extraction("", "encrypted: a password is needed to read its text")


def test_xml_attacks_stay_bounded(extractor: Extractor, corpus_dir: Path) -> None:
    files = sorted((corpus_dir / "hostile/xml").iterdir())
    assert len(files) == 9
    for path in files:
        for mime in ("application/xml", "text/plain"):
            found, seconds = extract(extractor, path, mime)
            assert seconds < 10, path.name
            assert_clean(found)
            # Never expanded: an entity's replacement text appears no more often than written.
            assert len(found.text) <= path.stat().st_size, path.name
            assert found.error is None, path.name  # refused XML is indexed as the text it is
    assert extractor.stats.crashed == 0
    assert extractor.stats.timed_out == 0


def test_office_attacks_stay_bounded(extractor: Extractor, corpus_dir: Path) -> None:
    results: dict[str, Extraction] = {}
    for path in sorted((corpus_dir / "hostile/office").iterdir()):
        mime = HOSTILE_OFFICE.get(path.suffix, ODT if path.suffix == ".odt" else None)
        if mime is None:
            continue
        found, seconds = extract(extractor, path, mime)
        assert seconds < 10, path.name
        assert_clean(found)
        assert len(found.text) < 2 * 1024 * 1024, path.name
        results[path.name] = found
    assert len(results) == 14
    laughs = results["billion-laughs-54764.xlsx"]
    assert laughs.error == (
        "xl/sharedStrings.xml: declares a DTD (refused); "
        "docProps/core.xml: declares a DTD (refused)"
    )
    assert "lol" not in laughs.text
    xxe = results["ExternalEntityInText.docx"]
    assert xxe.error == "word/document.xml: declares a DTD (refused)"
    assert "Uwe Schindler" in xxe.text  # the properties part is still read
    assert "<html" not in xxe.text.lower()
    for name in ("poc-xmlbomb.xlsx", "poc-shared-strings.xlsx"):
        assert not results[name].text.count("A" * 1000), name
    assert extractor.stats.crashed == 0
    assert extractor.stats.timed_out == 0


def test_made_xxe_never_reaches_a_local_file(extractor: Extractor, tmp_path: Path) -> None:
    secret = tmp_path / "source.txt"
    secret.write_text("SOURCE-IDENTITY-7f3a")
    prolog = f'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>'
    data = docx(paragraph("name: &xxe;"), prolog=prolog)
    found = extractor.submit("xxe.docx", DOCX, data).result(timeout=60)
    assert found == Extraction("Quarterly figures", "word/document.xml: declares a DTD (refused)")


def test_every_corpus_file_extracts_without_crashing_a_worker(
    extractor: Extractor, corpus_dir: Path
) -> None:
    """Every file, sent as each extraction path's type: nothing crashes a worker, all text is
    clean. (Timing out is allowed: the 1.8 MB thesis is cut by its page budget.)"""
    files = sorted(p for p in corpus_dir.rglob("*") if p.is_file() and "LICENSES" not in p.parts)
    crashed_before = extractor.stats.crashed
    futures = []
    for path in files:
        data = path.read_bytes()
        futures += [extractor.submit(path.name, mime, data) for mime in ("text/plain", DOCX)]
        if data.startswith(b"%PDF") or path.suffix == ".pdf":
            futures.append(extractor.submit(path.name, "application/pdf", data))
        if path.suffix in (".eml", ".mbox", ".htm", ".html"):
            futures.append(extractor.submit(path.name, "message/rfc822", data))
    for future in futures:
        found = future.result(timeout=300)
        assert_clean(found)
        assert not (found.error or "").startswith(CRASHED), found.error
    assert extractor.stats.crashed == crashed_before
