"""The dashboard's collections panel: the collections the member holds, Enter to browse one."""

from __future__ import annotations

from textual.app import ComposeResult

from tui.host import vault_app
from tui.messages.navigation import OpenCollection
from tui.widgets.panel import DashboardPanel
from tui.widgets.safe import shown
from tui.widgets.table import Column, VirtualTable
from vault.service import CollectionView, Vault

COLUMNS: list[Column[CollectionView]] = [
    Column("collection", lambda c: shown(c.name), weight=2),
    Column("documents", lambda c: f"{c.documents:,}", width=10, right=True),
    Column("members", lambda c: shown(", ".join(c.members)), weight=2),
    Column("key", lambda c: f"v{c.key_version}", width=4, right=True),
    Column("description", lambda c: shown(c.description), weight=3),
]


class CollectionsPanel(DashboardPanel[list[CollectionView]]):
    """Collections the member holds: documents, members, key version."""

    TITLE = "Collections"

    def compose_body(self) -> ComposeResult:
        yield VirtualTable(COLUMNS, empty="you hold no collection yet", id="collections")

    @property
    def table(self) -> VirtualTable[CollectionView]:
        """The table of collections."""
        return self.query_one("#collections", VirtualTable)

    def fetch(self, vault: Vault) -> list[CollectionView]:
        return vault.collections()

    def show(self, data: list[CollectionView]) -> None:
        self.table.set_rows(data)
        current = vault_app(self).session
        if current is not None:
            current.collections = [c.name for c in data]

    def forget(self) -> None:
        self.table.clear()

    def on_virtual_table_selected(self, event: VirtualTable.Selected) -> None:
        event.stop()
        chosen = self.table.current
        if chosen is not None:
            self.post_message(OpenCollection(chosen.name))
