"""Collection browser: a collection's documents in a virtual table or a tree, filtered and
searched as you type.

- The name filter (`/`) runs on the client, on every keystroke, over the rows already loaded.
- Status and flag filters ask the service again (`Vault.documents(collection, Filter(...))`), in
  a worker, together with the collection's embargoes: the collection's lift time shows in the
  count line, and documents with an embargo of their own are marked `⧗`.
- Full-text search (`s`) runs `Vault.search` over the collection (with the status and flag
  filters) in an exclusive worker, `SEARCH_DELAY` seconds after the last keystroke, or at once
  on Enter; the ranked hits and their snippets replace the listing until the box is cleared. A
  query the index cannot read is reported in the count line, not as an error: it is still being
  typed.
- `v` switches the listing between the table and the tree of containers (`Vault.containers`,
  asked for when the tree is first shown), where archives and mailboxes hold their members
  (`tui.widgets.safe_tree.ContainerTable`; Space opens and closes a container).

`show_documents` takes a plain list, so tests and benchmarks can feed it without a vault.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Footer, Header, Input, Select, Static
from textual.worker import get_current_worker

from tui.host import session, vault_app
from tui.messages.loading import ContainersLoaded, DocumentsLoaded, SearchDone
from tui.screens.base import VaultScreen, describe
from tui.widgets.plain_input import PlainInput
from tui.widgets.review_sections import holding
from tui.widgets.safe import shown
from tui.widgets.safe_tree import ContainerTable
from tui.widgets.table import Column, VirtualTable
from vault.errors import UsageError
from vault.ingest.found_flags import ALL_FLAGS
from vault.output import human_size
from vault.policy.embargo import countdown
from vault.service import DocumentView, EmbargoView, Filter, SearchHit
from vault.service.review import STATUSES

SEARCH_DELAY = 0.25  # seconds without a keystroke before the search runs
FIRST_PAGE = 200  # documents painted before the rest of a collection is read
FIRST_PAGE_WAIT = 2.0  # seconds the loading worker waits for the first page to be painted
OWN_EMBARGO = "⧗ "
PALETTE_HINT_WIDTH = 90  # columns: narrower, the footer shows only the bindings


def document_columns(embargoed: Callable[[str], bool]) -> list[Column[DocumentView]]:
    """The listing's columns; `embargoed(oid)` says whether a document has its own embargo."""

    def name(d: DocumentView) -> str:
        return (OWN_EMBARGO if embargoed(d.oid) else "") + shown(d.name)

    return [
        Column("id", lambda d: d.oid[:12], width=12),
        Column("name", name, weight=4),
        Column("type", lambda d: shown(d.mime), weight=2),
        Column("size", lambda d: human_size(d.size), width=9, right=True),
        Column("status", lambda d: d.status, width=10),
        Column("flags", lambda d: shown(",".join(d.flags))),
        Column("tags", lambda d: shown(",".join(d.tags))),
    ]


HIT_COLUMNS: list[Column[SearchHit]] = [
    Column("name", lambda h: shown(h.document.name), weight=3),
    Column("status", lambda h: h.document.status, width=10),
    Column("snippet", lambda h: shown(h.snippet), weight=6),
]


def _count(n: int, what: str) -> str:
    return f"{n:,} {what}" + ("" if n == 1 else "s")


def name_key(document: DocumentView) -> str:
    """What the filter box matches: the name as shown."""
    return shown(document.name)


def _keys(rows: Sequence[DocumentView]) -> list[str]:
    # Built in the loading worker, not on the first keystroke in the filter box.
    return [name_key(row).casefold() for row in rows]


def lift_line(embargo: EmbargoView | None, now: datetime) -> str:
    """The collection's embargo as the count line shows it at `now` ("" when there is none)."""
    if embargo is None:
        return ""
    until = datetime.fromisoformat(embargo.until_utc)
    if now >= until:
        return f"embargo {countdown(until, now)} ({embargo.local})"
    return f"embargoed until {embargo.local} ({countdown(until, now)})"


