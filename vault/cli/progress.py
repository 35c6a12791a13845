"""A one-line progress bar on standard error, driven by the service's progress callback.

Ctrl-C asks the running check-in to stop between files rather than killing it mid-write, so
what was committed stays and the receipt says what was not done.
"""

from __future__ import annotations

import signal
import sys
import time
from types import FrameType

from vault.output import escape, human_size
from vault.service import Progress


class ProgressBar:
    """Files, bytes, rate and ETA, redrawn in place; installs a polite Ctrl-C handler."""

    def __init__(self) -> None:
        self._start = time.monotonic()
        self._stop = False
        self._previous = signal.signal(signal.SIGINT, self._interrupt)

    def _interrupt(self, _signum: int, _frame: FrameType | None) -> None:
        self._stop = True

    def cancelled(self) -> bool:
        """Polled by the service between chunks."""
        return self._stop

    def update(self, p: Progress) -> None:
        """Redraw the bar."""
        elapsed = max(time.monotonic() - self._start, 1e-6)
        rate = p.bytes / elapsed
        left = (p.total_bytes - p.bytes) / rate if rate > 0 else 0.0
        share = p.bytes / p.total_bytes if p.total_bytes else 1.0
        filled = int(share * 20)
        line = (
            f"[{'#' * filled}{'.' * (20 - filled)}] {p.files}/{p.total_files} files "
            f"{human_size(p.bytes)} {human_size(int(rate))}/s ETA {left:.0f}s"
            f" {p.flagged} flagged {escape(p.current)[-30:]}"
        )
        sys.stderr.write("\r\x1b[K" + line)
        sys.stderr.flush()

    def close(self) -> None:
        """End the line and restore Ctrl-C."""
        sys.stderr.write("\n")
        signal.signal(signal.SIGINT, self._previous)
