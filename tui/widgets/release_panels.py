"""The dashboard's release panels: placeholders until they land."""

from __future__ import annotations

from tui.widgets.panel import DashboardPanel
from vault.service import ReleaseView, Vault


class ApprovalsPanel(DashboardPanel[list[ReleaseView]]):
    """Requests waiting for the member's approval."""

    TITLE = "Waiting for your approval"

    def fetch(self, vault: Vault) -> list[ReleaseView]:
        return []

    def show(self, data: list[ReleaseView]) -> None:
        """Nothing yet."""


class DueReleasesPanel(DashboardPanel[list[ReleaseView]]):
    """Requests that may run now, or soon."""

    TITLE = "Releases due"

    def fetch(self, vault: Vault) -> list[ReleaseView]:
        return []

    def show(self, data: list[ReleaseView]) -> None:
        """Nothing yet."""
