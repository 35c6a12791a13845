"""Release requests and approvals, in `vault.db` (every member may see what is asked to leave).

The rows are bookkeeping: what counts is the signed request and the signed approvals inside
them, which a release re-verifies against the roster before anything leaves.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field

from vault.catalog.models import VaultTable


class ReleaseRow(VaultTable, table=True):
    """A release request: its canonical bytes, the requester's signature, and its fate."""

    id: str = Field(primary_key=True)
    digest: str
    request: str  # canonical JSON
    signature: str  # the requester's SSH signature of the request
    collection: str = Field(index=True)
    not_before: datetime
    expires: datetime | None = None
    state: str = "open"  # open, running, released
    ran_at: datetime | None = None
    ran_by: str | None = None
    bundle: str | None = None


class ApprovalRow(VaultTable, table=True):
    """One member's SSH signature of a request."""

    id: int | None = Field(default=None, primary_key=True)
    release_id: str = Field(foreign_key="releaserow.id", index=True)
    approver: str
    signature: str
    at: datetime
