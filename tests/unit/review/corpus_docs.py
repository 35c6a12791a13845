"""Helpers for the preview and extraction tests: corpus listing, detected types, made documents.

Corpus files are only read as bytes here; their types come from the sandboxed detector, as at
check-in. Documents that attack XML parsers are built in memory so each test knows exactly what
an attack would have put into the text.
"""

from __future__ import annotations

import re
from pathlib import Path

from vault.ingest.detect import MAX_HEAD, MAX_TAIL, Detector, Sample
from vault.review.extract_warmup import zip_package

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODT = "application/vnd.oasis.opendocument.text"
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

# Every C0 and C1 control but newline and tab, DEL, and the bidi controls.
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def corpus_files(corpus_dir: Path) -> list[str]:
    """Every corpus file, as listed in MANIFEST.tsv."""
    manifest = (corpus_dir / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()
    return [line.split("\t", 1)[0] for line in manifest[1:] if line.strip()]


def detect_all(corpus_dir: Path, names: list[str]) -> dict[str, str]:
    """The MIME type the sandboxed detector gives each file, as check-in records it."""
    samples = []
    for name in names:
        data = (corpus_dir / name).read_bytes()
        samples.append(Sample(Path(name).name, data[:MAX_HEAD], data[-MAX_TAIL:], len(data)))
    with Detector() as detector:
        futures = detector.submit_many(samples)
        return {name: f.result(timeout=120).mime for name, f in zip(names, futures, strict=True)}


def docx(body_xml: str, *, prolog: str = "") -> bytes:
    """A minimal docx whose word/document.xml body is `body_xml`, after an optional prolog."""
    document = (
        f'<?xml version="1.0"?>{prolog}<w:document xmlns:w="{W_NS}"><w:body>{body_xml}'
        "</w:body></w:document>"
    )
    return zip_package(
        {
            "[Content_Types].xml": b"<Types/>",
            "word/document.xml": document.encode(),
            "docProps/core.xml": b"<cp:coreProperties xmlns:cp='urn:cp'><dc:title"
            b" xmlns:dc='urn:dc'>Quarterly figures</dc:title></cp:coreProperties>",
        }
    )


def paragraph(text: str) -> str:
    """One docx paragraph of plain text."""
    return f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>"
