"""Text out of XML with defusedxml's SAX parser: no DTD, no entities, nothing external.

Documents parsed here are hostile: an entity bomb expands a kilobyte into gigabytes, an external
entity (XXE) reads a local file or calls a URL into the text. The parser is defusedxml's expat
reader with `forbid_dtd`, `forbid_entities` and `forbid_external` all set, and external general
entities off: a document with any DTD is refused before a single declaration is read
(`XmlRefused`). It is fed in chunks from a stream, and text is collected as it streams past, so
memory stays near the text kept, not the size of the XML.

Which characters are text depends on the format; a `Grammar` says which elements hold text, which
end a line, which stand for a tab or a space, and which subtrees to skip (`mc:Fallback`, which
repeats a text box's content for old readers).
"""

from __future__ import annotations

import re
import xml.sax
from collections.abc import Callable
from dataclasses import dataclass, field
from xml.sax.handler import ContentHandler, feature_external_ges, feature_external_pes
from xml.sax.xmlreader import AttributesImpl

from defusedxml.common import DefusedXmlException, DTDForbidden, EntitiesForbidden
from defusedxml.expatreader import DefusedExpatParser

FEED_BYTES = 64 * 1024
_SPACES = re.compile(r"[ \r\n\f\v]+")


class XmlRefused(Exception):
    """The XML was not parsed to the end; the message says why, in a few plain words."""


class TextFull(Exception):
    """Enough text was collected (internal: stops the parse early)."""


@dataclass(frozen=True)
class Grammar:
    """Where the text is in one XML vocabulary; element names are local (no prefix).

    Attributes:
        keep: elements whose character data is text; None keeps all character data.
        lines: elements whose end ends a line (all elements when `every_line`).
        tabs: elements whose end stands for a tab.
        spaces: elements whose end stands for a space.
        skip: elements whose whole subtree is ignored.
        every_line: every element's end ends a line (metadata records, generic XML).
        shared_index: a cell element with `t="s"` whose value child (`v`) is an index into
            the shared strings, not text (spreadsheets).
    """

    keep: frozenset[str] | None = None
    lines: frozenset[str] = frozenset()
    tabs: frozenset[str] = frozenset()
    spaces: frozenset[str] = frozenset()
    skip: frozenset[str] = frozenset({"Fallback"})
    every_line: bool = False
    shared_index: bool = False


GENERIC = Grammar(every_line=True)


@dataclass
class _Collector(ContentHandler):
    grammar: Grammar
    limit_chars: int
    lines: list[str] = field(default_factory=list)
    size: int = 0
    line: list[str] = field(default_factory=list)
    line_size: int = 0
    keeping: int = 0
    skipping: int = 0
    shared_value: bool = False
    cell_is_shared: bool = False

    def __post_init__(self) -> None:
        super().__init__()

    def startElement(self, name: str, attrs: AttributesImpl) -> None:
        local = name.rpartition(":")[2]
        if self.skipping or local in self.grammar.skip:
            self.skipping += 1
            return
        if self.grammar.shared_index:
            if local == "c":
                self.cell_is_shared = attrs.get("t") == "s"
            elif local == "v":
                self.shared_value = self.cell_is_shared
        if self.grammar.keep is not None and local in self.grammar.keep:
            self.keeping += 1

    def endElement(self, name: str) -> None:
        local = name.rpartition(":")[2]
        if self.skipping:
            self.skipping -= 1
            return
        if self.grammar.keep is not None and local in self.grammar.keep:
            self.keeping -= 1
        if local == "v":
            self.shared_value = False
        if local in self.grammar.tabs:
            self.line.append("\t")
        elif local in self.grammar.spaces:
            self.line.append(" ")
        elif self.grammar.every_line or local in self.grammar.lines:
            self.end_line()

    def characters(self, content: str) -> None:
        if self.skipping or self.shared_value:
            return
        if self.grammar.keep is None or self.keeping:
            self.line.append(content)
            self.line_size += len(content)
            if self.line_size > self.limit_chars:  # one endless paragraph
                self.end_line()

    def end_line(self) -> None:
        text = _SPACES.sub(" ", "".join(self.line)).strip(" ")
        self.line.clear()
        self.line_size = 0
        if not text.strip():
            return
        room = self.limit_chars - self.size
        self.lines.append(text[:room])
        self.size += min(len(text), room) + 1
        if self.size >= self.limit_chars:
            raise TextFull


def _reason(exc: Exception) -> str:
    if isinstance(exc, DTDForbidden):
        return "declares a DTD (refused)"
    if isinstance(exc, EntitiesForbidden):
        return "declares entities (refused)"
    if isinstance(exc, DefusedXmlException):
        return "refers to an external entity (refused)"
    if isinstance(exc, xml.sax.SAXParseException):
        return f"malformed XML (line {exc.getLineNumber()})"
    return f"cannot be parsed ({type(exc).__name__})"


@dataclass(frozen=True)
class XmlText:
    """Text found in one XML document.

    Attributes:
        text: the text, raw (one line per paragraph-like element).
        truncated: the limit was reached and the parse stopped there.
        error: why the parse stopped before the end, or None. Text found before it is kept.
    """

    text: str
    truncated: bool
    error: str | None


def xml_text(read: Callable[[int], bytes], grammar: Grammar, *, limit_chars: int) -> XmlText:
    """Parse XML from a reader and collect its text.

    Args:
        read: returns up to n more bytes (b"" at the end); may raise to stop the parse (a size
            limit), and the exception's message becomes the error.
        grammar: where the text is.
        limit_chars: most characters kept.

    Returns:
        The text, with the error that stopped the parse, if any. It never raises.
    """
    collector = _Collector(grammar, limit_chars)
    parser = DefusedExpatParser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    parser.setFeature(feature_external_ges, False)
    parser.setFeature(feature_external_pes, False)
    parser.setContentHandler(collector)
    error: str | None = None
    truncated = False
    try:
        while chunk := read(FEED_BYTES):
            parser.feed(chunk)
        parser.close()
        collector.end_line()
    except TextFull:
        truncated = True
    except XmlRefused as exc:
        error = str(exc)
    except Exception as exc:  # expat, defusedxml or the reader: the document's fault
        error = _reason(exc)
    if error is not None:
        try:  # keep the text found before the damage
            collector.end_line()
        except TextFull:
            truncated = True
    return XmlText("\n".join(collector.lines), truncated, error)
