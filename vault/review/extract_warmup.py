"""Load everything text extraction can need, in a worker, before the worker locks itself down.

A locked-down worker can open no file (`RLIMIT_NOFILE` 0), so a module first imported while
reading a document would fail there: a codec module for a charset the document declares, a pypdf
submodule imported inside a function, a compiled charset-normalizer module. `warm_up` therefore
imports every `encodings` module and every pypdf submodule, and runs each extraction path once on
small documents made here in memory (text in several encodings, an e-mail with HTML, quoted-
printable and base64 parts, a plain and two encrypted PDFs, a docx, an odt, XML with and without a
DTD). It also quiets pypdf's logging and Python's warnings, which would only cost time: a worker's
standard streams go to /dev/null.
"""

from __future__ import annotations

import contextlib
import encodings
import importlib
import io
import logging
import pkgutil
import warnings
import zipfile
import zlib

import pypdf

from vault.review import cleantext

_MAIL = b"""From: =?utf-8?b?w4l2ZQ==?= <eve@example.org>
To: "Bob" <bob@example.org>
Subject: =?iso-2022-jp?b?GyRCRnxLXDhsGyhC?= =?iso-8859-1?q?caf=E9?=
Date: Mon, 1 May 2017 10:00:00 +0200
Message-ID: <warm@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: multipart/alternative; boundary="b2"

--b2
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

caf=E9 cr=E8me
--b2
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: base64

PHA+PGI+Y2Fmw6k8L2I+ICZlYWN1dGU7ICYjeDQxOzwvcD48c2NyaXB0PngoKTwvc2NyaXB0Pg==
--b2--
--b1
Content-Type: application/pdf
Content-Disposition: attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--b1
Content-Type: message/rfc822

From: a@example.org
Subject: inner

inner body
--b1--
"""


def _import_everything() -> None:
    for module in pkgutil.iter_modules(encodings.__path__):
        with contextlib.suppress(Exception):  # mbcs and the like exist only on Windows
            importlib.import_module(f"encodings.{module.name}")
    for module in pkgutil.walk_packages(pypdf.__path__, "pypdf."):
        with contextlib.suppress(Exception):  # optional back ends (Pillow, fontTools, brotli)
            importlib.import_module(module.name)
    for name in ("bz2", "lzma", "email.generator", "email.iterators", "xml.sax.expatreader"):
        importlib.import_module(name)


def tiny_pdf(text: bytes) -> bytes:
    """A one-page PDF showing `text` in Helvetica, its content stream deflated."""
    content = zlib.compress(b"BT /F1 12 Tf 10 100 Td (" + text + b") Tj ET")
    bodies = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content)
        + content
        + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(bodies) + 1,
        xref,
    )
    return out


def _encrypted_pdf(algorithm: str) -> bytes:
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(tiny_pdf(b"secret"))))
    writer.encrypt("", "owner", algorithm=algorithm)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def zip_package(parts: dict[str, bytes]) -> bytes:
    """A zip package of the given parts, deflated (the first stored, as ODF's `mimetype` is)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for number, (name, data) in enumerate(parts.items()):
            method = zipfile.ZIP_STORED if number == 0 else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, compress_type=method)
    return buffer.getvalue()


def _samples() -> list[tuple[str, bytes]]:
    word = b'<w:document xmlns:w="urn:w"><w:body><w:p><w:r><w:t>warm</w:t></w:r></w:p></w:body>'
    odt = b'<office:document-content xmlns:office="urn:o" xmlns:text="urn:t"><text:p>warm'
    texts = [
        ("text/plain", "caf\u00e9 cr\u00e8me br\u00fbl\u00e9e, d\u00e9j\u00e0 vu".encode(codec))
        for codec in ("cp1252", "utf-16", "latin-1", "mac-roman")
    ]
    texts += [
        ("text/plain", "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8".encode(codec))
        for codec in ("shift_jis", "euc_jp", "iso2022_jp", "gb18030", "big5")
    ]
    texts.append(
        ("text/plain", "\u041f\u0440\u0438\u0432\u0435\u0442 \u043c\u0438\u0440".encode("koi8-r"))
    )
    return [
        *texts,
        ("message/rfc822", _MAIL),
        ("text/html", b"<p>caf&eacute; <script>x()</script>&#x41;</p>"),
        ("text/xml", b"<?xml version='1.0'?><a><b>warm</b></a>"),
        ("text/xml", b"<!DOCTYPE a [<!ENTITY e 'x'>]><a>&e;</a>"),
        ("application/pdf", tiny_pdf(b"warm")),
        ("application/pdf", _encrypted_pdf("AES-256")),
        ("application/pdf", _encrypted_pdf("RC4-128")),
        (
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            zip_package(
                {"[Content_Types].xml": b"<Types/>", "word/document.xml": word + b"</w:document>"}
            ),
        ),
        (
            "application/vnd.oasis.opendocument.text",
            zip_package(
                {
                    "mimetype": b"application/vnd.oasis.opendocument.text",
                    "content.xml": odt + b"</text:p></office:document-content>",
                }
            ),
        ),
    ]


def warm_up() -> None:
    """Import and exercise every extraction path once (see the module docstring)."""
    from vault.review.extract import extract_text  # here: extract imports this module

    warnings.simplefilter("ignore")
    logging.getLogger("pypdf").setLevel(logging.CRITICAL)
    _import_everything()
    cleantext.warm_up()
    for mime, data in _samples():
        extract_text(data, mime=mime, name="warm-up")
