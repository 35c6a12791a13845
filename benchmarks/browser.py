"""Time to first paint of the terminal app's collection browser, on a vault.

The app is started headless and idle first and the vault unlocked, as when a member opens a
collection in the running app; the clock runs from opening the screen, whose own worker lists
the documents through the session, to its first page painted, and on to every document listed.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import pkgutil
import statistics
import time
from pathlib import Path

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
        f"{screen.__module__}.{screen.__qualname__}, headless 100×30, vault unlocked, opened "
        f"as the app opens it (its loading worker lists through the session): first page "
        f"painted {m['first_paint_s']:.2f} s, all {int(m['rows'])} documents listed and shown "
        f"{m['all_listed_s']:.2f} s"
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
    """From opening the browser to its first page painted, and to every document listed.

    The app is started and idle first, and the vault unlocked: opening a collection in the
    running app costs the screen and its own loading worker, which lists through the session.
    A screen without one (`autoload`) is fed the listing through `feed` instead.
    """
    from textual.app import App

    from tui.session import VaultSession
    from vault.clock import SystemClock
    from vault.service import Vault as Service

    autoload = "autoload" in inspect.signature(screen_class).parameters
    times: dict[str, float] = {}

    async def paint(vault: Service) -> None:
        class Host(App[None]):
            # What a screen reads of the app it runs in (`tui.app.VaultApp`).
            cursor_blink = False
            session = VaultSession(vault)
            clock = SystemClock()

        app = Host()
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            start = time.perf_counter()
            screen = screen_class(collection=COLLECTION)
            await app.push_screen(screen)
            if not autoload:
                getattr(screen, feed)(vault.documents(COLLECTION))
            table = getattr(screen, "table", None)

            def loading() -> bool:
                return any(not worker.is_finished for worker in app.workers)

            while table is not None and table.total == 0 and loading():
                await asyncio.sleep(0.005)
            painted = asyncio.Event()  # the rows are set: wait for the refresh that paints them
            screen.call_after_refresh(painted.set)
            await painted.wait()
            first = time.perf_counter()
            while not getattr(screen, "complete", True) or loading():
                await asyncio.sleep(0.01)
            await pilot.pause()
            done = time.perf_counter()
            rows = getattr(table, "total", 0)
        times.update(first_paint_s=first - start, all_listed_s=done - start, rows=rows)

    with Service.open(path, MEMBER, PASSPHRASE.encode()) as vault:
        asyncio.run(paint(vault))
    return times
