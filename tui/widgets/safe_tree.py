"""Trees with escaped, markup-free labels: the folder being checked in, and a collection's
containers.

A USB stick's file names are chosen by whoever filled it, and so are the names inside a leaked
archive; Textual's tree would draw an ESC or a right-to-left override as it is, and read `[bold]`
as markup. Every label here goes through `shown` and becomes plain `Text`.

`ContainerTable` shows documents as the check-in found them: loose documents at the top, each
archive or mailbox holding its members (`Vault.containers`), opened and closed with Space. A
document found in two places shows in both. It is a `VirtualTable` whose rows are the tree's
visible lines, not a Textual `Tree`, which measures every label of every node (about 15 s for
100,000 loose documents); here a collection of that size costs one small row each, and a
container's members are made into rows only when it is opened. A container that holds itself,
however deeply, is not opened into itself again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar, NamedTuple, overload

from rich.text import Text, TextType
from textual.binding import Binding, BindingType
from textual.widgets import DirectoryTree

from tui.widgets.safe import shown
from tui.widgets.table import Column, VirtualTable
from vault.output import human_size
from vault.service import DocumentView


def _plain(label: TextType) -> Text:
    plain = label if isinstance(label, str) else label.plain
    return Text(shown(plain), end="")


class SafeDirectoryTree(DirectoryTree):
    """A directory tree with escaped, markup-free labels."""

    def process_label(self, label: TextType) -> Text:
        return _plain(label)


class Placed(NamedTuple):
    """A line of the tree: a document, how many it holds, and the containers above it.

    A named tuple rather than a frozen dataclass: it is as immutable, and five times quicker
    to make, which counts for 100,000 lines made on the UI thread.
    """

    doc: DocumentView
    holds: int  # members, for a container; 0 for anything else
    path: tuple[str, ...] = ()  # the oids of the containers it is shown inside, outermost first

    @property
    def key(self) -> tuple[str, ...]:
        """Where this line is: its containers, then itself."""
        return (*self.path, self.doc.oid)


class _Lines(Sequence[Placed]):
    """The tree's lines as the table reads them: top-level documents become lines when drawn."""

    def __init__(self, lines: list[DocumentView | Placed], members: dict[str, list[DocumentView]]):
        self._lines = lines
        self._members = members

    def __len__(self) -> int:
        return len(self._lines)

    @overload
    def __getitem__(self, index: int) -> Placed: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Placed]: ...
    def __getitem__(self, index: int | slice) -> Placed | Sequence[Placed]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        item = self._lines[index]
        if isinstance(item, Placed):
            return item
        return Placed(item, len(self._members.get(item.oid, ())))


class ContainerTable(VirtualTable[Placed]):
    """A collection's documents, archives and mailboxes holding their members."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "fold", "Open/close", show=False),
        Binding("right", "fold(1)", "Open", show=False),
        Binding("left", "fold(0)", "Close", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        self._open: set[tuple[str, ...]] = set()
        super().__init__(self._columns(), empty="no documents", id=id)
        self._members: dict[str, list[DocumentView]] = {}
        # Top-level documents stay as they are until drawn (`_Lines`); opened members are lines.
        self._lines: list[DocumentView | Placed] = []

    def _columns(self) -> list[Column[Placed]]:
        def name(line: Placed) -> str:
            mark = ("▾ " if line.key in self._open else "▸ ") if line.holds else "  "
            held = f"  · holds {line.holds:,}" if line.holds else ""
            return "  " * len(line.path) + mark + shown(line.doc.name) + held

        return [
            Column("name", name, weight=5),
            Column("type", lambda line: shown(line.doc.mime), weight=2),
            Column("size", lambda line: human_size(line.doc.size), width=9, right=True),
            Column("status", lambda line: line.doc.status, width=10),
        ]

    @property
    def containers(self) -> int:
        """How many of the documents shown hold others."""
        return len(self._members)

    def show_documents(
        self, rows: Sequence[DocumentView], placed: Mapping[str, tuple[str | None, ...]]
    ) -> None:
        """Show these documents placed in their containers, every container closed.

        Args:
            rows: the documents to show, in order; a member whose container is not among them
                shows at the top.
            placed: each document's containers (`Vault.containers`); `None` is the top.
        """
        present = {row.oid for row in rows}
        members: dict[str, list[DocumentView]] = {}
        top: list[DocumentView] = []
        loose = (None,)
        for row in rows:
            found = placed.get(row.oid, loose)
            if found == loose:  # most documents: found loose, once
                top.append(row)
                continue
            places = [p for p in found if p is None or p in present]
            if not places or None in places:
                top.append(row)
            for parent in places:
                if parent is not None:
                    members.setdefault(parent, []).append(row)
        self._members = members
        self._open = set()
        self._lines = list(top)
        self.set_rows(_Lines(self._lines, members))

    def action_fold(self, want: int | None = None) -> None:
        """Open the container under the cursor, or close it (`want`: 1 open, 0 close)."""
        line = self.current
        if line is None or not line.holds:
            return
        at = self.cursor
        is_open = line.key in self._open
        if is_open and want != 1:
            self._open.discard(line.key)
            end = at + 1
            lines = _Lines(self._lines, self._members)
            while end < len(lines) and len(lines[end].path) > len(line.path):
                end += 1
            del self._lines[at + 1 : end]
        elif not is_open and want != 0:
            self._open.add(line.key)
            inside = line.key
            self._lines[at + 1 : at + 1] = [
                Placed(doc, len(self._members.get(doc.oid, ())), inside)
                for doc in self._members.get(line.doc.oid, ())
                if doc.oid not in inside
            ]
        self.set_rows(_Lines(self._lines, self._members))
