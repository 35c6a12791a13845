"""`DocumentSection`: one part of the document screen.

The document screen fetches a document's detail once, in a worker, then asks each section in
`tui.screens.document.SECTIONS` for anything more it needs (`fetch`, same worker, vault borrowed),
then hands each section the detail and its data (`show`, UI thread). The sections live in
`tui.widgets.document_sections` (metadata, flags, provenance), `tui.widgets.preview_section` and
`tui.widgets.review_sections` (embargo, DKIM evidence, notes and tags).
"""

from __future__ import annotations

from typing import ClassVar, Generic, TypeVar

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from vault.service import DocumentDetail, Vault

DataT = TypeVar("DataT")


class DocumentSection(Vertical, Generic[DataT]):
    """A titled part of the document screen."""

    TITLE: ClassVar[str] = ""

    def __init__(self) -> None:
        super().__init__(classes="section")
        self.border_title = self.TITLE

    def compose(self) -> ComposeResult:
        yield Static("", classes="section-body", markup=False)

    @property
    def body(self) -> Static:
        """The section's text."""
        return self.query_one(".section-body", Static)

    def fetch(self, vault: Vault, detail: DocumentDetail) -> DataT | None:
        """Anything beyond the detail this section shows (worker thread); nothing by default."""
        return None

    def show(self, detail: DocumentDetail, data: DataT | None) -> None:
        """Show the document (UI thread)."""
        raise NotImplementedError

    def forget(self) -> None:
        """Drop what the section shows (the vault is being locked)."""
        self.body.update("")
