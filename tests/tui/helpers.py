"""Driving the app in tests: running coroutines, typing, waiting, and reading the screen."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any, ParamSpec

from rich.console import Console
from textual.app import App
from textual.message import Message
from textual.message_pump import MessagePump
from textual.notifications import Notification, Notify
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import DirectoryTree, Input
from textual.worker import Worker, WorkerCancelled, WorkerFailed

from tests.vaults import PASSPHRASES
from tui.app import VaultApp

P = ParamSpec("P")
SIZES = [(100, 30), (80, 24)]
NOTICE_KEPT = 24 * 3600.0  # seconds: longer than any test


def pilot_test(test: Callable[P, Coroutine[Any, Any, None]]) -> Callable[P, None]:
    """Run an `async def` test to completion (no asyncio plugin is needed)."""

    @functools.wraps(test)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        asyncio.run(test(*args, **kwargs))

    return run


@asynccontextmanager
async def drive(
    app: VaultApp,
    size: tuple[int, int] = (100, 30),
    *,
    notices: list[Notification] | None = None,
    hook: Callable[[Message], None] | None = None,
) -> AsyncIterator[Pilot[None]]:
    """Run the app headless; fail if it showed an error nobody asked to collect.

    Pass `notices` to collect every notification instead (a test that expects an error), and
    `hook` to see every message as it is handled.

    Notifications stay on screen until the test ends: one that went after five seconds of real
    time would make what the screen shows depend on how fast the machine ran the test.
    """
    seen: list[Notification] = [] if notices is None else notices

    def record(message: Message) -> None:
        if isinstance(message, Notify):
            message.notification.timeout = NOTICE_KEPT  # before the app shows it
            seen.append(message.notification)
        if hook is not None:
            hook(message)

    async with app.run_test(size=size, message_hook=record) as pilot:
        yield pilot
    if notices is None:
        assert [n.message for n in seen if n.severity == "error"] == []


def screen_text(app: App[Any]) -> str:
    """The current screen as plain text, line by line, as `export_screenshot` would draw it."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        record=True,
        force_terminal=True,
        color_system="truecolor",
        legacy_windows=False,
        safe_box=False,
    )
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text()


def on_top(app: App[Any], screen: Screen[Any]) -> bool:
    """Whether `screen` is the one showing (a call, so mypy narrows neither side)."""
    return app.screen is screen


async def settle(app: App[Any], pilot: Pilot[Any], *, rounds: int = 100) -> None:
    """Let every worker finish and every message they posted be handled, however long it takes.

    One step may start the next (a worker's message opens a screen whose mount starts another
    worker), so this goes on until a round finds no worker running and no message waiting, twice
    in a row. A worker that failed or was cancelled counts as finished: the app reports its
    failure itself. A directory tree's loader waits for work forever, so it is left out (the
    folders it has yet to list count instead). Fails if the app is still busy after `rounds`
    rounds.
    """
    quiet = 0
    for _ in range(rounds):
        busy = _busy(app)
        if busy:
            await asyncio.gather(*(_ended(worker) for worker in busy))
        await pilot.pause()
        quiet = 0 if busy or _queued(app) else quiet + 1
        if quiet == 2:
            return
    raise AssertionError(
        f"the app is still busy after {rounds} rounds: workers {_busy(app)}, "
        f"messages waiting for {[node for node in _nodes(app) if node.message_queue_size]}"
    )


async def until(
    app: App[Any], pilot: Pilot[Any], check: Callable[[], object], what: str, rounds: int = 100
) -> None:
    """Settle the app, again until `check()` is true; fail saying `what` was awaited if it never is.

    For a change that comes from the app's timers or from outside it (a message posted to it),
    which no worker stands for.
    """
    for _ in range(rounds):
        await settle(app, pilot)
        if check():
            return
    raise AssertionError(f"still waiting, after {rounds} rounds, for {what}")


def _busy(app: App[Any]) -> list[Worker[Any]]:
    return [worker for worker in app.workers if worker.group != "_loader"]


async def _ended(worker: Worker[Any]) -> None:
    """Wait for a worker to end, whether it succeeds, fails or is cancelled."""
    with contextlib.suppress(WorkerFailed, WorkerCancelled):
        await worker.wait()


def _nodes(app: App[Any]) -> list[MessagePump]:
    """The app and every widget of every screen it holds."""
    screens = app.screen_stack
    return [app, *(node for screen in screens for node in screen.walk_children(with_self=True))]


def _queued(app: App[Any]) -> bool:
    """Whether a message waits to be handled anywhere in the app, or a folder to be listed.

    A directory tree lists a folder through its own queue, which its loader empties only when it
    gets to it.
    """
    return any(
        node.message_queue_size or (isinstance(node, DirectoryTree) and node._load_queue.qsize())
        for node in _nodes(app)
    )


async def resize(pilot: Pilot[Any], size: tuple[int, int]) -> None:
    """Resize the terminal and let the screen lay itself out again.

    The app takes a new size on a timer of its own, which no message waiting stands for.
    """
    app = pilot.app
    await pilot.resize_terminal(*size)
    await until(app, pilot, lambda: app.screen.size == size, f"the screen to be {size}")


async def type_text(pilot: Pilot[Any], text: str) -> None:
    """Type text into the focused widget, key by key."""
    await pilot.press(*[_key(ch) for ch in text])


def _key(ch: str) -> str:
    names = {" ": "space", "/": "slash", ".": "full_stop", "-": "minus", "_": "underscore"}
    return names.get(ch, ch)


async def unlock(app: VaultApp, pilot: Pilot[Any], member: str = "alice") -> None:
    """Unlock through the unlock screen as a test member."""
    await settle(app, pilot)  # the unlock screen shown, whatever came before
    app.screen.query_one("#member", Input).value = member
    field = app.screen.query_one("#passphrase", Input)
    field.focus()
    field.value = PASSPHRASES[member].decode()
    await pilot.press("enter")
    await settle(app, pilot)
