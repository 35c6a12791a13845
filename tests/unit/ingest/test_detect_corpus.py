"""Every file of the shared corpus goes through the sandboxed detector; flags land where expected.

The corpus files are only read as bytes here; every byte of parsing happens in the sandboxed
workers. Expectations come from the descriptions in the corpus MANIFEST.tsv.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from vault.ingest.detect import MAX_HEAD, MAX_TAIL, Detection, Detector, Sample
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

# The whole set of corpus files that must raise each of these flags, and no others.
EXACTLY = {
    EXECUTABLE: {
        "executables/java.class",
        "executables/mini.elf",
        "executables/mini.macho",
        "executables/pe32.exe",
        "executables/pe64.exe",
        "executables/wasm.wasm",
        "hostile/misc/corkami-mini.php",
        "hostile/polyglot/corkamix.exe",
    },
    MACROS: {
        "hostile/office/testEXCEL_macro.xls",
        "hostile/office/testEXCEL_macro.xlsm",
        "hostile/office/testODTMacro.odt",
        "hostile/office/testPPT_macros.pptm",
        "hostile/office/testWORD_macros.doc",
        "hostile/office/testWORD_macros.docm",
    },
    POLYGLOT: {"hostile/polyglot/corkamix.exe"},
    OFFICE_EXTERNAL: {
        "hostile/office/testAttachedTemplate.docx",
        "hostile/office/testDataConnections.xlsx",
        "hostile/office/testDdeLink.xlsx",
        "hostile/office/testExternalRefs.docx",
        "hostile/office/testRTFEmbeddedLink.rtf",
    },
    EXTENSION_MISMATCH: {
        "hostile/misc/invalid.xlsx",  # an empty zip is no workbook
        "hostile/misc/testODTnotaZipFile.odt",
        "documents/office/legacy/testWordPerfect_51.doc",  # WordPerfect, named .doc
        "documents/pdf/broken/T01_006_header-invalid-syntax-no-pdf.pdf",  # no PDF header
    },
}

# Files that must raise at least these flags.
AT_LEAST = {
    "hostile/pdf/javascript-openaction.pdf": {PDF_ACTIVE},
    "hostile/pdf/testPDF_jsActionOnPage.pdf": {PDF_ACTIVE},
    "hostile/pdf/testFlashInPDF.pdf": {PDF_ACTIVE},
    "documents/pdf/fileAttachment.pdf": {PDF_ACTIVE},
    "documents/pdf/testPDF_XFA_govdocs1_258578.pdf": {PDF_ACTIVE},
    "documents/pdf/externalLink.pdf": {PDF_ACTIVE},  # a /Launch action
    "archives/encrypted/full_encrypted.7z": {ENCRYPTED},
    "archives/encrypted/test7Z_protected_passTika.7z": {ENCRYPTED},
    "archives/encrypted/test-documents-enc.rar": {ENCRYPTED},
    "archives/encrypted/testZipEncrypted.zip": {ENCRYPTED},
    "email/other/testPGPEncrypted.gpg": {ENCRYPTED},
    "email/other/testPKCS7_enveloped_def.p7m": {ENCRYPTED},
    "hostile/polyglot/corkamix.exe": {POLYGLOT, EXECUTABLE},
}
ENCRYPTED_DIRS = ("documents/pdf/encrypted/", "documents/office/encrypted/")
NOT_ENCRYPTED = {
    "documents/pdf/encrypted/unencrypted.pdf",  # the baseline of the set
    "documents/office/encrypted/testPagesPwdProtected.pages",  # Apple's scheme: not detectable
}
# Ordinary documents that must raise nothing at all.
CLEAN = [
    "documents/variations/lorem-ipsum.txt",
    "documents/variations/lorem-ipsum.doc",  # embeds its theme as a zip: not a polyglot
    "documents/variations/lorem-ipsum.docx",
    "documents/variations/lorem-ipsum.odt",
    "documents/variations/lorem-ipsum.pdf",
    "documents/variations/lorem-ipsum.rtf",
    "documents/variations/lorem-ipsum.epub",
    "documents/office/excel/puremagic-test.xlsb",  # "binary.macroEnabled" names no macros
    "documents/pdf/libreoffice-writer.pdf",  # /OpenAction is only "open at page 1"
    "documents/pdf/encrypted/unencrypted.pdf",
]


def corpus_files(corpus_dir: Path) -> list[str]:
    manifest = (corpus_dir / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()
    return [line.split("\t", 1)[0] for line in manifest[1:] if line.strip()]


def sample_of(path: Path) -> Sample:
    """Build a Sample the way check-in does: the first MiB and the last 64 KiB."""
    size = path.stat().st_size
    with path.open("rb") as stream:
        head = stream.read(MAX_HEAD)
        stream.seek(max(0, size - MAX_TAIL))
        tail = stream.read(MAX_TAIL)
    return Sample(path.name, head, tail, size)


@pytest.fixture(scope="module")
def detections(corpus_dir: Path) -> Iterator[dict[str, Detection]]:
    names = corpus_files(corpus_dir)
    with Detector() as detector:
        futures = detector.submit_many(sample_of(corpus_dir / name) for name in names)
        yield {
            name: future.result(timeout=120) for name, future in zip(names, futures, strict=True)
        }


def test_every_corpus_file_is_detected(detections: dict[str, Detection]) -> None:
    assert len(detections) == 397
    for name, detection in detections.items():
        assert TYPE_UNKNOWN not in detection.flags, (name, detection)
        assert detection.flags <= FLAGS.keys(), name
        assert "/" in detection.mime, name
        assert detection.description.isprintable(), name


@pytest.mark.parametrize("flag", sorted(EXACTLY))
def test_flag_is_raised_by_exactly_these_files(detections: dict[str, Detection], flag: str) -> None:
    raised = {name for name, detection in detections.items() if flag in detection.flags}
    assert raised == EXACTLY[flag]


@pytest.mark.parametrize("name", sorted(AT_LEAST))
def test_file_raises_its_flags(detections: dict[str, Detection], name: str) -> None:
    assert AT_LEAST[name] <= detections[name].flags


def test_encrypted_documents_are_flagged_encrypted(detections: dict[str, Detection]) -> None:
    in_sets = {name for name in detections if name.startswith(ENCRYPTED_DIRS)}
    assert len(in_sets) == 35
    for name in sorted(in_sets - NOT_ENCRYPTED):
        assert ENCRYPTED in detections[name].flags, name
    for name in NOT_ENCRYPTED:
        assert ENCRYPTED not in detections[name].flags, name


@pytest.mark.parametrize("name", CLEAN)
def test_ordinary_document_raises_nothing(detections: dict[str, Detection], name: str) -> None:
    assert detections[name].flags == frozenset()


def test_true_types_are_reported(detections: dict[str, Detection]) -> None:
    assert (
        detections["executables/pe64.exe"].mime == "application/vnd.microsoft.portable-executable"
    )
    assert detections["documents/variations/lorem-ipsum.pdf"].mime == "application/pdf"
    assert detections["hostile/misc/testODTnotaZipFile.odt"].mime == "text/plain"
    assert detections["executables/mini.elf"].description.startswith("ELF 32-bit")
