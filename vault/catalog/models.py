"""The tables.

`vault.db` holds only what every member may see: opaque collection ids and key versions, and
vault-wide settings such as the pinned roster head. Everything about a collection's content —
its name, its documents' names, paths, provenance and notes — lives in that collection's own
catalog, encrypted under the collection's key.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel


class VaultTable(SQLModel):
    """Tables of `vault.db`."""


class CatalogTable(SQLModel):
    """Tables of a collection's `catalog.db`."""


class Setting(VaultTable, table=True):
    """A vault-wide value: `roster_head`, `vault_id`, …"""

    key: str = Field(primary_key=True)
    value: str


class CollectionEntry(VaultTable, table=True):
    """A collection as every member sees it: an opaque id and its current key version."""

    cid: str = Field(primary_key=True)
    key_version: int
    created_at: datetime


class CollectionInfo(CatalogTable, table=True):
    """The collection's own description (one row)."""

    id: int = Field(default=1, primary_key=True)
    name: str = Field(index=True)
    description: str = ""
    created_at: datetime
    created_by: str


class Document(CatalogTable, table=True):
    """One stored document: an object and what is known of it."""

    # Listings are in name order: the index lets a screen's first page come without sorting
    # (and so reading) every row of a large collection first.
    __table_args__ = (Index("document_by_name", "name", "oid"),)

    oid: str = Field(primary_key=True)
    name: str
    size: int
    sha256: str
    key_version: int
    mime: str = "application/octet-stream"
    description: str = ""
    flags: str = ""
    status: str = "unverified"
    first_seen: datetime
    indexed: bool = False  # its text is in the full-text index (or it has none)
    index_error: str = ""
    dkim: str = ""  # DKIM evidence for e-mail: pass, fail, body-altered, key-missing, …
    dkim_detail: str = ""


class Intake(CatalogTable, table=True):
    """One check-in: who, when, from where."""

    id: int | None = Field(default=None, primary_key=True)
    member: str
    at: datetime
    source: str = ""
    medium: str = ""
    root: str = ""


class Occurrence(CatalogTable, table=True):
    """Where a document was found in one intake: its container and path inside it."""

    id: int | None = Field(default=None, primary_key=True)
    oid: str = Field(foreign_key="document.oid", index=True)
    intake_id: int = Field(foreign_key="intake.id", index=True)
    parent_oid: str | None = Field(default=None, index=True)
    path: str
    raw_path: str


class StatusChange(CatalogTable, table=True):
    """One change of a document's verification status (the history is never rewritten)."""

    id: int | None = Field(default=None, primary_key=True)
    oid: str = Field(foreign_key="document.oid", index=True)
    old: str
    new: str
    member: str
    at: datetime
    note: str = ""


class Note(CatalogTable, table=True):
    """A note on a document: append-only, with its author and time."""

    id: int | None = Field(default=None, primary_key=True)
    oid: str = Field(foreign_key="document.oid", index=True)
    member: str
    at: datetime
    text: str


class Tag(CatalogTable, table=True):
    """A free-form tag on a document."""

    oid: str = Field(foreign_key="document.oid", primary_key=True)
    tag: str = Field(primary_key=True, index=True)


# The full-text index: FTS5 inside the encrypted catalog, so the words of the documents are as
# protected as the documents. SQLModel has no virtual tables; this DDL runs when a catalog opens.
TEXT_INDEX_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS document_text USING fts5("
    "oid UNINDEXED, name, body, tokenize = 'unicode61 remove_diacritics 2')"
)
