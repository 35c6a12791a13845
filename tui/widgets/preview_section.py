"""The document screen's preview: the service's safe preview as plain text, in a bounded box.

`Vault.preview` already made the text harmless (escaped text, mail headers and text parts, or a
hex dump; see `vault.review.preview`); it is still inserted as `Text`, never read as markup, so a
`[bold]` in a memo stays as written. The box is a few lines high and scrolls on its own (Tab
reaches it from the keyboard); only the first `MAX_LINES` lines are drawn, and the note says so.
A preview that cannot be made (a damaged object, say) shows why instead, so the rest of the
document still shows.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui.widgets.safe import shown
from tui.widgets.section import DocumentSection
from vault.errors import VaultError
from vault.service import DocumentDetail, Preview, Vault

MAX_LINES = 2000  # beyond this, drawing the box would hold up the screen for little gain

PreviewData = Preview | VaultError


def _safe_line(line: str) -> str:
    return "\t".join(shown(cell) for cell in line.split("\t"))


class PreviewSection(DocumentSection[PreviewData]):
    """What the document holds, as the service previews it."""

    TITLE = "Preview"

    def compose(self) -> ComposeResult:
        yield Static("", classes="section-body preview-note", markup=False)
        with VerticalScroll(classes="preview-box"):
            yield Static("", classes="preview-text", markup=False)

    @property
    def text(self) -> Static:
        """The preview's text."""
        return self.query_one(".preview-text", Static)

    def fetch(self, vault: Vault, detail: DocumentDetail) -> PreviewData:
        try:
            return vault.preview(detail.document.oid)[1]
        except VaultError as error:
            return error

    def show(self, detail: DocumentDetail, data: PreviewData | None) -> None:
        box = self.query_one(".preview-box", VerticalScroll)
        if data is None or isinstance(data, VaultError):
            why = "" if data is None else data.message + (f" — {data.hint}" if data.hint else "")
            self.body.update(Text(shown(f"no preview: {why}"), style="bold"))
            self.text.update("")
            box.display = False
            self.border_subtitle = ""
            return
        lines = data.text.split("\n")
        note = data.note
        if len(lines) > MAX_LINES:
            note += f"; the first {MAX_LINES:,} of {len(lines):,} lines drawn"
            lines = lines[:MAX_LINES]
        # The preview's text holds no control other than newline and tab (its contract), and its
        # note is escaped by the service; both go through `shown` anyway, keeping tabs as layout.
        self.body.update(Text(shown(note)))
        self.text.update(Text("\n".join(_safe_line(line) for line in lines)))
        box.display = bool(data.text)
        box.scroll_home(animate=False)
        self.border_subtitle = data.kind + (" · truncated" if data.truncated else "")

    def forget(self) -> None:
        super().forget()
        self.text.update("")
        self.border_subtitle = ""
