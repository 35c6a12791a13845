"""The browser with 100,000 documents fed straight in (no vault): it opens, scrolls, filters and
shows them as a tree of containers.

These tests time nothing (timings are in `tests/tui/bench_first_paint.py`); they check that the
table stays correct at that size and that it escapes names the service did not.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tests.tui.helpers import drive, pilot_test, screen_text, settle, type_text
from tests.tui.synthetic import documents
from tui.app import VaultApp
from tui.screens.browser import BrowserScreen


@pilot_test
async def test_browser_with_100k_rows(tmp_path: Path) -> None:
    rows = documents(100_000)
    app = VaultApp(tmp_path / "no-vault", cursor_blink=False)
    async with drive(app, (100, 30)) as pilot:
        screen = BrowserScreen("bench", autoload=False)
        await app.push_screen(screen)
        screen.show_documents(rows)
        await settle(app, pilot)
        text = screen_text(app)
        assert "100,000 of 100,000 documents" in text
        assert "doc-000000.pdf" in text
        assert "doc-099999.pdf" not in text

        await pilot.press("end")
        await settle(app, pilot)
        assert screen.table.current is rows[-1]
        text = screen_text(app)
        assert "doc-099999.pdf" in text
        await pilot.press("pageup", "up", "home")
        await settle(app, pilot)
        assert screen.table.current is rows[0]

        await pilot.press("slash")
        await settle(app, pilot)
        await type_text(pilot, "9999")
        await settle(app, pilot)
        names = [d.name for d in screen.table.shown_rows()]
        assert names == [f"doc-{n:06}.pdf" for n in range(100_000) if "9999" in f"{n:06}"]
        assert f"{len(names)} of 100,000 documents" in screen_text(app)


@pilot_test
async def test_names_the_service_did_not_escape_are_escaped_by_the_table(tmp_path: Path) -> None:
    raw = documents(2)
    rows = [replace(raw[0], name="a\x1b[2J\u202eb.exe"), replace(raw[1], name="[b]x[/b]")]
    app = VaultApp(tmp_path / "no-vault", cursor_blink=False)
    async with drive(app, (80, 24)) as pilot:
        screen = BrowserScreen("bench", autoload=False)
        await app.push_screen(screen)
        screen.show_documents(rows)
        await settle(app, pilot)
        text = screen_text(app)
        assert "a\\x1b[2J\\u202eb.exe" in text
        assert "[b]x[/b]" in text
        svg = app.export_screenshot()
        assert "\x1b" not in text + svg
        assert "\u202e" not in text + svg


@pilot_test
async def test_tree_of_containers_with_100k_rows(tmp_path: Path) -> None:
    rows = documents(100_000)
    placed: dict[str, tuple[str | None, ...]] = {row.oid: (None,) for row in rows}
    box = rows[0]
    for member in rows[1:3]:
        placed[member.oid] = (box.oid,)  # two documents found inside the first one
    app = VaultApp(tmp_path / "no-vault", cursor_blink=False)
    async with drive(app, (100, 30)) as pilot:
        screen = BrowserScreen("bench", autoload=False)
        await app.push_screen(screen)
        screen.show_documents(rows)
        screen.placed = placed
        await pilot.press("v")
        await settle(app, pilot)
        tree = screen.containers
        assert tree.count == 100_000 - 2
        text = screen_text(app)
        assert "▸ doc-000000.pdf  · holds 2" in text
        assert "1 container" in text
        await pilot.press("space")
        await settle(app, pilot)
        assert tree.count == 100_000
        assert [line.doc for line in tree.shown_rows()[1:3]] == rows[1:3]
        await pilot.press("end")
        await settle(app, pilot)
        current = tree.current
        assert current is not None
        assert current.doc is rows[-1]
        assert "doc-099999.pdf" in screen_text(app)
