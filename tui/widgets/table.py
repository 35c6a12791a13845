"""`VirtualTable`: a table that draws only the rows on screen, for 100,000 documents and more.

Textual's `DataTable` builds and measures a row object per row up front (about 36 s for 100,000
rows here) and reads `str` cells as markup. This table keeps the caller's sequence as it is, draws
each visible line on demand through the line API, and treats every cell as plain text that the
column's `cell` function has already made safe (`tui.widgets.safe.shown`). Filtering scans a
lower-cased key per row, built on the first filter, so the first paint costs nothing per row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.widgets.safe import fit

RowT = TypeVar("RowT")


@dataclass(frozen=True)
class Column(Generic[RowT]):
    """A column: its title, how to get a row's (safe) cell text, and its width.

    `width` 0 makes the column share the room left by the fixed ones, by `weight`.
    """

    title: str
    cell: Callable[[RowT], str]
    width: int = 0
    weight: int = 1
    right: bool = False
    keep_end: bool = False  # cut long cells at the start (paths)


class VirtualTable(ScrollView, Generic[RowT], can_focus=True):
    """Rows drawn on demand under a fixed header, with a row cursor and a text filter."""

    DEFAULT_CSS = """
    VirtualTable {
        overflow-x: hidden;
        overflow-y: auto;
        height: 1fr;
        & > .virtual-table--header { text-style: bold; background: $panel; }
        & > .virtual-table--cursor { background: $block-cursor-background; }
        &:focus > .virtual-table--cursor {
            background: $block-cursor-background; color: $block-cursor-foreground;
            text-style: bold;
        }
        & > .virtual-table--empty { color: $text-muted; }
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "virtual-table--header",
        "virtual-table--cursor",
        "virtual-table--empty",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select", "Open"),
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "edge(0)", "First", show=False),
        Binding("end", "edge(1)", "Last", show=False),
    ]

    cursor: reactive[int] = reactive(0, always_update=True)

    class Selected(Message):
        """Enter (or a click on the cursor row) chose the row at `index` of the shown rows."""

        def __init__(self, table: VirtualTable[Any], index: int) -> None:
            super().__init__()
            self.table = table
            self.index = index

        @property
        def control(self) -> VirtualTable[Any]:
            """The table the row was chosen in."""
            return self.table

    def __init__(
        self,
        columns: Sequence[Column[RowT]],
        *,
        key: Callable[[RowT], str] | None = None,
        empty: str = "nothing to show",
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.columns = list(columns)
        self._key = key
        self._empty = empty
        self._rows: Sequence[RowT] = ()
        self._shown: Sequence[int] = range(0)
        self._keys: list[str] | None = None
        self._needle = ""
        self._widths: list[int] = []

    # Data
    def set_rows(self, rows: Sequence[RowT], keys: list[str] | None = None) -> None:
        """Show these rows (kept as given, not copied), with the current filter applied.

        `keys` are the rows' filter keys, lower-cased, if the caller built them already (in a
        worker thread, say); otherwise they are built on the first filter.
        """
        self._rows = rows
        self._keys = keys if keys is not None and len(keys) == len(rows) else None
        self._apply()

    def clear(self) -> None:
        """Drop every row (and the filter keys built from them)."""
        self.set_rows([])

    def filter(self, needle: str) -> None:
        """Show only rows whose key contains `needle`, ignoring case; "" shows every row."""
        self._needle = needle.casefold()
        self._apply()

    @property
    def total(self) -> int:
        """How many rows the table holds."""
        return len(self._rows)

    @property
    def count(self) -> int:
        """How many rows pass the filter."""
        return len(self._shown)

    def row(self, index: int) -> RowT:
        """The shown row at `index`."""
        return self._rows[self._shown[index]]

    @property
    def current(self) -> RowT | None:
        """The row under the cursor, if any."""
        return self.row(self.cursor) if 0 <= self.cursor < len(self._shown) else None

    def shown_rows(self) -> list[RowT]:
        """Every row that passes the filter, in order (for tests and exports)."""
        return [self._rows[i] for i in self._shown]

    def _apply(self) -> None:
        if not self._needle or self._key is None:
            self._shown = range(len(self._rows))
        else:
            if self._keys is None:
                key = self._key
                self._keys = [key(row).casefold() for row in self._rows]
            needle = self._needle
            self._shown = [i for i, text in enumerate(self._keys) if needle in text]
        self.virtual_size = Size(self.size.width, len(self._shown) + 1)
        self.cursor = min(self.cursor, max(len(self._shown) - 1, 0))
        self.refresh()

    # Cursor
    def validate_cursor(self, value: int) -> int:
        return max(0, min(value, len(self._shown) - 1)) if self._shown else 0

    def watch_cursor(self, old: int, new: int) -> None:
        page = max(self.size.height - 1, 1)
        top = round(self.scroll_offset.y)
        if new < top:
            self.scroll_to(y=new, animate=False)
        elif new >= top + page:
            self.scroll_to(y=new - page + 1, animate=False)
        self.refresh()

    def action_move(self, delta: int) -> None:
        """Move the cursor by `delta` rows."""
        self.cursor += delta

    def action_page(self, direction: int) -> None:
        """Move the cursor by a screenful."""
        self.cursor += direction * max(self.size.height - 2, 1)

    def action_edge(self, end: int) -> None:
        """Go to the first row (0) or the last (1)."""
        self.cursor = len(self._shown) - 1 if end else 0

    def action_select(self) -> None:
        """Choose the row under the cursor."""
        if self._shown:
            self.post_message(self.Selected(self, self.cursor))

    def on_click(self, event: events.Click) -> None:
        if event.y < 1:
            return
        index = round(self.scroll_offset.y) + event.y - 1
        if 0 <= index < len(self._shown):
            again = index == self.cursor
            self.cursor = index
            if again or event.chain > 1:
                self.action_select()

    # Drawing
    def on_resize(self, event: events.Resize) -> None:
        self._widths = []
        self.virtual_size = Size(event.size.width, len(self._shown) + 1)
        self.cursor = self.cursor

    def _column_widths(self, width: int) -> list[int]:
        if len(self._widths) == len(self.columns) and sum(self._widths) + len(
            self.columns
        ) - 1 == max(width, 0):
            return self._widths
        gaps = len(self.columns) - 1
        fixed = sum(c.width for c in self.columns)
        weights = sum(c.weight for c in self.columns if not c.width) or 1
        room = max(width - gaps - fixed, 0)
        widths = [c.width or room * c.weight // weights for c in self.columns]
        flexible = [i for i, c in enumerate(self.columns) if not c.width]
        if flexible:
            widths[flexible[-1]] += room - sum(widths[i] for i in flexible)
        self._widths = widths
        return widths

    def _line(self, cells: list[str], style: Style, width: int) -> Strip:
        text = " ".join(cells)
        return Strip([Segment(fit(text, width), style)], width)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        widths = self._column_widths(width)
        base = self.rich_style
        if y == 0:
            style = base + self.get_component_rich_style("virtual-table--header")
            cells = [
                fit(c.title, w, right=c.right) for c, w in zip(self.columns, widths, strict=True)
            ]
            return self._line(cells, style, width)
        index = round(self.scroll_offset.y) + y - 1
        if not self._shown:
            if y == 1:
                style = base + self.get_component_rich_style("virtual-table--empty")
                return self._line([self._empty], style, width)
            return Strip.blank(width, base)
        if index >= len(self._shown):
            return Strip.blank(width, base)
        row = self._rows[self._shown[index]]
        cells = [
            fit(c.cell(row), w, right=c.right, keep_end=c.keep_end)
            for c, w in zip(self.columns, widths, strict=True)
        ]
        style = base
        if index == self.cursor:
            style = base + self.get_component_rich_style("virtual-table--cursor")
        return self._line(cells, style, width)
