"""What loading workers post back: an unlocked vault, documents, search hits, containers, a
document and what was changed on it."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from textual.message import Message

from vault.service import Decision, DocumentDetail, DocumentView, EmbargoView, SearchHit, Vault


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
    """A collection's documents, as the service listed them, with their filter keys.

    `embargoes` are the collection's embargo and its documents' own, when they were asked for.
    `complete` is False for the first page of a long listing, whose rest follows; the loading
    worker waits for `painted` before it reads on (building rows holds the GIL, and would
    starve the painting of the first page).
    """

    def __init__(
        self,
        rows: Sequence[DocumentView],
        keys: list[str],
        embargoes: Sequence[EmbargoView] = (),
        *,
        complete: bool = True,
        painted: threading.Event | None = None,
    ) -> None:
        super().__init__()
        self.rows = rows
        self.keys = keys
        self.embargoes = embargoes
        self.complete = complete
        self.painted = painted


class SearchDone(Message):
    """The hits for `query`, ranked; or `error` saying why the query could not run."""

    def __init__(self, query: str, hits: Sequence[SearchHit], error: str = "") -> None:
        super().__init__()
        self.query = query
        self.hits = hits
        self.error = error


class ContainersLoaded(Message):
    """Each document's containers in a collection (`Vault.containers`)."""

    def __init__(self, placed: dict[str, tuple[str | None, ...]]) -> None:
        super().__init__()
        self.placed = placed


@dataclass(frozen=True)
class DocumentBundle:
    """One document as the document screen shows it: detail, section data, permissions.

    `mark` also decides notes (the service asks `mark` before adding one).
    """

    detail: DocumentDetail
    sections: tuple[object, ...]
    mark: Decision | None  # None when the policies could not be asked
    tag: Decision | None = None


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


class Noted(Message):
    """A note was added to the document."""


class Tagged(Message):
    """A document's tags changed; `tags` are its tags now."""

    def __init__(self, tags: tuple[str, ...]) -> None:
        super().__init__()
        self.tags = tags


class PanelData(Message):
    """Data a dashboard panel fetched in its worker, for the panel to show.

    `read` numbers the panel's reads, so the answer to one overtaken by a newer read is seen.
    """

    def __init__(self, data: object, read: int = 0) -> None:
        super().__init__()
        self.data = data
        self.read = read


class CollectionsLoaded(Message):
    """The names of the collections the member holds."""

    def __init__(self, names: list[str]) -> None:
        super().__init__()
        self.names = names
