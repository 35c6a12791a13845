"""`DashboardPanel`: one titled box of the dashboard that loads its own data in a thread.

The dashboard is a list of panels (`tui.screens.dashboard.PANELS`). A panel says how to fetch
its data from the vault (`fetch`, in a worker thread, with the vault borrowed for it) and how to
show it (`show`, on the UI thread); `tick` runs every second for countdowns that need no fetch.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Generic, TypeVar, cast

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from tui.host import session
from tui.messages.loading import PanelData
from tui.session import SessionLocked
from tui.widgets.safe import shown
from vault.errors import VaultError
from vault.service import Vault

DataT = TypeVar("DataT")


class DashboardPanel(Vertical, Generic[DataT]):
    """A dashboard panel: a title, a body from `compose_body`, and a line for problems."""

    TITLE: ClassVar[str] = ""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="panel")
        self.border_title = self.TITLE
        self.reads = 0  # reads started: one overtaken by a newer read must not show its answer

    def compose(self) -> ComposeResult:
        yield from self.compose_body()
        yield Static("", classes="panel-problem", markup=False)

    def compose_body(self) -> ComposeResult:
        """The panel's widgets."""
        yield from ()

    def fetch(self, vault: Vault) -> DataT:
        """Read what the panel shows (runs in a worker thread; the vault is borrowed)."""
        raise NotImplementedError

    def show(self, data: DataT) -> None:
        """Put fetched data on the screen (UI thread)."""
        raise NotImplementedError

    def tick(self, now: datetime) -> None:
        """Called every second with the app's clock (for countdowns); nothing by default."""

    def forget(self) -> None:
        """Drop what the panel shows from the vault (the vault is being locked)."""

    def reload(self) -> None:
        """Fetch the panel's data again."""
        self._problem("")
        self.reads += 1
        self._load(self.reads)

    def drop_reads(self) -> None:
        """Show nothing of the reads under way (the vault is being locked)."""
        self.reads += 1

    @work(thread=True, exit_on_error=False, exclusive=True, group="panel")
    def _load(self, read: int) -> None:
        with session(self).use() as vault:
            data = self.fetch(vault)
        self.post_message(PanelData(data, read))

    def on_panel_data(self, message: PanelData) -> None:
        message.stop()
        if message.read != self.reads:
            return  # a newer read is under way (or the vault was locked)
        self.show(cast(DataT, message.data))  # posted by _load with a DataT

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        error = event.worker.error
        if event.state is WorkerState.ERROR:
            event.stop()  # shown in the panel, not as a notification
        if event.state is WorkerState.ERROR and not isinstance(error, SessionLocked):
            text = error.message if isinstance(error, VaultError) else f"{error}"
            self._problem(f"could not load: {text}")

    def _problem(self, text: str) -> None:
        note = self.query_one(".panel-problem", Static)
        note.update(shown(text))
        note.display = bool(text)
