"""Time to first paint of the terminal app's collection browser, fed from a vault.

The app is started headless and idle first and the vault unlocked, as when a member opens a
collection in the running app; the clock runs from asking the service for the documents (what
the screen's loading worker calls) to the screen painted with them.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import pkgutil
import statistics
import time
from pathlib import Path
from typing import Any

from benchmarks.extras import NOT_AVAILABLE, DocsVault, Extra, Setting
from benchmarks.peers import COLLECTION, MEMBER, PASSPHRASE
from benchmarks.report import Target


def browser(s: Setting, docs: DocsVault) -> Extra:
    """Time to first paint of the terminal app's collection browser on data set (e)."""
    extra = Extra(f"collection browser first paint at {docs.data.files} documents")
    found = find_browser()
    if isinstance(found, str):
        extra.status = NOT_AVAILABLE
        extra.lines = [f"browser: not available in this build ({found})"]
        extra.targets = [Target("browser first paint", None, 1, "s", False, "not available")]
        return extra
    docs.ensure()
    screen, feed = found
    try:
        runs = [_first_paint(docs.path, screen, feed) for _ in range(s.runs)]
    except Exception as exc:  # a screen still being built may fail in many ways: report it
        extra.status = "failed"
        extra.lines = [f"{screen.__module__}.{screen.__qualname__}: {type(exc).__name__}: {exc}"]
        return extra
    for key in runs[0]:
        extra.metrics[key] = statistics.median(r[key] for r in runs)
    m = extra.metrics
    extra.lines = [
        f"{screen.__module__}.{screen.__qualname__}.{feed}, headless 100×30, vault unlocked: "
        f"first paint {m['first_paint_s']:.2f} s = `Vault.documents` {m['list_s']:.2f} s + "
        f"screen, rows and paint {m['paint_s']:.2f} s ({int(m['rows'])} rows shown)"
    ]
    extra.targets = [Target("browser first paint", m["first_paint_s"], 1, "s", False)]
    return extra


_FEEDS = ("show_documents", "set_rows", "show_rows", "load_rows")


def find_browser() -> tuple[type, str] | str:
    """The app's collection browser screen and the method that takes its rows, or why not.

    The screen must be constructible with the collection's name alone (plus optional
    arguments, `autoload=False` when it has one) and take a list of `DocumentView` rows.
    """
    try:
        import textual.screen

        import tui
    except ImportError as exc:
        return f"cannot import it: {exc}"
    for info in pkgutil.walk_packages(tui.__path__, "tui."):
        if "brows" not in info.name.rsplit(".", 1)[-1].lower():
            continue
        try:
            module = importlib.import_module(info.name)
        except Exception as exc:  # work in progress may not import: say so
            return f"{info.name} does not import: {type(exc).__name__}: {exc}"
        for value in vars(module).values():
            if (
                inspect.isclass(value)
                and issubclass(value, textual.screen.Screen)
                and value.__module__ == module.__name__
            ):
                feed = next((f for f in _FEEDS if callable(getattr(value, f, None))), None)
                if feed is not None:
                    return value, feed
    return "tui has no collection browser screen that takes rows"


def _first_paint(path: Path, screen_class: type, feed: str) -> dict[str, float]:
    """From asking the service for the documents to the browser painted with them.

    The app is started and idle first, and the vault unlocked: opening a collection in the
    running app costs the listing (what the screen's loading worker calls) and the screen.
    """
    from textual.app import App

    from vault.clock import SystemClock
    from vault.service import Vault as Service

    params = inspect.signature(screen_class).parameters
    kwargs: dict[str, Any] = {"collection": COLLECTION}
    if "autoload" in params:
        kwargs["autoload"] = False

    class Host(App[None]):
        # What a screen reads of the app it runs in (`tui.app.VaultApp`).
        cursor_blink = False
        session = None
        clock = SystemClock()

    times: dict[str, float] = {}

    async def paint(vault: Service) -> None:
        app = Host()
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            start = time.perf_counter()
            rows = vault.documents(COLLECTION)
            listed = time.perf_counter()
            screen = screen_class(**kwargs)
            await app.push_screen(screen)
            getattr(screen, feed)(rows)
            await pilot.pause()
            await pilot.pause()
            done = time.perf_counter()
            shown = getattr(getattr(screen, "table", None), "total", len(rows))
        times.update(
            list_s=listed - start, paint_s=done - listed, first_paint_s=done - start, rows=shown
        )

    with Service.open(path, MEMBER, PASSPHRASE.encode()) as vault:
        asyncio.run(paint(vault))
    return times
