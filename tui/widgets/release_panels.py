"""The dashboard's release panels: requests waiting for the member's approval, and releases due.

Both read the queue as the member sees it (`tui.messages.releases.ReleaseQueue`) and keep their
countdowns live with `tick`. Enter on a row posts `OpenRelease`, which the dashboard answers by
opening the release queue on that request.
"""

from __future__ import annotations

from datetime import datetime

from textual.app import ComposeResult

from tui.host import vault_app
from tui.messages.releases import OpenRelease, ReleaseQueue, local_time
from tui.widgets.panel import DashboardPanel
from tui.widgets.safe import shown
from tui.widgets.table import Column, VirtualTable
from vault.service import ReleaseView, Vault


class ReleasePanel(DashboardPanel[tuple[ReleaseQueue, list[ReleaseView]]]):
    """A panel listing some of the queue's requests, with a live countdown to each one's time."""

    EMPTY = ""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.queue: ReleaseQueue | None = None
        self.now: datetime | None = None

    def compose_body(self) -> ComposeResult:
        yield VirtualTable(self.columns(), empty=self.EMPTY, classes="release-rows")

    def on_mount(self) -> None:
        self.now = vault_app(self).clock.now()

    def columns(self) -> list[Column[ReleaseView]]:
        """The panel's columns (they fit 80 columns)."""
        raise NotImplementedError

    def _countdown(self, view: ReleaseView) -> str:
        return view.countdown(self.now) if self.now is not None else ""

    @property
    def table(self) -> VirtualTable[ReleaseView]:
        """The panel's rows."""
        return self.query_one(VirtualTable)

    def _collection(self, view: ReleaseView) -> str:
        return self.queue.collection(view) if self.queue is not None else view.collection[:8]

    def rows(self, queue: ReleaseQueue) -> list[ReleaseView]:
        """The requests this panel lists."""
        raise NotImplementedError

    def fetch(self, vault: Vault) -> tuple[ReleaseQueue, list[ReleaseView]]:
        queue = ReleaseQueue.fetch(vault)
        return queue, self.rows(queue)

    def show(self, data: tuple[ReleaseQueue, list[ReleaseView]]) -> None:
        self.queue, rows = data
        self.now = vault_app(self).clock.now()
        self.table.set_rows(rows)

    def tick(self, now: datetime) -> None:
        self.now = now
        if self.table.total:
            self.table.refresh()

    def forget(self) -> None:
        self.queue = None
        self.table.clear()

    def on_virtual_table_selected(self, event: VirtualTable.Selected) -> None:
        event.stop()
        chosen = self.table.current
        if chosen is not None:
            self.post_message(OpenRelease(chosen.id))


class ApprovalsPanel(ReleasePanel):
    """Requests waiting for approvals that this member may give."""

    TITLE = "Waiting for your approval"
    EMPTY = "nothing waits for your approval"

    def columns(self) -> list[Column[ReleaseView]]:
        return [
            Column("request", lambda v: v.id[:8], width=8),
            Column("collection", lambda v: shown(self._collection(v)), weight=1),
            Column("requester", lambda v: shown(v.requester), width=10),
            Column("not before", lambda v: local_time(v.not_before), width=20),
            Column("reason", lambda v: shown(v.reason), weight=3),
        ]

    def rows(self, queue: ReleaseQueue) -> list[ReleaseView]:
        return queue.awaiting_me()


class DueReleasesPanel(ReleasePanel):
    """Requests that may run now, then those whose time comes soonest."""

    TITLE = "Releases due"
    EMPTY = "no release is due or waiting for its time"

    def columns(self) -> list[Column[ReleaseView]]:
        return [
            Column("request", lambda v: v.id[:8], width=8),
            Column("collection", lambda v: shown(self._collection(v)), weight=2),
            Column("status", lambda v: v.status, width=19),
            Column("countdown", self._countdown, width=15),
            Column("reason", lambda v: shown(v.reason), weight=3),
        ]

    def rows(self, queue: ReleaseQueue) -> list[ReleaseView]:
        return queue.due_or_soon()
