"""Trees with escaped, markup-free labels: the folder being checked in, and a collection's
containers.

A USB stick's file names are chosen by whoever filled it, and so are the names inside a leaked
archive; Textual's tree would draw an ESC or a right-to-left override as it is, and read `[bold]`
as markup. Every label here goes through `shown` and becomes plain `Text`.

`ContainerTree` shows documents as the check-in found them: loose documents at the top, each
archive or mailbox holding its members (`Vault.containers`). A document found in two places shows
in both. Members are added when their container is first expanded, so a collection of 100,000
loose documents costs one node each and nothing more; a container that holds itself, however
deeply, is not expanded into itself again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from rich.text import Text, TextType
from textual.binding import Binding, BindingType
from textual.widgets import DirectoryTree, Tree
from textual.widgets.tree import TreeNode

from tui.widgets.safe import shown
from vault.service import DocumentView


def _plain(label: TextType) -> Text:
    plain = label if isinstance(label, str) else label.plain
    return Text(shown(plain), end="")


class SafeDirectoryTree(DirectoryTree):
    """A directory tree with escaped, markup-free labels."""

    def process_label(self, label: TextType) -> Text:
        return _plain(label)


class ContainerTree(Tree[DocumentView]):
    """A collection's documents, archives and mailboxes holding their members."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Open"),
        Binding("space", "toggle_node", "Expand", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("documents", id=id)
        self.show_root = False
        self.auto_expand = False  # Enter opens the document; Space expands a container
        self._members: dict[str, list[DocumentView]] = {}
        self._filled: set[int] = set()
        self.containers = 0

    def process_label(self, label: TextType) -> Text:
        # Labels built here are already-safe `Text` with styles; anything else is escaped.
        return label if isinstance(label, Text) else _plain(label)

    def show_documents(
        self, rows: Sequence[DocumentView], placed: Mapping[str, tuple[str | None, ...]]
    ) -> None:
        """Show these documents placed in their containers.

        Args:
            rows: the documents to show, in order; a member whose container is not among them
                shows at the top.
            placed: each document's containers (`Vault.containers`); `None` is the top.
        """
        self.clear()
        self._filled = set()
        present = {row.oid for row in rows}
        members: dict[str, list[DocumentView]] = {}
        top: list[DocumentView] = []
        for row in rows:
            places = [p for p in placed.get(row.oid, (None,)) if p is None or p in present]
            if not places or None in places:
                top.append(row)
            for parent in places:
                if parent is not None:
                    members.setdefault(parent, []).append(row)
        self._members = members
        self.containers = len(members)
        self._fill(self.root, top)
        self.root.expand()

    def _label(self, doc: DocumentView) -> Text:
        label = Text(shown(doc.name), end="")
        held = len(self._members.get(doc.oid, ()))
        label.append(f"  {doc.status}", style="dim")
        if held:
            label.append(f" · holds {held:,}", style="dim")
        return label

    def _fill(self, node: TreeNode[DocumentView], docs: Sequence[DocumentView]) -> None:
        self._filled.add(node.id)
        for doc in docs:
            if doc.oid in self._members:
                node.add(self._label(doc), doc, allow_expand=True)
            else:
                node.add_leaf(self._label(doc), doc)

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[DocumentView]) -> None:
        node = event.node
        if node.id in self._filled or node.data is None:
            return
        ancestors: set[str] = set()
        up: TreeNode[DocumentView] | None = node
        while up is not None and up.data is not None:
            ancestors.add(up.data.oid)
            up = up.parent
        held = self._members.get(node.data.oid, [])
        self._fill(node, [doc for doc in held if doc.oid not in ancestors])
