"""`VaultApp`: the full-screen terminal app over one vault directory.

Screens: unlock → dashboard → collection browser → document (and its mark, note and tag dialogs);
check-in, the embargo editor, the release queue and the audit viewer from anywhere. Every vault
call runs in a thread worker through the session (`tui.session`); the app itself never holds
decrypted data outside the screens, which drop theirs when the vault locks. Locking (Ctrl+L, the
palette, or `idle_timeout` seconds without a key or mouse event, measured on the injected clock)
closes the `Vault` once the call in flight ends, and returns to the unlock screen.
"""

from __future__ import annotations

import gc
from multiprocessing import resource_tracker
from pathlib import Path
from typing import ClassVar

from textual import events, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen

from tui.commands import VaultCommands
from tui.screens.audit import AuditScreen
from tui.screens.base import VaultScreen
from tui.screens.browser import BrowserScreen
from tui.screens.checkin import CheckInScreen
from tui.screens.dashboard import DashboardScreen
from tui.screens.document import DocumentScreen
from tui.screens.embargo import EmbargoScreen
from tui.screens.releases import ReleasesScreen
from tui.screens.unlock import UnlockScreen
from tui.session import VaultSession
from tui.widgets.plain_input import TextRefused
from vault.clock import Clock, SystemClock
from vault.service import Vault

IDLE_TIMEOUT = 600.0  # seconds
IDLE_CHECK_EVERY = 1.0  # seconds


class VaultApp(App[None]):
    """The terminal app for one vault."""

    CSS_PATH = "app.tcss"
    TITLE = "Embargo Vault"
    COMMANDS: ClassVar = App.COMMANDS | {VaultCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+l", "lock", "Lock", priority=True),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(
        self,
        vault_dir: Path,
        member: str | None = None,
        *,
        clock: Clock | None = None,
        idle_timeout: float = IDLE_TIMEOUT,
        browse_root: Path | None = None,
        cursor_blink: bool = True,
    ) -> None:
        """Make the app; nothing is read from the vault until the member unlocks it.

        Args:
            vault_dir: the vault directory.
            member: the member name to offer on the unlock screen.
            clock: where time comes from (idle lock, and every vault call).
            idle_timeout: lock after this many seconds without input; 0 never locks.
            browse_root: the folder the check-in screen's tree starts in (default: cwd).
            cursor_blink: whether text cursors blink (off for stable screenshots).
        """
        super().__init__()
        # Check-in's type detector runs in worker processes started by multiprocessing, whose
        # resource tracker hands sys.stderr's descriptor to its own process. While the app runs,
        # Textual replaces sys.stderr with an object whose fileno() is -1, and that start fails
        # ("bad value(s) in fds_to_keep"); so the tracker is started now, before the app runs.
        resource_tracker.ensure_running()
        self.vault_dir = vault_dir
        self.member = member
        self.clock: Clock = clock or SystemClock()
        self.idle_timeout = idle_timeout
        self.browse_root = browse_root or Path.cwd()
        self.cursor_blink = cursor_blink
        self.session: VaultSession | None = None
        self.last_input = self.clock.now()

    def on_mount(self) -> None:
        self.push_screen(UnlockScreen(self.member))
        self.set_interval(IDLE_CHECK_EVERY, self.lock_if_idle)

    # Unlocking and locking
    def unlocked(self, vault: Vault) -> None:
        """The member unlocked the vault: show the dashboard."""
        self.session = VaultSession(vault)
        self.member = vault.member
        self.sub_title = vault.member
        self.last_input = self.clock.now()
        self.switch_screen(DashboardScreen())

    async def action_lock(self, notice: str = "locked") -> None:
        """Close the vault, drop what the screens hold, and ask for the passphrase again."""
        current, self.session = self.session, None
        if current is None:
            return
        for screen in self.screen_stack:
            if isinstance(screen, VaultScreen):
                screen.forget()
        self.workers.cancel_all()
        while len(self.screen_stack) > 2:
            await self.pop_screen()
        await self.switch_screen(UnlockScreen(self.member, notice=notice))
        self.sub_title = ""
        self._close(current)

    @work(thread=True, exit_on_error=False, group="lock")
    def _close(self, current: VaultSession) -> None:
        current.close()  # waits for the vault call in flight, if any
        gc.collect()

    async def lock_if_idle(self) -> None:
        """Lock if nobody has touched a key or the mouse for `idle_timeout` seconds.

        A vault call under way (a long check-in) holds the lock off until it ends.
        """
        current = self.session
        if current is None or self.idle_timeout <= 0 or current.busy:
            return
        idle = (self.clock.now() - self.last_input).total_seconds()
        if idle >= self.idle_timeout:
            minutes = round(self.idle_timeout / 60)
            await self.action_lock(f"locked after {minutes} minute(s) without input")

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent):
            self.last_input = self.clock.now()
        await super().on_event(event)

    def on_text_refused(self, _: TextRefused) -> None:
        """A field refused pasted or typed control characters: say so."""
        self.notify(
            "control and format characters cannot be typed or pasted here",
            severity="warning",
            markup=False,
        )

    def on_unmount(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("lock", "check_in", "audit", "dashboard", "embargoes", "releases"):
            return self.session is not None
        return True

    # Navigation
    async def action_dashboard(self) -> None:
        """Back to the dashboard."""
        while len(self.screen_stack) > 2 and not isinstance(self.screen, DashboardScreen):
            await self.pop_screen()

    def open_collection(self, name: str) -> None:
        """Browse a collection (from the dashboard or the palette)."""
        self._open(BrowserScreen(name))

    async def switch_collection(self, name: str) -> None:
        """Go back to the dashboard and browse another collection (from the palette)."""
        await self.action_dashboard()
        self.open_collection(name)

    def open_document(self, ref: str) -> None:
        """Show a document."""
        self._open(DocumentScreen(ref))

    def open_check_in(self, collection: str | None = None) -> None:
        """Open the check-in screen, with a collection chosen if one is given."""
        self._open(CheckInScreen(collection))

    def action_check_in(self) -> None:
        """Check material in (into the collection being browsed, if any)."""
        screen = self.screen
        self.open_check_in(screen.collection if isinstance(screen, BrowserScreen) else None)

    def action_audit(self) -> None:
        """Open the audit viewer."""
        self._open(AuditScreen())

    def open_embargoes(self, target: str | None = None) -> None:
        """Open the embargo editor, on one collection or document if given."""
        self._open(EmbargoScreen(target))

    def action_embargoes(self) -> None:
        """Open the embargo editor (on the collection being browsed, if any)."""
        screen = self.screen
        self.open_embargoes(screen.collection if isinstance(screen, BrowserScreen) else None)

    def action_releases(self) -> None:
        """Open the release queue."""
        self._open(ReleasesScreen())

    def open_release(self, ref: str) -> None:
        """Open the release queue on one request."""
        self._open(ReleasesScreen(ref))

    def _open(self, screen: Screen[None]) -> None:
        if self.session is not None:
            self.push_screen(screen)
