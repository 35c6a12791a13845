"""Text of OOXML (docx, xlsx, pptx and their macro twins) and ODF (odt, ods, odp) documents.

Both are zip packages of XML parts. The package is opened with `zipfile` from memory; nothing is
extracted to disk. Which format it is comes from the parts it holds (`word/document.xml`,
`xl/workbook.xml`, `ppt/presentation.xml`, or an OpenDocument `mimetype` with `content.xml`),
never from the name; a zip that is none of them has no text here (its members are checked in as
documents of their own).

Each text-bearing part is streamed out of the zip through a `_Bounded` reader: at most
`MAX_PART_BYTES` uncompressed bytes a part, `MAX_TOTAL_BYTES` a package, and past `RATIO_FLOOR`
bytes no more than `MAX_RATIO` times the part's compressed size (a zip bomb is refused, not
inflated). The XML is parsed by `vault.review.xmltext` (defusedxml: no DTD, entities or external
references). A part that fails is named in the error and skipped; the others still give text.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from typing import IO

from vault.review.xmltext import Grammar, XmlRefused, xml_text

MiB = 1024 * 1024
MAX_PART_BYTES = 64 * MiB
MAX_TOTAL_BYTES = 256 * MiB
MAX_RATIO = 100
RATIO_FLOOR = 1 * MiB
MAX_ENTRIES = 20_000
MAX_PARTS = 2_000
_READ = 64 * 1024

_WORD = Grammar(
    keep=frozenset({"t", "delText", "instrText"}),
    lines=frozenset({"p", "br", "cr"}),
    tabs=frozenset({"tab"}),
)
_SHARED_STRINGS = Grammar(keep=frozenset({"t"}), lines=frozenset({"si"}), skip=frozenset({"rPh"}))
_SHEET = Grammar(
    keep=frozenset({"t", "v"}),
    lines=frozenset({"row"}),
    tabs=frozenset({"c"}),
    skip=frozenset({"Fallback", "rPh"}),
    shared_index=True,
)
_SLIDE = Grammar(keep=frozenset({"t"}), lines=frozenset({"p", "br"}), tabs=frozenset({"tab"}))
_PROPERTIES = Grammar(every_line=True)
_OPEN_DOCUMENT = Grammar(
    lines=frozenset({"p", "h", "line-break"}),
    tabs=frozenset({"tab", "table-cell"}),
    spaces=frozenset({"s"}),
)
_PROPERTY_PARTS = (
    (re.compile(r"docProps/core\.xml"), _PROPERTIES),
    (re.compile(r"docProps/custom\.xml"), _PROPERTIES),
)
# Per format: (the part that identifies it, the text-bearing parts in reading order).
_FORMATS: dict[str, tuple[str, tuple[tuple[re.Pattern[str], Grammar], ...]]] = {
    "docx": (
        "word/document.xml",
        (
            (re.compile(r"word/document\.xml"), _WORD),
            (re.compile(r"word/header(\d*)\.xml"), _WORD),
            (re.compile(r"word/footer(\d*)\.xml"), _WORD),
            (re.compile(r"word/(?:footnotes|endnotes|comments)\.xml"), _WORD),
            *_PROPERTY_PARTS,
        ),
    ),
    "xlsx": (
        "xl/workbook.xml",
        (
            (re.compile(r"xl/sharedStrings\.xml"), _SHARED_STRINGS),
            (re.compile(r"xl/worksheets/sheet(\d*)\.xml"), _SHEET),
            (re.compile(r"xl/comments(\d*)\.xml"), _SHARED_STRINGS),
            *_PROPERTY_PARTS,
        ),
    ),
    "pptx": (
        "ppt/presentation.xml",
        (
            (re.compile(r"ppt/slides/slide(\d*)\.xml"), _SLIDE),
            (re.compile(r"ppt/notesSlides/notesSlide(\d*)\.xml"), _SLIDE),
            (re.compile(r"ppt/comments/comment(\d*)\.xml"), _SLIDE),
            *_PROPERTY_PARTS,
        ),
    ),
    "odf": (
        "content.xml",
        (
            (re.compile(r"content\.xml"), _OPEN_DOCUMENT),
            (re.compile(r"styles\.xml"), _OPEN_DOCUMENT),
            (re.compile(r"meta\.xml"), _PROPERTIES),
        ),
    ),
}


class OfficeRefused(Exception):
    """The package as a whole cannot be read; the message says why in a few words."""


@dataclass(frozen=True)
class OfficeText:
    """Text found in an office package.

    Attributes:
        format: `docx`, `xlsx`, `pptx` or `odf`; None when the zip is no office document.
        text: the parts' text, raw, one part after another.
        truncated: the character limit was reached.
        errors: one line per part that failed (`word/document.xml: declares a DTD (refused)`).
    """

    format: str | None
    text: str
    truncated: bool
    errors: tuple[str, ...]


class _Bounded:
    """A zip member's stream that refuses to inflate past the part, package and ratio limits."""

    def __init__(self, stream: IO[bytes], compressed: int, budget: list[int]) -> None:
        self._stream = stream
        self._compressed = compressed
        self._budget = budget  # [bytes the package may still inflate to]
        self._read = 0

    def read(self, size: int) -> bytes:
        try:
            data = self._stream.read(min(size, _READ))
        except RuntimeError:
            raise XmlRefused("encrypted (refused)") from None
        except Exception as exc:  # a bad CRC, a broken deflate stream, a cut member
            raise XmlRefused(f"damaged zip member ({type(exc).__name__})") from None
        self._read += len(data)
        self._budget[0] -= len(data)
        if self._read > MAX_PART_BYTES:
            raise XmlRefused(f"inflates past {MAX_PART_BYTES // MiB} MiB (refused)")
        if self._budget[0] < 0:
            raise XmlRefused(f"the package inflates past {MAX_TOTAL_BYTES // MiB} MiB (refused)")
        if self._read > RATIO_FLOOR and self._read > MAX_RATIO * self._compressed:
            raise XmlRefused(f"compression ratio above {MAX_RATIO}:1, a zip bomb (refused)")
        return data


