"""What loading workers post back: an unlocked vault, documents, a document, audit entries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from textual.message import Message

from vault.service import Decision, DocumentDetail, DocumentView, Vault


class Unlocked(Message):
    """The passphrase was right: here is the vault."""

    def __init__(self, vault: Vault) -> None:
        super().__init__()
        self.vault = vault


class UnlockFailed(Message):
    """Unlocking failed; `error` says why (a `BadCredentials` for a wrong passphrase)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error


class DocumentsLoaded(Message):
    """A collection's documents, as the service listed them, with their filter keys."""

    def __init__(self, rows: Sequence[DocumentView], keys: list[str]) -> None:
        super().__init__()
        self.rows = rows
        self.keys = keys


@dataclass(frozen=True)
class DocumentBundle:
    """One document as the document screen shows it: detail, section data, permissions."""

    detail: DocumentDetail
    sections: tuple[object, ...]
    mark: Decision | None  # None when the policies could not be asked


class DocumentLoaded(Message):
    """A document's detail and everything its sections fetched."""

    def __init__(self, bundle: DocumentBundle) -> None:
        super().__init__()
        self.bundle = bundle


class Marked(Message):
    """A document's status changed from `previous` to `status`."""

    def __init__(self, previous: str, status: str) -> None:
        super().__init__()
        self.previous = previous
        self.status = status


class PanelData(Message):
    """Data a dashboard panel fetched in its worker, for the panel to show."""

    def __init__(self, data: object) -> None:
        super().__init__()
        self.data = data


class CollectionsLoaded(Message):
    """The names of the collections the member holds."""

    def __init__(self, names: list[str]) -> None:
        super().__init__()
        self.names = names
