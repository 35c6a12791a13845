"""Check-in: pick paths, say where they came from, watch the progress, read the receipt.

`Vault.check_in` runs in a thread worker with `progress=` posting `CheckInProgress` messages (at
most ten a second) and `cancel=worker.cancelled_event.is_set`. Cancel sets that event without
abandoning the worker, so the screen still gets the receipt, which says the run was cancelled.
Paths come from the Paths box (several, quoted like a shell's when they hold spaces) and from the
tree (Enter on a file, or P on a file or folder, picks or unpicks it).
"""

from __future__ import annotations

import shlex
import time
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import (
    Button,
    DirectoryTree,
    Footer,
    Header,
    Input,
    Label,
    ProgressBar,
    Select,
    Static,
)
from textual.worker import Worker, get_current_worker

from tui.host import session, vault_app
from tui.messages.checkin import CheckInFailed, CheckInFinished, CheckInProgress
from tui.messages.loading import CollectionsLoaded
from tui.screens.base import VaultScreen, describe
from tui.widgets.plain_input import PlainInput
from tui.widgets.receipt import ReceiptView
from tui.widgets.safe import safe_text, shown
from tui.widgets.safe_tree import SafeDirectoryTree
from tui.widgets.table import VirtualTable
from vault.output import human_size
from vault.service import Progress, Receipt
from vault.service.receipt import ItemResult

REPORT_EVERY = 0.1  # seconds between progress messages


