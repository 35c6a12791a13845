"""Which review path a detected MIME type takes: e-mail, HTML, PDF, office, XML, text or none.

The MIME type is libmagic's, recorded at check-in from the document's bytes (never its name).
Preview and extraction agree on what counts as text through `is_textual`.
"""

from __future__ import annotations

from typing import Literal

Kind = Literal["email", "html", "pdf", "office", "xml", "text", "other"]

MESSAGE_TYPES = frozenset({"message/rfc822", "message/global", "message/news"})
_TEXT_APPLICATION = frozenset(
    [
        "application/json",
        "application/xml",
        "application/javascript",
        "application/ecmascript",
        "application/x-sh",
        "application/x-shellscript",
        "application/x-csh",
        "application/postscript",
        "application/rtf",
        "application/x-empty",
        "inode/x-empty",
        "application/mbox",
        "application/x-subrip",
        "application/sql",
        "application/x-tex",
        "application/x-latex",
        "application/x-perl",
        "application/x-python",
        "application/x-ruby",
        "application/x-php",
        "application/x-httpd-php",
        "application/csv",
        "application/x-ndjson",
        "application/x-yaml",
        "application/yaml",
        "application/toml",
        "application/x-bat",
        "application/x-msdos-batch",
        "application/pgp-keys",
        "application/pgp-signature",
        "application/pgp-encrypted",
        "application/x-pem-file",
        "message/delivery-status",
        "message/disposition-notification",
        "text/rfc822-headers",
    ]
)
_HTML = frozenset({"text/html", "application/xhtml+xml"})
_PDF = frozenset({"application/pdf", "application/x-pdf"})
_ZIP = frozenset({"application/zip", "application/x-zip-compressed", "application/x-zip"})
_OFFICE_PREFIXES = (
    "application/vnd.openxmlformats-officedocument.",
    "application/vnd.oasis.opendocument.",
)
_MACRO_OFFICE = frozenset(
    {
        "application/vnd.ms-word.document.macroenabled.12",
        "application/vnd.ms-word.template.macroenabled.12",
        "application/vnd.ms-excel.sheet.macroenabled.12",
        "application/vnd.ms-excel.template.macroenabled.12",
        "application/vnd.ms-powerpoint.presentation.macroenabled.12",
        "application/vnd.ms-powerpoint.slideshow.macroenabled.12",
    }
)


def normalise(mime: str) -> str:
    """The bare type, lower case, without parameters."""
    return mime.split(";", 1)[0].strip().lower()


def is_textual(mime: str) -> bool:
    """Whether a type is text to show and index as such (`text/*` and textual applications)."""
    mime = normalise(mime)
    return mime.startswith("text/") or mime in _TEXT_APPLICATION or mime.endswith(("+xml", "+json"))


def kind_of(mime: str) -> Kind:
    """The extraction path for a detected type.

    A zip (`application/zip`) counts as office: OOXML and ODF packages are zips, and libmagic
    names some of them only that; the office reader tells them apart by their parts and gives
    nothing for any other zip.
    """
    mime = normalise(mime)
    if mime in MESSAGE_TYPES:
        return "email"
    if mime in _HTML:
        return "html"
    if mime in _PDF:
        return "pdf"
    if mime.startswith(_OFFICE_PREFIXES) or mime in _MACRO_OFFICE or mime in _ZIP:
        return "office"
    if mime in ("text/xml", "application/xml") or mime.endswith("+xml"):
        return "xml"
    if is_textual(mime):
        return "text"
    return "other"
