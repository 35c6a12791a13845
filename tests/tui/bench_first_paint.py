"""Time to first paint of the collection browser with many synthetic documents.

    .venv/bin/python -m tests.tui.bench_first_paint [ROWS] [--datatable]

Feeds `BrowserScreen.show_documents` a list of `DocumentView`s (no vault), then measures: the
call itself, the first full render of the screen, jumping to the last row, and one filter
keystroke. `--datatable` also times Textual's stock `DataTable` on the same rows, for comparison.
Not a test: it asserts nothing about time.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from tests.tui.helpers import screen_text
from tests.tui.synthetic import documents
from tui.app import VaultApp
from tui.screens.browser import BrowserScreen
from vault.service import DocumentView


async def browser(rows: list[DocumentView]) -> dict[str, float]:
    """Milliseconds for each step, with `rows` fed to the browser."""
    times: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        app = VaultApp(Path(tmp) / "no-vault", cursor_blink=False)
        async with app.run_test(size=(100, 30)) as pilot:
            screen = BrowserScreen("bench", autoload=False)
            await app.push_screen(screen)
            await pilot.pause()
            start = time.perf_counter()
            screen.show_documents(rows)
            times["show_documents"] = time.perf_counter() - start
            screen_text(app)  # the whole screen drawn, first rows included
            times["first paint"] = time.perf_counter() - start
            await pilot.pause()
            screen_text(app)
            times["first paint, after a loop turn"] = time.perf_counter() - start
            start = time.perf_counter()
            await pilot.press("end")
            screen_text(app)
            times["End key to last row drawn"] = time.perf_counter() - start
            start = time.perf_counter()
            screen.table.filter("9")
            screen_text(app)
            times["first filter (builds keys) + draw"] = time.perf_counter() - start
            start = time.perf_counter()
            screen.table.filter("99")
            screen_text(app)
            times["next filter + draw"] = time.perf_counter() - start
    return {step: 1000 * seconds for step, seconds in times.items()}


class _Stock(App[None]):
    def compose(self) -> ComposeResult:
        yield DataTable(cursor_type="row")


async def datatable(rows: list[DocumentView]) -> None:
    app = _Stock()
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.query_one(DataTable)
        start = time.perf_counter()
        for title in ("id", "name", "type", "size", "status", "flags"):
            table.add_column(title)
        table.add_rows(
            [
                (
                    Text(d.oid[:12]),
                    Text(d.name),
                    Text(d.mime),
                    Text(str(d.size)),
                    Text(d.status),
                    Text(",".join(d.flags)),
                )
                for d in rows
            ]
        )
        await pilot.pause()
        screen_text(app)
        painted = time.perf_counter()
    print(f"DataTable, {len(rows):,} rows")
    print(f"  first paint (total) {1000 * (painted - start):8.1f} ms")


def main() -> None:
    count = next((int(a) for a in sys.argv[1:] if a.isdigit()), 100_000)
    baseline = asyncio.run(browser(documents(10)))
    measured = asyncio.run(browser(documents(count)))
    print(f"{'VirtualTable (ms)':36} {'10 rows':>9} {f'{count:,} rows':>12}")
    for step, ms in measured.items():
        print(f"  {step:34} {baseline[step]:9.1f} {ms:12.1f}")
    if "--datatable" in sys.argv:
        asyncio.run(datatable(documents(count)))


if __name__ == "__main__":
    main()
