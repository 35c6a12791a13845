"""Collection browser: every document of a collection in a virtual table, filtered as you type.

The name filter runs on the client, on every keystroke, over the rows already loaded; status and
flag filters ask the service again (`Vault.documents(collection, Filter(...))`), in a worker.
`show_documents` takes a plain list, so tests and benchmarks can feed it without a vault.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Footer, Header, Input, Select, Static

from tui.host import session, vault_app
from tui.messages.loading import DocumentsLoaded
from tui.screens.base import VaultScreen
from tui.widgets.safe import shown
from tui.widgets.table import Column, VirtualTable
from vault.ingest.found_flags import ALL_FLAGS
from vault.output import human_size
from vault.service import DocumentView, Filter
from vault.service.review import STATUSES

COLUMNS: list[Column[DocumentView]] = [
    Column("id", lambda d: d.oid[:12], width=12),
    Column("name", lambda d: shown(d.name), weight=4),
    Column("type", lambda d: shown(d.mime), weight=2),
    Column("size", lambda d: human_size(d.size), width=9, right=True),
    Column("status", lambda d: d.status, width=10),
    Column("flags", lambda d: shown(",".join(d.flags)), weight=2),
]


def name_key(document: DocumentView) -> str:
    """What the filter box matches: the name as shown."""
    return shown(document.name)


class BrowserScreen(VaultScreen):
    """The documents of one collection."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("slash", "focus_filter", "Filter"),
        Binding("i", "check_in", "Check in"),
        Binding("r", "reload", "Reload"),
    ]

    def __init__(self, collection: str, *, autoload: bool = True) -> None:
        super().__init__()
        self.collection = collection
        self.autoload = autoload
        self.sub_title = shown(collection)
        self.seen_changes = -1  # the session's change count when the listing was asked for

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="browser-filters"):
            yield Input(placeholder="filter by name  (/)", id="name-filter", compact=True)
            yield Select(
                [(s, s) for s in STATUSES], prompt="any status", id="status-filter", compact=True
            )
            yield Select(
                [(f, f) for f in sorted(ALL_FLAGS)],
                prompt="any flag",
                id="flag-filter",
                compact=True,
            )
        yield Static("loading…", id="browser-count")
        yield VirtualTable(COLUMNS, key=name_key, empty="no documents", id="documents")
        yield Footer()

    @property
    def table(self) -> VirtualTable[DocumentView]:
        """The documents table."""
        return self.query_one("#documents", VirtualTable)

    def on_mount(self) -> None:
        super().on_mount()
        self.table.focus()
        if self.autoload:
            self.load()

    # Loading
    def current_filter(self) -> Filter:
        """The status and flag chosen, as the service's filter."""
        status = self.query_one("#status-filter", Select).value
        flag = self.query_one("#flag-filter", Select).value
        return Filter(
            status=status if isinstance(status, str) else None,
            flag=flag if isinstance(flag, str) else None,
        )

    def load(self) -> None:
        """List the collection's documents through the service (in a worker)."""
        current = vault_app(self).session
        if current is not None:
            self.seen_changes = current.changes
        self._fetch(self.current_filter())

    @work(thread=True, exit_on_error=False, exclusive=True, group="documents")
    def _fetch(self, where: Filter) -> None:
        with session(self).use() as vault:
            rows = vault.documents(self.collection, where)
        keys = [name_key(row).casefold() for row in rows]  # here, not on the first keystroke
        self.post_message(DocumentsLoaded(rows, keys))

    def on_documents_loaded(self, message: DocumentsLoaded) -> None:
        self.show_documents(message.rows, message.keys)

    def show_documents(self, rows: Sequence[DocumentView], keys: list[str] | None = None) -> None:
        """Show these documents, with the name filter applied.

        Args:
            rows: the documents, in the order to show them (kept, not copied).
            keys: each row's `name_key`, lower-cased, if already built.
        """
        self.table.set_rows(rows, keys)
        self._count()

    def _count(self) -> None:
        table = self.table
        text = f"{table.count:,} of {table.total:,} documents"
        self.query_one("#browser-count", Static).update(Text(text))

    # Filters
    @on(Input.Changed, "#name-filter")
    def filter_names(self, event: Input.Changed) -> None:
        """Narrow the table to names containing the text, as it is typed."""
        self.table.filter(event.value)
        self._count()

    @on(Input.Submitted, "#name-filter")
    def filter_done(self) -> None:
        """Enter in the filter box goes to the table."""
        self.table.focus()

    @on(Select.Changed)
    def filter_changed(self) -> None:
        """A status or flag was chosen: ask the service again."""
        self.query_one("#browser-count", Static).update(Text("loading…"))
        self.load()

    # Actions
    def action_focus_filter(self) -> None:
        """Put the cursor in the name filter."""
        self.query_one("#name-filter", Input).focus()

    def action_back(self) -> None:
        """Leave the filter box, or go back to the dashboard."""
        if self.focused is not self.table:
            self.table.focus()
        else:
            self.dismiss()

    def action_reload(self) -> None:
        """List the documents again."""
        self.load()

    def action_check_in(self) -> None:
        """Check material into this collection."""
        vault_app(self).open_check_in(self.collection)

    def on_virtual_table_selected(self, event: VirtualTable.Selected) -> None:
        chosen = self.table.current
        if chosen is not None:
            vault_app(self).open_document(chosen.oid)

    def on_screen_resume(self) -> None:
        # List again only if a document was marked or material checked in meanwhile.
        current = vault_app(self).session
        if self.autoload and current is not None and current.changes != self.seen_changes:
            self.load()

    def forget(self) -> None:
        self.table.clear()
