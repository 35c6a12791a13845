"""Document: metadata, flags with what they mean, every occurrence, and its review status.

The screen is a column of sections (`SECTIONS`, see `tui.widgets.section`). The document is
fetched once per visit (`Vault.show`, which the service audits), together with what each section
needs and whether the policies let this member mark it; Mark is greyed out when they do not, with
the reason shown. Preview, notes and tags, and DKIM evidence are sections still to add.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Footer, Header, Static

from tui.host import session, vault_app
from tui.messages.loading import DocumentBundle, DocumentLoaded, Marked
from tui.screens.base import VaultScreen
from tui.screens.mark import MarkChoice, MarkScreen
from tui.widgets.document_sections import FlagsSection, MetadataSection, ProvenanceSection
from tui.widgets.safe import shown
from tui.widgets.section import DocumentSection
from vault.errors import VaultError
from vault.service.review import STATUSES, TRANSITIONS

SECTIONS: list[type[DocumentSection[Any]]] = [MetadataSection, FlagsSection, ProvenanceSection]


class DocumentScreen(VaultScreen):
    """One document, by id."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("m", "mark", "Mark status"),
        Binding("r", "reload", "Reload"),
    ]

    def __init__(self, ref: str) -> None:
        super().__init__()
        self.ref = ref
        self.bundle: DocumentBundle | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="document"):
            yield Static("", id="document-note", markup=False)
            for section in SECTIONS:
                yield section()
        yield Footer()

    @property
    def sections(self) -> list[DocumentSection[Any]]:
        """The sections, top to bottom."""
        return list(self.query(DocumentSection))

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#document", VerticalScroll).focus()
        self.action_reload()

    def action_reload(self) -> None:
        """Fetch the document again."""
        self._load(self.sections)

    @work(thread=True, exit_on_error=False, exclusive=True, group="document")
    def _load(self, sections: list[DocumentSection[Any]]) -> None:
        with session(self).use() as vault:
            detail = vault.show(self.ref)
            extras = tuple(section.fetch(vault, detail) for section in sections)
            try:
                decision = vault.explain("mark", on=detail.document.oid)
            except VaultError:
                decision = None
        self.post_message(DocumentLoaded(DocumentBundle(detail, extras, decision)))

    def on_document_loaded(self, message: DocumentLoaded) -> None:
        bundle = self.bundle = message.bundle
        self.sub_title = shown(bundle.detail.document.name)
        for section, data in zip(self.sections, bundle.sections, strict=True):
            section.show(bundle.detail, data)
        note = ""
        if bundle.mark is not None and not bundle.mark.allowed:
            note = "you may not mark this document: " + bundle.mark.explain().splitlines()[0]
        field = self.query_one("#document-note", Static)
        field.update(Text(shown(note)))
        field.display = bool(note)
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "mark":
            if self.bundle is None:
                return None
            if self.bundle.mark is not None and not self.bundle.mark.allowed:
                return None
        return True

    def action_mark(self) -> None:
        """Choose a new status for the document."""
        if self.bundle is None:
            return
        doc = self.bundle.detail.document
        allowed = [s for s in STATUSES if s in TRANSITIONS.get(doc.status, ())]
        self.app.push_screen(MarkScreen(doc.name, doc.status, allowed), self._marked)

    def _marked(self, choice: MarkChoice | None) -> None:
        if choice is not None and self.bundle is not None:
            self._mark(self.bundle.detail.document.oid, choice)

    @work(thread=True, exit_on_error=False, exclusive=True, group="mark")
    def _mark(self, oid: str, choice: MarkChoice) -> None:
        with session(self).use() as vault:
            previous = vault.mark(oid, choice.status, choice.note)
        self.post_message(Marked(previous, choice.status))

    def on_marked(self, message: Marked) -> None:
        current = vault_app(self).session
        if current is not None:
            current.changes += 1
        self.notify(f"marked {message.status} (was {message.previous})", markup=False)
        self.action_reload()

    def forget(self) -> None:
        self.bundle = None
        for section in self.sections:
            section.forget()
