"""Document: metadata, embargo, flags, preview, DKIM evidence, notes and tags, provenance.

The screen is a column of sections (`SECTIONS`, see `tui.widgets.section`). The document is
fetched once per visit (`Vault.show`, which the service audits), together with what each section
needs and whether the policies let this member mark it (which also governs notes) and tag it.
What they refuse is greyed out in the footer (`check_action`), with the reason from
`policy explain` in the line above the sections. Marking, adding a note and changing tags each
open a dialog, write through the service in a worker, and fetch the document again; each counts
as a change, so the browser lists again when it comes back.
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
from tui.messages.loading import DocumentBundle, DocumentLoaded, Marked, Noted, Tagged
from tui.screens.base import VaultScreen
from tui.screens.mark import MarkChoice, MarkScreen
from tui.screens.note import NoteScreen
from tui.screens.tags import TagChange, TagsScreen
from tui.widgets.document_sections import FlagsSection, MetadataSection, ProvenanceSection
from tui.widgets.preview_section import PreviewSection
from tui.widgets.review_sections import DkimSection, EmbargoSection, NotesSection
from tui.widgets.safe import shown
from tui.widgets.section import DocumentSection
from vault.errors import VaultError
from vault.policy import Decision
from vault.service import Vault
from vault.service.review import STATUSES, TRANSITIONS

SECTIONS: list[type[DocumentSection[Any]]] = [
    MetadataSection,
    EmbargoSection,
    FlagsSection,
    PreviewSection,
    DkimSection,
    NotesSection,
    ProvenanceSection,
]

# The note line's words for what the policies refuse (notes are governed by `mark`).
REFUSED = {
    ("mark",): "mark this document or add notes",
    ("tag",): "tag this document",
    ("mark", "tag"): "mark this document, add notes or tag it",
}


def _ask(vault: Vault, action: str, oid: str) -> Decision | None:
    try:
        return vault.explain(action, on=oid)
    except VaultError:
        return None


def refusals(decisions: dict[str, Decision | None]) -> list[str]:
    """One line per reason the policies gave for refusing this member's actions."""
    by_reason: dict[str, list[str]] = {}
    for action, decision in decisions.items():
        if decision is not None and not decision.allowed:
            by_reason.setdefault(reason(decision), []).append(action)
    return [f"you may not {REFUSED[tuple(acts)]}: {why}" for why, acts in by_reason.items()]


def reason(decision: Decision) -> str:
    """Why the policies refused, in one line (the rule that decided, or the default deny)."""
    lines = [line.strip() for line in decision.explain().splitlines()]
    return lines[1] if len(lines) > 1 else lines[0]


class DocumentScreen(VaultScreen):
    """One document, by id."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("m", "mark", "Mark status"),
        Binding("n", "note", "Note"),
        Binding("t", "tags", "Tags"),
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
            oid = detail.document.oid
            bundle = DocumentBundle(
                detail, extras, _ask(vault, "mark", oid), _ask(vault, "tag", oid)
            )
        self.post_message(DocumentLoaded(bundle))

    def on_document_loaded(self, message: DocumentLoaded) -> None:
        bundle = self.bundle = message.bundle
        self.sub_title = shown(bundle.detail.document.name)
        for section, data in zip(self.sections, bundle.sections, strict=True):
            section.show(bundle.detail, data)
        refused = refusals({"mark": bundle.mark, "tag": bundle.tag})
        field = self.query_one("#document-note", Static)
        field.update(Text("\n".join(shown(line) for line in refused)))
        field.display = bool(refused)
        self.refresh_bindings()

    def _decision(self, action: str) -> Decision | None:
        if self.bundle is None:
            return None
        return self.bundle.tag if action == "tags" else self.bundle.mark

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("mark", "note", "tags"):
            if self.bundle is None:
                return None
            decision = self._decision(action)
            if decision is not None and not decision.allowed:
                return None
        return True

    # Marking
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
        self._changed(f"marked {message.status} (was {message.previous})")

    # Notes
    def action_note(self) -> None:
        """Write a note on the document."""
        if self.bundle is not None:
            self.app.push_screen(NoteScreen(self.bundle.detail.document.name), self._noted)

    def _noted(self, text: str | None) -> None:
        if text is not None and self.bundle is not None:
            self._note(self.bundle.detail.document.oid, text)

    @work(thread=True, exit_on_error=False, exclusive=True, group="note")
    def _note(self, oid: str, text: str) -> None:
        with session(self).use() as vault:
            vault.add_note(oid, text)
        self.post_message(Noted())

    def on_noted(self, message: Noted) -> None:
        self._changed("note added")

    # Tags
    def action_tags(self) -> None:
        """Add tags to the document and remove others."""
        if self.bundle is not None:
            doc = self.bundle.detail.document
            self.app.push_screen(TagsScreen(doc.name, doc.tags), self._tag_chosen)

    def _tag_chosen(self, change: TagChange | None) -> None:
        if change is not None and self.bundle is not None:
            self._tag(self.bundle.detail.document.oid, change)

    @work(thread=True, exit_on_error=False, exclusive=True, group="tag")
    def _tag(self, oid: str, change: TagChange) -> None:
        with session(self).use() as vault:
            tags = self.bundle.detail.document.tags if self.bundle is not None else ()
            if change.add:
                tags = vault.tag(oid, list(change.add))
            if change.remove:
                tags = vault.tag(oid, list(change.remove), remove=True)
        self.post_message(Tagged(tags))

    def on_tagged(self, message: Tagged) -> None:
        self._changed("tags: " + (", ".join(message.tags) or "none"))

    def _changed(self, what: str) -> None:
        current = vault_app(self).session
        if current is not None:
            current.changes += 1
        self.notify(shown(what), markup=False)
        self.action_reload()

    def forget(self) -> None:
        self.bundle = None
        for section in self.sections:
            section.forget()
