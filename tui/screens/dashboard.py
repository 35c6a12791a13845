"""Dashboard: what needs the member's attention, as a column of panels.

`PANELS` lists the panel classes shown, top to bottom: collections, embargo countdowns, releases
waiting for the member's approval, and releases due (see `tui.widgets.panel`).
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Footer, Header

from tui.host import vault_app
from tui.messages.navigation import OpenCollection
from tui.messages.releases import OpenRelease
from tui.screens.base import VaultScreen
from tui.widgets.collections_panel import CollectionsPanel
from tui.widgets.embargo_panel import EmbargoPanel
from tui.widgets.panel import DashboardPanel
from tui.widgets.release_panels import ApprovalsPanel, DueReleasesPanel

PANELS: list[type[DashboardPanel[Any]]] = [
    CollectionsPanel,
    EmbargoPanel,
    ApprovalsPanel,
    DueReleasesPanel,
]


class DashboardScreen(VaultScreen):
    """The first screen after unlocking."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("i", "check_in", "Check in"),
        Binding("e", "app.embargoes", "Embargoes"),
        Binding("p", "app.releases", "Releases"),
        Binding("a", "app.audit", "Audit log"),
        Binding("r", "refresh", "Refresh", show=False),  # panels reload on return anyway
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="panels"):
            for panel in PANELS:
                yield panel()
        yield Footer(compact=True)

    @property
    def panels(self) -> list[DashboardPanel[Any]]:
        """The panels, top to bottom."""
        return list(self.query(DashboardPanel))

    def on_mount(self) -> None:
        super().on_mount()
        self.set_interval(1.0, self._tick)
        first = self.query_one(CollectionsPanel).table
        first.focus()

    def on_screen_resume(self) -> None:
        self.action_refresh()

    def action_refresh(self) -> None:
        """Load every panel again."""
        for panel in self.panels:
            panel.reload()

    def _tick(self) -> None:
        now = vault_app(self).clock.now()
        for panel in self.panels:
            panel.tick(now)

    def forget(self) -> None:
        for panel in self.panels:
            panel.drop_reads()
            panel.forget()

    def action_check_in(self) -> None:
        """Check material into the collection under the cursor."""
        chosen = self.query_one(CollectionsPanel).table.current
        vault_app(self).open_check_in(chosen.name if chosen else None)

    def on_open_collection(self, message: OpenCollection) -> None:
        vault_app(self).open_collection(message.name)

    def on_open_release(self, message: OpenRelease) -> None:
        vault_app(self).open_release(message.ref)
