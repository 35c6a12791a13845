"""`VaultScreen`: what every screen of an unlocked vault shares.

Errors from workers become a notification (escaped, never markup); a worker that finds the vault
locked is dropped silently. `forget` drops what the screen holds from the vault when it locks.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from tui.host import vault_app
from tui.session import SessionLocked
from tui.widgets.safe import shown
from vault.errors import VaultError


def describe(error: BaseException) -> str:
    """An error as one safe line: the message, then the hint if there is one."""
    if isinstance(error, VaultError):
        text = error.message + (f" — {error.hint}" if error.hint else "")
    else:
        text = f"{type(error).__name__}: {error}"
    return shown(text)


class VaultScreen(Screen[None]):
    """A screen that reads the vault through the app's session."""

    def on_mount(self) -> None:
        if not vault_app(self).cursor_blink:
            for field in self.query(Input):
                field.cursor_blink = False

    def forget(self) -> None:
        """Drop decrypted data this screen holds (the vault is being locked)."""

    def report(self, error: BaseException) -> None:
        """Tell the member an operation failed."""
        if not isinstance(error, SessionLocked):
            self.notify(describe(error), title="error", severity="error", markup=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.report(event.worker.error)
