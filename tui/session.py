"""The unlocked vault as the app holds it: one `Vault`, used by one worker thread at a time.

Screens never keep the `Vault` itself; they borrow it with `session.use()` inside a thread
worker. Borrowing serializes calls (the service's context is not documented as safe for two
threads at once, and its writer lock is per process, not per thread), and lets `close` wait for the
call in flight before the vault is closed, so locking never pulls keys out from under a check-in.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from vault.service import Vault


class SessionLocked(Exception):
    """The vault was locked while a screen still wanted it; the screen's work is dropped."""


class VaultSession:
    """An unlocked vault and the little the app remembers about it between screens."""

    def __init__(self, vault: Vault) -> None:
        self._vault: Vault | None = vault
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self.member = vault.member
        # Collection names, for the command palette; filled by the dashboard, dropped on lock.
        self.collections: list[str] = []
        # Counts changes made through the app (marks, check-ins), so a screen showing a listing
        # knows whether to list again when it comes back into view.
        self.changes = 0

    @property
    def busy(self) -> bool:
        """Whether a worker is using the vault right now."""
        return self._lock.locked()

    @property
    def closed(self) -> bool:
        """Whether the session is locked (or locking)."""
        return self._closing.is_set()

    @contextmanager
    def use(self) -> Iterator[Vault]:
        """Borrow the vault for one piece of work; blocks while another worker has it.

        Raises:
            SessionLocked: the vault was locked before or while waiting.
        """
        with self._lock:
            if self._closing.is_set() or self._vault is None:
                raise SessionLocked("the vault is locked")
            yield self._vault

    def close(self) -> None:
        """Lock: refuse new work, wait for the call in flight, close the vault, forget it."""
        self._closing.set()
        self.collections = []
        with self._lock:
            if self._vault is not None:
                self._vault.close()
                self._vault = None
