"""What a check-in worker posts while it runs and when it ends."""

from __future__ import annotations

from textual.message import Message

from vault.service import Progress, Receipt


class CheckInProgress(Message):
    """Running totals of a check-in, `elapsed` seconds after it started."""

    def __init__(self, progress: Progress, elapsed: float) -> None:
        super().__init__()
        self.progress = progress
        self.elapsed = elapsed


class CheckInFinished(Message):
    """The check-in ended (completely or cancelled) with this receipt."""

    def __init__(self, receipt: Receipt) -> None:
        super().__init__()
        self.receipt = receipt


class CheckInFailed(Message):
    """The check-in could not run at all (unknown collection, vault busy, …)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error