class BrowserScreen(VaultScreen):
    """The documents of one collection."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("slash", "focus_filter", "Filter"),
        Binding("s", "focus_search", "Search"),
        Binding("v", "toggle_tree", "Tree"),
        Binding("i", "check_in", "Check in"),
        Binding("r", "reload", "Reload"),
    ]

    def __init__(self, collection: str, *, autoload: bool = True) -> None:
        super().__init__()
        self.collection = collection
        self.autoload = autoload
        self.sub_title = shown(collection)
        self.seen_changes = -1  # the session's change count when the listing was asked for
        self.own_embargoes: set[str] = set()
        self.embargo: EmbargoView | None = None
        self.tree_mode = False
        self.placed: dict[str, tuple[str | None, ...]] | None = None
        self.query_text = ""  # the search shown, or being waited for
        self._search_timer: Timer | None = None
        self._search_error = ""
        self.complete = True  # False while only the first page of the listing is shown

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="browser-filters"):
            yield PlainInput(placeholder="name  (/)", id="name-filter", compact=True)
            yield PlainInput(placeholder="search text  (s)", id="search", compact=True)
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
        yield VirtualTable(
            document_columns(self.own_embargoes.__contains__),
            key=name_key,
            empty="no documents",
            id="documents",
        )
        yield VirtualTable(HIT_COLUMNS, empty="nothing found", id="hits")
        yield ContainerTable(id="containers")
        yield Footer(compact=True)

    @property
    def table(self) -> VirtualTable[DocumentView]:
        """The documents table."""
        return self.query_one("#documents", VirtualTable)

    @property
    def hits(self) -> VirtualTable[SearchHit]:
        """The search hits."""
        return self.query_one("#hits", VirtualTable)

    @property
    def containers(self) -> ContainerTable:
        """The tree of containers."""
        return self.query_one("#containers", ContainerTable)

    @property
    def view(self) -> Widget:
        """What shows now: the hits while searching, else the tree or the table."""
        if self.query_text:
            return self.hits
        return self.containers if self.tree_mode else self.table

    def on_mount(self) -> None:
        super().on_mount()
        self.set_interval(1.0, self._tick)
        self._show_view()
        self.view.focus()
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
        if not self.tree_mode:
            self.placed = None  # asked for again when the tree is next shown
        self._fetch(self.current_filter(), self.tree_mode)
        if self.query_text:
            self._search(self.query_text)

    @work(thread=True, exit_on_error=False, exclusive=True, group="documents")
    def _fetch(self, where: Filter, containers: bool) -> None:
        worker = get_current_worker()
        with session(self).use() as vault:
            embargoes = vault.embargoes(self.collection)
            pages = vault.document_pages(self.collection, where, first=FIRST_PAGE)
            rows = next(pages)
            keys = _keys(rows)
            if len(rows) >= FIRST_PAGE and not worker.is_cancelled:  # perhaps more: paint these
                painted = threading.Event()
                self.post_message(
                    DocumentsLoaded(rows, keys, embargoes, complete=False, painted=painted)
                )
                painted.wait(FIRST_PAGE_WAIT)
            rest = [row for page in pages for row in page]
            placed = vault.containers(self.collection) if containers else None
        if worker.is_cancelled:
            return
        if placed is not None:
            self.post_message(ContainersLoaded(placed))
        self.post_message(DocumentsLoaded(rows + rest, keys + _keys(rest), embargoes))

    @work(thread=True, exit_on_error=False, exclusive=True, group="containers")
    def _fetch_containers(self) -> None:
        with session(self).use() as vault:
            placed = vault.containers(self.collection)
        self.post_message(ContainersLoaded(placed))

    def on_documents_loaded(self, message: DocumentsLoaded) -> None:
        self.own_embargoes.clear()
        self.own_embargoes.update(e.target_id for e in message.embargoes if e.kind == "document")
        self.embargo = holding([e for e in message.embargoes if e.kind == "collection"])
        self.complete = message.complete
        self.show_documents(message.rows, message.keys)
        if message.painted is not None:
            self.call_after_refresh(message.painted.set)

    def on_containers_loaded(self, message: ContainersLoaded) -> None:
        self.placed = message.placed
        self._build_tree()

    def show_documents(self, rows: Sequence[DocumentView], keys: list[str] | None = None) -> None:
        """Show these documents, with the name filter applied.

        Args:
            rows: the documents, in the order to show them (kept, not copied).
            keys: each row's `name_key`, lower-cased, if already built.
        """
        self.table.set_rows(rows, keys)
        self._build_tree()
        self._count()

    def _build_tree(self) -> None:
        if self.tree_mode and self.placed is not None:
            self.containers.show_documents(self.table.shown_rows(), self.placed)
            self._count()

    def _tick(self) -> None:
        # The lift countdown follows the clock; nothing else on the count line changes alone.
        if self.embargo is not None:
            self._count()

    def _count(self) -> None:
        table = self.table
        if self.query_text:
            text = self._search_error or f"{_count(self.hits.count, 'hit')} for {self.query_text!r}"
        else:
            if self.complete:
                text = f"{table.count:,} of {table.total:,} documents"
            else:
                text = f"{table.count:,} of the first {table.total:,} documents · listing the rest…"
            if self.tree_mode and self.placed is not None:
                text += f" · {_count(self.containers.containers, 'container')} (space opens)"
        text = shown(text)
        if self.own_embargoes:
            text += f" · {OWN_EMBARGO}{len(self.own_embargoes):,} with an embargo of their own"
        lifts = lift_line(self.embargo, vault_app(self).clock.now())
        self.query_one("#browser-count", Static).update(
            Text(shown(lifts) + "\n" + text if lifts else text)
        )

    def _show_view(self) -> None:
        shown_now = self.view
        for widget in (self.table, self.hits, self.containers):
            widget.display = widget is shown_now
        if not isinstance(self.focused, Input):
            shown_now.focus()
        self._count()

    # Filters
    @on(Input.Changed, "#name-filter")
    def filter_names(self, event: Input.Changed) -> None:
        """Narrow the table to names containing the text, as it is typed."""
        self.table.filter(event.value)
        self._build_tree()
        self._count()

    @on(Input.Submitted, "#name-filter")
    def filter_done(self) -> None:
        """Enter in the filter box goes to the listing."""
        self.view.focus()

    @on(Select.Changed)
    def filter_changed(self) -> None:
        """A status or flag was chosen: ask the service again."""
        self.query_one("#browser-count", Static).update(Text("loading…"))
        self.load()

    # Search
    @on(Input.Changed, "#search")
    def search_typed(self, event: Input.Changed) -> None:
        """Search once the member pauses typing; an empty box goes back to the listing."""
        if self._search_timer is not None:
            self._search_timer.stop()
            self._search_timer = None
        query = event.value.strip()
        if not query:
            self.workers.cancel_group(self, "search")
            self.query_text = self._search_error = ""
            self.hits.clear()
            self._show_view()
            return
        self._search_timer = self.set_timer(SEARCH_DELAY, lambda: self._search(query))

    @on(Input.Submitted, "#search")
    def search_now(self, event: Input.Submitted) -> None:
        """Enter searches at once and goes to the hits."""
        if self._search_timer is not None:
            self._search_timer.stop()
            self._search_timer = None
        query = event.value.strip()
        if query and query != self.query_text:
            self._search(query)
        self.view.focus()

    def _search(self, query: str) -> None:
        self._search_timer = None
        self.query_text = query
        self.query_one("#browser-count", Static).update(Text("searching…"))
        self._run_search(query, self.current_filter())

    @work(thread=True, exit_on_error=False, exclusive=True, group="search")
    def _run_search(self, query: str, where: Filter) -> None:
        worker = get_current_worker()
        with session(self).use() as vault:
            if worker.is_cancelled:  # a newer query came while this one waited for the vault
                return
            try:
                hits = vault.search(query, collection=self.collection, where=where)
            except UsageError as error:
                self.post_message(SearchDone(query, [], describe(error)))
                return
        if not worker.is_cancelled:
            self.post_message(SearchDone(query, hits))

    def on_search_done(self, message: SearchDone) -> None:
        if message.query != self.query_text:
            return  # an answer to a query the member has typed past
        self._search_error = message.error
        self.hits.set_rows(message.hits)
        self.hits.cursor = 0
        self._show_view()

    # Actions
    def action_focus_filter(self) -> None:
        """Put the cursor in the name filter."""
        self.query_one("#name-filter", Input).focus()

    def action_focus_search(self) -> None:
        """Put the cursor in the search box."""
        self.query_one("#search", Input).focus()

    def action_toggle_tree(self) -> None:
        """Switch the listing between the table and the tree of containers."""
        self.tree_mode = not self.tree_mode
        if self.tree_mode and self.placed is None and self.autoload:
            self._fetch_containers()
        self._build_tree()
        self._show_view()

    def action_back(self) -> None:
        """Leave a filter or search box, or go back to the dashboard."""
        if self.focused is not self.view:
            self.view.focus()
        else:
            self.dismiss()

    def action_reload(self) -> None:
        """List the documents again."""
        self.load()

    def action_check_in(self) -> None:
        """Check material into this collection."""
        vault_app(self).open_check_in(self.collection)

    def on_virtual_table_selected(self, event: VirtualTable.Selected) -> None:
        if event.table is self.hits:
            hit = self.hits.current
            if hit is not None:
                vault_app(self).open_document(hit.document.oid)
            return
        if event.table is self.containers:
            line = self.containers.current
            if line is not None:
                vault_app(self).open_document(line.doc.oid)
            return
        chosen = self.table.current
        if chosen is not None:
            vault_app(self).open_document(chosen.oid)

    def on_resize(self, event: events.Resize) -> None:
        # Below PALETTE_HINT_WIDTH columns the palette's hint gives its room to the bindings
        # (Ctrl+P still opens the palette, and so does the header's icon).
        footer = self.query_one(Footer)
        hint = event.size.width >= PALETTE_HINT_WIDTH
        if footer.show_command_palette != hint:
            footer.show_command_palette = hint
            footer.refresh(recompose=True)

    def on_screen_resume(self) -> None:
        # List again only if a document was marked or material checked in meanwhile.
        current = vault_app(self).session
        if self.autoload and current is not None and current.changes != self.seen_changes:
            self.load()

    def forget(self) -> None:
        self.table.clear()
        self.hits.clear()
        self.containers.clear()
        self.placed = None
        self.embargo = None
        self.own_embargoes.clear()
