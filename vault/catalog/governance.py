"""The governance tables of `vault.db`: policy versions and embargoes.

Every member may see them (DESIGN §5): policy texts, opaque collection and document ids, embargo
instants and reasons. Every member also holds `vault.db`'s key, so SQLCipher's page HMACs stop an
outsider, not a member: each row is therefore signed by the member who wrote it
(`vault.service.governance`), and the service verifies the signature, and the signer's right to
have written it, before it trusts a row.

Instants are stored as ISO 8601 text in UTC (`2017-05-07T18:00:00+00:00`): exactly what was signed,
and never silently naive.
"""

from __future__ import annotations

from sqlmodel import Field

from vault.catalog.models import VaultTable


class PolicyVersion(VaultTable, table=True):
    """One version of the vault's policy set; the highest is active.

    `files_json` is the canonical JSON of file name → text (the schema and every `*.cedar` file).
    `roster_seq` is the roster statement the signer's roles are read at, so a later change of
    roles does not rewrite who was allowed to apply an old version. `signature` is the signer's
    Ed25519 signature (base64) over the domain-separated canonical form of every other column and
    the vault id.
    """

    __tablename__ = "policy_version"

    version: int = Field(primary_key=True)
    digest: str
    files_json: str
    signer: str
    roster_seq: int
    at: str
    signature: str


class EmbargoRow(VaultTable, table=True):
    """An embargo on a collection or document: the UTC instant it lifts and the zone it was set in.

    `target_kind` is `collection` or `document`; `collection_id` is the collection itself, or the
    document's collection. A lifted embargo's row is deleted (the audit log keeps the history).
    """

    __tablename__ = "embargo"

    target_kind: str = Field(primary_key=True)
    target_id: str = Field(primary_key=True)
    collection_id: str = Field(index=True)
    until_utc: str
    zone: str
    reason: str
    set_by: str
    set_at: str
    signature: str
