"""A check-in receipt on screen: the counts, then every item that was not simply stored."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from tui.widgets.safe import shown
from tui.widgets.table import Column, VirtualTable
from vault.service import Receipt
from vault.service.receipt import ItemResult

COLUMNS: list[Column[ItemResult]] = [
    Column("outcome", lambda i: i.outcome, width=9),
    Column("path", lambda i: shown(i.path), weight=3, keep_end=True),
    Column("why", lambda i: shown(i.reason or ",".join(i.flags)), weight=2),
]


def summary(receipt: Receipt) -> str:
    """The receipt's first line (and a second if it was cancelled)."""
    counts = receipt.counts()
    line = f"intake {receipt.intake_id} into {shown(receipt.collection)}: " + ", ".join(
        f"{n:,} {k}" for k, n in counts.items()
    )
    if receipt.cancelled:
        line += "\ncancelled: items not listed were not checked in"
    return line


class ReceiptView(Vertical):
    """The receipt of the last check-in."""

    def compose(self) -> ComposeResult:
        yield Static("", id="receipt-summary", markup=False)
        yield VirtualTable(COLUMNS, empty="every item was stored, none flagged", id="receipt-items")

    def show(self, receipt: Receipt) -> None:
        """Show a receipt."""
        notable = [i for i in receipt.items if i.outcome in ("skipped", "failed") or i.flags]
        self.query_one("#receipt-summary", Static).update(Text(summary(receipt)))
        self.query_one("#receipt-items", VirtualTable).set_rows(notable)

    def clear(self) -> None:
        """Forget the receipt."""
        self.query_one("#receipt-summary", Static).update("")
        self.query_one("#receipt-items", VirtualTable).clear()
