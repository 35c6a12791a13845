"""HTML to plain text, for previews and the search index: never rendered, nothing fetched.

A subclass of the stdlib's `html.parser.HTMLParser` (pure Python, no network, no DOM) keeps the
text and drops the markup: `script`, `style` and `template` contents are dropped whole; block
elements (`p`, `div`, `li`, `tr`, headings …) and `br` become line breaks, table cells tabs;
runs of white space collapse outside `pre`. Entities are decoded. Images, links, forms and styles
are not followed, loaded or described, so a tracking pixel or a remote stylesheet in a leaked
e-mail calls nobody.

The parser buffers an unterminated construct (an endless comment or tag) and rescans it on every
feed, which on hostile input can grow quadratic; input is therefore fed in slices, and once the
buffer grows past `MAX_PENDING` characters the rest of the document is dropped (as a browser
would hide it too), with `HtmlText.dropped` set. A long script or style is only skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

FEED_CHARS = 8 * 1024
MAX_PENDING = 64 * 1024
_SKIPPED = frozenset({"script", "style", "template"})
_BLOCKS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "caption",
        "dd",
        "details",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "head",
        "header",
        "hr",
        "html",
        "legend",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "tfoot",
        "thead",
        "title",
        "tr",
        "ul",
    ]
)
_CELLS = frozenset({"td", "th"})
_SPACES = re.compile(r"[ \t\r\n\f\v]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_TRAILING = re.compile(r"[ \t]+\n")
_LEADING = re.compile(r"\n ")


@dataclass(frozen=True)
class HtmlText:
    """The text of an HTML document.

    Attributes:
        text: the text, raw (callers escape or clean it); blank lines collapsed.
        truncated: the text was cut at the caller's limit.
        dropped: malformed markup too long to parse was skipped.
    """

    text: str
    truncated: bool
    dropped: bool


class _Extractor(HTMLParser):
    def __init__(self, limit_chars: int) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []
        self.size = 0
        self.limit = limit_chars
        self.skipping: list[str] = []
        self.pre = 0
        self.full = False
        self.dropped = False

    def _add(self, text: str) -> None:
        room = self.limit - self.size
        if room <= 0:
            self.full = True
            return
        if len(text) > room:
            text, self.full = text[:room], True
        self.pieces.append(text)
        self.size += len(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self.skipping.append(tag)
        elif tag == "br":
            self._add("\n")
        elif tag == "pre":
            self.pre += 1
            self._add("\n")
        elif tag in _BLOCKS:
            self._add("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _SKIPPED:  # <script/> opens nothing
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            if tag in self.skipping:
                while self.skipping and self.skipping.pop() != tag:
                    pass
        elif tag == "pre":
            self.pre = max(0, self.pre - 1)
            self._add("\n")
        elif tag in _BLOCKS:
            self._add("\n")
        elif tag in _CELLS:
            self._add("\t")

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        self._add(data if self.pre else _SPACES.sub(" ", data))


def html_to_text(markup: str, *, limit_chars: int = 2_000_000) -> HtmlText:
    """The text of an HTML document or fragment.

    Args:
        markup: the HTML, already decoded to text.
        limit_chars: most characters of text kept.

    Returns:
        The text (raw: escape it before showing), and whether it was cut or markup was dropped.
    """
    parser = _Extractor(limit_chars)
    try:
        for start in range(0, len(markup), FEED_CHARS):
            parser.feed(markup[start : start + FEED_CHARS])
            if parser.full:
                break
            if len(parser.rawdata) > MAX_PENDING:
                parser.dropped = True
                if not parser.cdata_elem:
                    break  # an endless comment or tag hides the rest, as it would in a browser
                parser.rawdata = ""  # a long script or style: dropped anyway
        if not (parser.full or parser.dropped):
            parser.close()
    except Exception:  # the stdlib parser raises on little, but hostile markup is inventive
        parser.dropped = True
    text = "".join(parser.pieces)
    text = _LEADING.sub("\n", _TRAILING.sub("\n", text))
    text = _BLANK_LINES.sub("\n\n", text).strip()
    return HtmlText(text, parser.full, parser.dropped)