def _format(archive: zipfile.ZipFile, names: set[str]) -> str | None:
    for name, (marker, _) in _FORMATS.items():
        if marker not in names:
            continue
        if name != "odf":
            return name
        try:
            with archive.open("mimetype") as src:
                declared = src.read(128)
        except Exception:  # no such member, or a damaged one
            declared = b""
        if declared.startswith(b"application/vnd.oasis.opendocument"):
            return name
    return None


def _odf_encrypted(archive: zipfile.ZipFile) -> bool:
    """Whether an ODF package's manifest says its parts are encrypted."""
    try:
        with archive.open("META-INF/manifest.xml") as src:
            manifest = src.read(MiB)
    except Exception:  # no manifest, or a damaged one: parse the parts and see
        return False
    return b"encryption-data" in manifest


def _number(match: re.Match[str]) -> int:
    digits = match.group(1) if match.groups() else ""
    return int(digits) if digits else 0


def _parts(infos: list[zipfile.ZipInfo], fmt: str) -> list[tuple[zipfile.ZipInfo, Grammar]]:
    chosen: list[tuple[zipfile.ZipInfo, Grammar]] = []
    for pattern, grammar in _FORMATS[fmt][1]:
        found = [(info, pattern.fullmatch(info.filename)) for info in infos]
        matches = sorted(
            ((_number(m), info.filename, info) for info, m in found if m is not None),
            key=lambda item: (item[0], item[1]),
        )
        chosen += ((info, grammar) for _, _, info in matches)
    return chosen[:MAX_PARTS]


def _member_error(exc: Exception) -> str:
    text = str(exc)
    if isinstance(exc, RuntimeError) and "encrypted" in text:
        return "encrypted (refused)"
    if isinstance(exc, NotImplementedError):
        return "compressed with an unsupported method"
    if isinstance(exc, zipfile.BadZipFile):
        return "damaged zip member"
    return f"cannot be read ({type(exc).__name__})"


def office_text(data: bytes, *, limit_chars: int) -> OfficeText:
    """The text of an OOXML or ODF document.

    Args:
        data: the whole package.
        limit_chars: most characters of text kept.

    Returns:
        The text and the parts that failed; `format` None for a zip that is no office document.

    Raises:
        OfficeRefused: the zip itself cannot be read (damaged, or too many entries).
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise OfficeRefused(f"not a readable zip package ({type(exc).__name__})") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ENTRIES:
            raise OfficeRefused(f"more than {MAX_ENTRIES} zip entries (refused)")
        fmt = _format(archive, {info.filename for info in infos})
        if fmt is None:
            return OfficeText(None, "", False, ())
        if fmt == "odf" and _odf_encrypted(archive):
            raise OfficeRefused("encrypted: a password is needed to read its text")
        texts: list[str] = []
        errors: list[str] = []
        budget = [MAX_TOTAL_BYTES]
        room = limit_chars
        truncated = False
        for info, grammar in _parts(infos, fmt):
            if room <= 0:
                truncated = True
                break
            try:
                with archive.open(info) as src:
                    reader = _Bounded(src, info.compress_size, budget)
                    found = xml_text(reader.read, grammar, limit_chars=room)
            except Exception as exc:  # opening the member: encrypted, unsupported, damaged
                errors.append(f"{info.filename}: {_member_error(exc)}")
                continue
            if found.text:
                texts.append(found.text)
                room -= len(found.text) + 2
            truncated = truncated or found.truncated
            if found.error is not None:
                errors.append(f"{info.filename}: {found.error}")
        return OfficeText(fmt, "\n\n".join(texts), truncated, tuple(errors))
