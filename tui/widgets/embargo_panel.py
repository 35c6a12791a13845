"""The dashboard's embargo panel: what is still held, soonest to lift first, with countdowns.

Each row gives the lift time in the embargo's own zone and in the workstation's, and how long is
left; `tick` moves the countdowns on every second without reading the vault again (an embargo
that lifts meanwhile says "lifted just now" until the next reload). Enter opens the embargo
editor on that row's target.
"""

from __future__ import annotations

from datetime import UTC, datetime

from textual.app import ComposeResult

from tui.host import vault_app
from tui.messages.embargo import EmbargoRow
from tui.screens.embargo_time import remaining, short_text, workstation_zone
from tui.widgets.panel import DashboardPanel
from tui.widgets.safe import shown
from tui.widgets.table import Column, VirtualTable
from vault.service import Vault


class EmbargoPanel(DashboardPanel[list[EmbargoRow]]):
    """Embargoes that hold, with countdowns."""

    TITLE = "Embargoes"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.now = datetime.min.replace(tzinfo=UTC)
        here = self.workstation = workstation_zone()
        self.columns: list[Column[EmbargoRow]] = [
            Column("target", lambda r: shown(r.label)),
            Column("lifts (its zone)", lambda r: short_text(r.until, r.zone), weight=2),
            Column(f"here: {here.label}", lambda r: short_text(r.until, here, named=False), 16),
            Column("lifts in", lambda r: remaining(r.effective, self.now), width=17),
        ]

    def compose_body(self) -> ComposeResult:
        yield VirtualTable(self.columns, empty="no embargo holds", id="embargo-countdowns")

    @property
    def table(self) -> VirtualTable[EmbargoRow]:
        """The table of embargoes that hold."""
        return self.query_one("#embargo-countdowns", VirtualTable)

    def fetch(self, vault: Vault) -> list[EmbargoRow]:
        rows = [EmbargoRow.of(view) for view in vault.embargoes() if view.holds]
        return sorted(rows, key=lambda row: row.effective)

    def show(self, data: list[EmbargoRow]) -> None:
        self.now = vault_app(self).clock.now()
        self.table.set_rows(data)

    def tick(self, now: datetime) -> None:
        self.now = now
        self.table.refresh()

    def forget(self) -> None:
        self.table.clear()

    def on_virtual_table_selected(self, event: VirtualTable.Selected) -> None:
        event.stop()
        chosen = self.table.current
        if chosen is not None:
            vault_app(self).open_embargoes(chosen.ref)