class CheckInScreen(VaultScreen):
    """Check material into a collection."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "start", "Check in"),
        Binding("ctrl+x", "cancel", "Cancel"),
        Binding("p", "pick", "Pick path"),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, collection: str | None = None) -> None:
        super().__init__()
        self.collection = collection
        self.picked: list[Path] = []
        self.worker: Worker[None] | None = None
        self.receipt: Receipt | None = None
        self.last: Progress | None = None
        self.elapsed = 0.0

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="checkin-form"):
            for label, field in (("Paths", "paths"), ("Source", "source"), ("Medium", "medium")):
                with Horizontal(classes="field"):
                    yield Label(label)
                    yield PlainInput(id=field, compact=True, placeholder=PLACEHOLDERS[field])
            with Horizontal(classes="field"):
                yield Label("Collection")
                yield Select[str]([], prompt="choose a collection", id="collection", compact=True)
            yield Static("", id="picked", markup=False)
            yield SafeDirectoryTree(vault_app(self).browse_root, id="tree")
        with Vertical(id="checkin-run"):
            yield ProgressBar(id="bar", show_eta=False)
            yield Static("", id="counts", markup=False)
            yield Static("", id="current", markup=False)
            yield ReceiptView(id="receipt")
        with Horizontal(id="checkin-buttons"):
            yield Button("Check in", variant="primary", id="start")
            yield Button("Cancel", variant="error", id="cancel")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#paths", Input).focus()
        self.query_one("#picked", Static).display = False
        self._collections()
        self._state("idle")

    @work(thread=True, exit_on_error=False, group="collections")
    def _collections(self) -> None:
        with session(self).use() as vault:
            names = [c.name for c in vault.collections()]
        self.post_message(CollectionsLoaded(names))

    def on_collections_loaded(self, message: CollectionsLoaded) -> None:
        names = message.names
        select = self.query_one("#collection", Select)
        select.set_options((safe_text(name), name) for name in names)
        if self.collection in names:
            select.value = self.collection
        elif len(names) == 1:
            select.value = names[0]

    # State
    @property
    def running(self) -> bool:
        """Whether a check-in is under way."""
        return self.has_class("-running")

    def _state(self, state: str) -> None:
        # One class change and one disabled container: each restyles the screen's subtree.
        self.set_classes(f"-{state}")
        running = state == "running"
        self.query_one("#checkin-form").disabled = running
        self.query_one("#start", Button).disabled = running
        self.query_one("#cancel", Button).disabled = not running
        if running:
            self.query_one("#cancel", Button).focus()
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            return self.running
        if action == "pick":
            return self.focused is self.query_one("#tree") and not self.running
        if action in ("start", "back"):
            return None if self.running else True
        return True

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()  # Pick path shows only while the tree has the focus

    # Picking paths
    @on(DirectoryTree.FileSelected)
    def file_selected(self, event: DirectoryTree.FileSelected) -> None:
        """Enter on a file in the tree picks or unpicks it."""
        self._toggle(event.path)

    def action_pick(self) -> None:
        """Pick or unpick the file or folder under the tree's cursor."""
        tree = self.query_one("#tree", SafeDirectoryTree)
        node = tree.cursor_node
        if node is not None and node.data is not None:
            self._toggle(node.data.path)

    def _toggle(self, path: Path) -> None:
        if path in self.picked:
            self.picked.remove(path)
        else:
            self.picked.append(path)
        lines = [f"picked: {shown(str(p))}" for p in self.picked]
        picked = self.query_one("#picked", Static)
        picked.update(Text("\n".join(lines)))
        picked.display = bool(lines)

    def paths(self) -> list[Path]:
        """Every path to check in: those typed, then those picked.

        Raises:
            ValueError: the Paths box has an unbalanced quote.
        """
        typed = shlex.split(self.query_one("#paths", Input).value)
        return [Path(p).expanduser() for p in typed] + self.picked

    # Running
    @on(Button.Pressed, "#start")
    def action_start(self) -> None:
        """Start the check-in."""
        if self.running:
            return
        try:
            paths = self.paths()
        except ValueError:
            self.notify("a quote in Paths is not closed", severity="error", markup=False)
            return
        collection = self.query_one("#collection", Select).value
        if not paths:
            self.notify("give a path, or pick one in the tree", severity="error", markup=False)
            return
        if not isinstance(collection, str):
            self.notify("choose a collection", severity="error", markup=False)
            return
        source = self.query_one("#source", Input).value.strip()
        medium = self.query_one("#medium", Input).value.strip()
        self.receipt = None
        self.query_one(ReceiptView).clear()
        self.query_one("#bar", ProgressBar).update(total=None, progress=0)
        self._state("running")
        self.worker = self.check_in(paths, collection, source, medium)

    @work(thread=True, exit_on_error=False, exclusive=True, group="checkin")
    def check_in(self, paths: list[Path], collection: str, source: str, medium: str) -> None:
        """Run the check-in, posting progress and then the receipt."""
        worker = get_current_worker()
        started = last = time.monotonic()
        unsent: list[Progress] = []  # the latest report, if it was held back

        def report(progress: Progress) -> None:
            nonlocal last
            now = time.monotonic()
            unsent[:] = [progress]
            if now - last >= REPORT_EVERY or progress.files == 1:
                last = now
                unsent.clear()
                self.post_message(CheckInProgress(progress, now - started))

        try:
            with session(self).use() as vault:
                receipt = vault.check_in(
                    paths,
                    collection=collection,
                    source=source,
                    medium=medium,
                    progress=report,
                    cancel=worker.cancelled_event.is_set,
                )
        except Exception as exc:
            self.post_message(CheckInFailed(exc))
            return
        if unsent:
            self.post_message(CheckInProgress(unsent[0], time.monotonic() - started))
        self.post_message(CheckInFinished(receipt))

    def on_check_in_progress(self, message: CheckInProgress) -> None:
        progress = self.last = message.progress
        self.elapsed = message.elapsed
        bar = self.query_one("#bar", ProgressBar)
        total = max(progress.total_bytes, 1)
        bar.update(total=total, progress=min(progress.bytes, total))
        self._counts(progress, progress.flagged)
        self.query_one("#current", Static).update(safe_text(progress.current))

    def _counts(self, progress: Progress, flagged: int) -> None:
        rate = progress.bytes / self.elapsed if self.elapsed > 0 else 0.0
        counts = (
            f"{progress.files:,} files ({progress.total_files:,} on disk) · "
            f"{human_size(progress.bytes)} of {human_size(progress.total_bytes)} · "
            f"{human_size(int(rate))}/s · {flagged:,} flagged"
        )
        self.query_one("#counts", Static).update(Text(counts))

    def on_check_in_finished(self, message: CheckInFinished) -> None:
        current = vault_app(self).session
        if current is not None:
            current.changes += 1
        self.receipt = message.receipt
        if self.last is not None:
            # Detection ends after the last progress report: the receipt has the final count.
            self._counts(self.last, message.receipt.counts()["flagged"])
        bar = self.query_one("#bar", ProgressBar)
        if not message.receipt.cancelled:
            bar.update(total=bar.total or 1, progress=bar.total or 1)
        self.query_one("#current", Static).update(Text(""))
        self.query_one(ReceiptView).show(message.receipt)
        self._state("done")
        self.query_one("#receipt-items", VirtualTable).focus()

    def on_check_in_failed(self, message: CheckInFailed) -> None:
        self.notify(
            describe(message.error), title="check-in failed", severity="error", markup=False
        )
        self._state("idle")

    def on_virtual_table_selected(self, event: VirtualTable.Selected) -> None:
        """Enter on a receipt item that was stored opens its document."""
        item = self.query_one("#receipt-items", VirtualTable).current
        if isinstance(item, ItemResult) and item.oid:
            vault_app(self).open_document(item.oid)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Stop the check-in after the item in hand; what was stored stays."""
        if self.worker is not None and self.running:
            self.worker.cancelled_event.set()
            self.query_one("#current", Static).update(Text("cancelling…"))

    def action_back(self) -> None:
        """Back to where the check-in was started from."""
        if not self.running:
            self.dismiss()

    def forget(self) -> None:
        self.receipt = None
        self.last = None
        self.picked = []
        self.query_one(ReceiptView).clear()


PLACEHOLDERS = {
    "paths": "files or folders; quote names with spaces",
    "source": "where it came from (message board dump, source handover…)",
    "medium": "what it arrived on (USB stick, download…)",
}
