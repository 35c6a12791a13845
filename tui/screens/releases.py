"""Release queue: every request, reviewing one in full, approving, and running when due.

The queue (`tui.messages.releases.ReleaseQueue`) is read in a worker; its countdowns run on the
app's clock every second, and when a request's time comes the queue is read again so Run lights
up. Enter reviews the request under the cursor in full (`tui.screens.release_detail`); Escape
goes back to the list. N makes a request (`release_request`), A approves after the passphrase
is typed again (`release_approve`), X runs a due request into a folder (`release_run`). Approve
and Run are greyed out when the member may not take them, and the note line says why.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.events import Resize
from textual.widgets import Footer, Header, Static

from tui.host import session, vault_app
from tui.messages.releases import (
    DetailLoaded,
    QueueLoaded,
    ReleaseDetail,
    ReleaseProgress,
    ReleaseQueue,
    ReleaseRan,
    RequestMade,
    local_time,
)
from tui.screens.base import VaultScreen
from tui.screens.release_approve import ApproveScreen
from tui.screens.release_detail import RequestDetail
from tui.screens.release_request import NewRequestScreen, RequestDraft
from tui.screens.release_run import RunScreen
from tui.widgets.safe import shown
from tui.widgets.table import Column, VirtualTable
from vault.service import ReleaseView

WIDE = 100  # columns from which the table shows every column


class ReleasesScreen(VaultScreen):
    """The release queue, optionally opened on one request."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("n", "new", "New"),
        Binding("a", "approve", "Approve"),
        Binding("x", "run", "Run"),
        Binding("r", "reload", "Reload"),
    ]

    def __init__(self, ref: str | None = None) -> None:
        super().__init__()
        self.ref = ref  # the request to review once the queue is read
        self.queue: ReleaseQueue | None = None
        self.now = datetime.min.replace(tzinfo=UTC)
        self.busy = False
        # Reads started, of the queue and of the request in full: a read overtaken by a newer
        # one (its worker cancelled, its thread still running) must not show its older answer.
        self.queue_reads = 0
        self.detail_reads = 0

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="release-note", markup=False)
        yield Static("", id="release-current", markup=False)
        yield Static("", id="release-progress", markup=False)
        yield VirtualTable(self.columns(wide=True), empty="no release request yet", id="releases")
        yield RequestDetail(id="release-detail")
        yield Footer(compact=True)

    @property
    def table(self) -> VirtualTable[ReleaseView]:
        """The requests."""
        return self.query_one("#releases", VirtualTable)

    @property
    def detail(self) -> RequestDetail:
        """The review of one request."""
        return self.query_one(RequestDetail)

    @property
    def reviewing(self) -> bool:
        """Whether one request is shown in full (instead of the list)."""
        return self.has_class("-reviewing")

    def columns(self, *, wide: bool) -> list[Column[ReleaseView]]:
        """The table's columns: every one from `WIDE` cells, the essentials below that."""
        name = self._collection
        status = Column[ReleaseView]("status", lambda v: v.status, width=19)
        left = Column[ReleaseView]("countdown", self._countdown, width=14)
        if not wide:
            return [
                Column("request", lambda v: v.id[:8], width=8),
                Column("collection", lambda v: shown(name(v)), weight=1),
                status,
                Column("requester", lambda v: shown(v.requester), weight=1),
                Column("approvers", lambda v: shown(", ".join(v.approvers) or "-"), weight=2),
                left,
            ]
        return [
            Column("request", lambda v: v.id[:8], width=8),
            Column("collection", lambda v: shown(name(v)), weight=2),
            Column("docs", lambda v: f"{v.documents:,}", width=5, right=True),
            status,
            Column("requester", lambda v: shown(v.requester), weight=2),
            Column("approvers", lambda v: shown(", ".join(v.approvers) or "-"), weight=2),
            Column("not before", lambda v: local_time(v.not_before), width=20),
            left,
        ]

    def _collection(self, view: ReleaseView) -> str:
        return self.queue.collection(view) if self.queue is not None else view.collection[:8]

    def _countdown(self, view: ReleaseView) -> str:
        return view.countdown(self.now)

    def on_mount(self) -> None:
        super().on_mount()
        self.now = vault_app(self).clock.now()
        self.query_one("#release-progress").display = False
        self.table.focus()
        self.watch(self.table, "cursor", self._moved, init=False)
        self.set_interval(1.0, self.tick)
        self.action_reload()

    def on_resize(self, event: Resize) -> None:
        self.table.columns = self.columns(wide=event.size.width >= WIDE)
        self.table.refresh()

    # Loading
    def action_reload(self) -> None:
        """Read the queue again."""
        self.queue_reads += 1
        self._load(self.queue_reads)

    @work(thread=True, exit_on_error=False, exclusive=True, group="release-queue")
    def _load(self, read: int) -> None:
        with session(self).use() as vault:
            queue = ReleaseQueue.fetch(vault)
        self.post_message(QueueLoaded(queue, read))

    def on_queue_loaded(self, message: QueueLoaded) -> None:
        if message.read != self.queue_reads:
            return  # a newer read is under way (or the vault was locked)
        current = self.table.current
        self.queue = message.queue
        views = list(message.queue.views)
        self.table.set_rows(views)
        wanted = self.ref or (current.id if current else None)
        ids = [v.id for v in views]
        if wanted in ids:
            self.table.cursor = ids.index(wanted)
        if self.ref is not None and self.ref in ids:
            self.ref = None
            self.action_review()
        elif self.reviewing:
            self.action_review()  # the status shown in full may have changed
        self._moved()

    def on_virtual_table_selected(self, event: VirtualTable.Selected) -> None:
        event.stop()
        self.action_review()

    def action_review(self) -> None:
        """Show the request under the cursor in full."""
        chosen = self.table.current
        if chosen is None or self.queue is None:
            return
        held = chosen.collection in self.queue.names
        self.detail_reads += 1
        self._review(chosen.id, self.queue.collection(chosen) if held else None, self.detail_reads)

    @work(thread=True, exit_on_error=False, exclusive=True, group="release-detail")
    def _review(self, ref: str, collection: str | None, read: int) -> None:
        with session(self).use() as vault:
            detail = ReleaseDetail.fetch(vault, ref, collection)
        self.post_message(DetailLoaded(detail, read))

    def on_detail_loaded(self, message: DetailLoaded) -> None:
        if message.read != self.detail_reads:
            return  # another request was chosen since, the review was left, or the vault locked
        view = message.detail.view
        name = self.queue.collection(view) if self.queue is not None else view.collection
        self.detail.show(message.detail, name, self.now)
        self.add_class("-reviewing")
        self.detail.focus()
        self.refresh_bindings()

    # What the member may do
    def _moved(self, _cursor: int = 0) -> None:
        """The cursor moved (or the queue changed): say what is possible for that request."""
        self._current_line()
        refusals = []
        chosen = self.table.current
        if self.queue is not None:
            request = self.queue.request_refusal()
            if request is not None:
                refusals.append(f"you may not request a release: {request}")
            if chosen is not None:
                approve = self.queue.approve_refusal(chosen)
                run = self.queue.run_refusal(chosen)
                if approve is not None:
                    refusals.append(f"you may not approve {chosen.id[:8]}: {approve}")
                if run is not None:
                    refusals.append(f"{chosen.id[:8]} cannot run: {run}")
        note = self.query_one("#release-note", Static)
        note.update(Text("\n".join(shown(line) for line in refusals)))
        note.display = bool(refusals)
        self.refresh_bindings()

    def _current_line(self) -> None:
        chosen = self.table.current
        line = self.query_one("#release-current", Static)
        if chosen is None:
            line.update("")
            return
        line.update(
            Text(
                f"{chosen.id[:8]}: {shown(chosen.reason)}\n"
                f"{chosen.documents} document(s) · not before {local_time(chosen.not_before)} "
                f"({self._countdown(chosen)}) · asked by {shown(chosen.requester)}",
                no_wrap=True,
                overflow="ellipsis",
            )
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        queue, chosen = self.queue, self.table.current
        if action == "new":
            return None if self.busy or queue is None or queue.request_refusal() else True
        if action == "approve":
            if self.busy or queue is None or chosen is None:
                return None
            return None if queue.approve_refusal(chosen) else True
        if action == "run":
            if self.busy or queue is None or chosen is None:
                return None
            return None if queue.run_refusal(chosen) else True
        return True

    def tick(self) -> None:
        """Move the countdowns on to the app's clock (called every second).

        When a waiting request's time comes, the queue is read again, so Run is offered as soon
        as the request may run.
        """
        before, self.now = self.now, vault_app(self).clock.now()
        self.table.refresh()
        self._current_line()
        if self.reviewing:
            self.detail.tick(self.now)
        if self.queue is not None and any(
            v.status == "waiting for embargo" and before < v.not_before <= self.now
            for v in self.queue.views
        ):
            self.action_reload()  # a request's time came: it may be due now

    # Acting
    def action_back(self) -> None:
        """Back to the list from a review; back to where the queue was opened from otherwise."""
        if self.reviewing:
            self.detail_reads += 1  # a read still under way must not open the review again
            self.remove_class("-reviewing")
            self.detail.forget()
            self.table.focus()
            self.refresh_bindings()
        else:
            self.app.pop_screen()

    def action_new(self) -> None:
        """Make a release request."""
        if self.queue is not None:
            self.app.push_screen(NewRequestScreen(self.queue.requestable()), self._drafted)

    def _drafted(self, draft: RequestDraft | None) -> None:
        if draft is not None:
            self._working(f"signing a release request for {shown(draft.collection)}…")
            self._request(draft)

    @work(thread=True, exit_on_error=False, exclusive=True, group="release-act")
    def _request(self, draft: RequestDraft) -> None:
        with session(self).use() as vault:
            view = vault.request_release(
                draft.collection,
                reason=draft.reason,
                not_before=draft.not_before,
                expires=draft.expires,
            )
        self.post_message(RequestMade(view))

    def on_request_made(self, message: RequestMade) -> None:
        view = message.view
        self._working("")
        self.notify(f"release request {view.id} made: {view.status}", markup=False)
        self.ref = view.id
        self.action_reload()

    def action_approve(self) -> None:
        """Approve the request under the cursor, after the passphrase is typed again."""
        chosen = self.table.current
        if chosen is not None and self.queue is not None:
            dialog = ApproveScreen(chosen, self.queue.collection(chosen))
            self.app.push_screen(dialog, self._approved)

    def _approved(self, view: ReleaseView | None) -> None:
        if view is not None:
            approvers = ", ".join(view.approvers)
            self.notify(f"approved {view.id}; approvers: {approvers}; {view.status}", markup=False)
            self.action_reload()

    def action_run(self) -> None:
        """Run the due request under the cursor into a folder."""
        chosen = self.table.current
        if chosen is not None and self.queue is not None:
            dialog = RunScreen(chosen.id, self.queue.collection(chosen))
            self.app.push_screen(dialog, lambda path: self._chosen_folder(chosen.id, path))

    def _chosen_folder(self, ref: str, destination: Path | None) -> None:
        if destination is not None:
            self._working(f"running release {ref[:8]}: verifying, then writing the bundle…")
            self._run(ref, destination)

    @work(thread=True, exit_on_error=False, exclusive=True, group="release-act")
    def _run(self, ref: str, destination: Path) -> None:
        with session(self).use() as vault:
            self.post_message(ReleaseProgress(f"running release {ref[:8]} into {destination}…"))
            bundle = vault.run_release(ref, destination)
        self.post_message(ReleaseRan(ref, bundle))

    def on_release_progress(self, message: ReleaseProgress) -> None:
        self._working(shown(message.text))

    def on_release_ran(self, message: ReleaseRan) -> None:
        self._working("")
        self.notify(f"released {message.ref}: {shown(str(message.bundle))}", markup=False)
        self.action_reload()

    def _working(self, text: str) -> None:
        """Show (or, with "", clear) the work under way; actions wait while it runs."""
        self.busy = bool(text)
        line = self.query_one("#release-progress", Static)
        line.update(Text(text))
        line.display = self.busy
        self.refresh_bindings()

    def report(self, error: BaseException) -> None:
        self._working("")
        super().report(error)

    def forget(self) -> None:
        self.queue_reads += 1
        self.detail_reads += 1
        self.queue = None
        self.table.clear()
        self.detail.forget()
