"""The dashboard's embargo panel: placeholder until the countdowns land."""

from __future__ import annotations

from tui.widgets.panel import DashboardPanel
from vault.service import EmbargoView, Vault


class EmbargoPanel(DashboardPanel[list[EmbargoView]]):
    """Embargoes that hold, with countdowns."""

    TITLE = "Embargoes"

    def fetch(self, vault: Vault) -> list[EmbargoView]:
        return []

    def show(self, data: list[EmbargoView]) -> None:
        """Nothing yet."""
