"""An unlocked vault: the member's keys, the verified roster, the databases and the audit log.

`Context` is what every workflow module works with. It is created by `create` (a new vault) or
`unlock` (an existing one), both of which verify the roster chain against the anchor sealed in
the member's own key file, check that the roster's public keys are the member's, and pin the
roster head in the encrypted `vault.db`.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, Table
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session, SQLModel, select

from vault.audit import AuditLog, Head, JSONValue
from vault.catalog.engine import open_engine
from vault.catalog.governance import EmbargoRow, PolicyVersion  # noqa: F401 - vault.db tables
from vault.catalog.models import (
    TEXT_INDEX_DDL,
    CatalogTable,
    CollectionEntry,
    CollectionInfo,
    Setting,
    VaultTable,
)
from vault.catalog.releases import ApprovalRow, ReleaseRow  # noqa: F401 - vault.db tables
from vault.clock import Clock
from vault.errors import AccessDenied, IntegrityError, NotFound, UsageError
from vault.keys import sealed
from vault.keys.bounded import VAULT_FILE_LIMIT, read_bounded
from vault.keys.member import KdfParams, MemberKeys, read_key_file, write_key_file
from vault.keys.roster import MemberRecord, Roster, RosterState, member_body
from vault.keys.sealed import CollectionSecret
from vault.store.atomic import write_atomic
from vault.store.lock import WriterLock
from vault.store.objects import ObjectStore

FORMAT_VERSION = 2  # 2: an object is addressed by the HMAC of its SHA-256, not of its bytes


@dataclass
class OpenCollection:
    """A collection the member holds: its secret, catalog and name."""

    cid: str
    secret: CollectionSecret
    catalog: Engine
    name: str


@dataclass
class Context:
    """An unlocked vault, as one member. Holds secrets: never log or print it."""

    dir: Path
    clock: Clock
    keys: MemberKeys
    roster: RosterState
    vault_secret: bytes
    db: Engine
    audit_log: AuditLog
    store: ObjectStore
    lock: WriterLock
    _collections: dict[str, OpenCollection] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Context({str(self.dir)!r}, member={self.keys.name!r})"

    @property
    def member(self) -> str:
        """The acting member's name."""
        return self.keys.name

    @property
    def vault_id(self) -> str:
        """The vault's id, from the signed roster."""
        return self.roster.vault_id

    def audit(
        self, action: str, target: str = "", details: Mapping[str, JSONValue] | None = None
    ) -> Head:
        """Append a signed audit entry. Call it *before* acting: if it raises, do not act.

        Raises:
            AuditUnavailable: the entry could not be written.
        """
        return self.audit_log.append(
            signer=self.keys.signing_key,
            actor=self.member,
            action=action,
            target=target,
            details=dict(details or {}),
            at=self.clock.now(),
        )

    def record(self, name: str) -> MemberRecord:
        """An active member of the roster.

        Raises:
            NotFound: no such active member.
        """
        record = self.roster.member(name)
        if record is None:
            raise NotFound(f"no member {name!r}", hint="`vault member list` shows the members")
        return record

    def collection_ids(self) -> list[str]:
        """Every collection id in the vault (names are private to members who hold them)."""
        with Session(self.db) as session:
            return list(session.exec(select(CollectionEntry.cid).order_by(CollectionEntry.cid)))

    def holds(self, cid: str) -> bool:
        """Whether the roster gives this member the collection's current secret."""
        grant = self.roster.collections.get(cid)
        return grant is not None and self.member in grant.recipients

    def open_collection(self, cid: str) -> OpenCollection:
        """Decrypt a collection's secret and open its catalog.

        Raises:
            AccessDenied: the member was not given this collection.
            IntegrityError: its key or catalog is damaged.
        """
        if cid in self._collections:
            return self._collections[cid]
        grant = self.roster.collections.get(cid)
        if grant is None:
            raise IntegrityError("a collection in vault.db is missing from the roster")
        if self.member not in grant.recipients:
            raise AccessDenied("you have not been given this collection")
        try:
            secret = sealed.read_collection_secret(self.dir, cid, grant.version, self.keys)
        except AccessDenied:
            # The signed roster says this member holds it: failing to open it is damage.
            raise IntegrityError("a collection secret is damaged") from None
        catalog = open_catalog(self.dir, cid, secret.catalog_key)
        try:
            with Session(catalog) as session:
                info = session.get(CollectionInfo, 1)
        except DatabaseError:
            catalog.dispose()
            raise IntegrityError("a collection catalog is damaged") from None
        if info is None:
            raise IntegrityError("a collection catalog has lost its description")
        opened = OpenCollection(cid, secret, catalog, info.name)
        self._collections[cid] = opened
        return opened

    def readable_collections(self) -> Iterator[OpenCollection]:
        """Every collection this member holds, opened."""
        for cid in self.collection_ids():
            if self.holds(cid):
                yield self.open_collection(cid)

    def find_collection(self, name: str) -> OpenCollection:
        """A collection by name (or id) among those this member holds.

        Raises:
            NotFound: no collection of that name is visible to this member.
        """
        for opened in self.readable_collections():
            if name in (opened.name, opened.cid):
                return opened
        raise NotFound(
            f"no collection {name!r} that you can read",
            hint="`vault collection list` shows the collections you hold",
        )

    def forget_collection(self, cid: str) -> None:
        """Drop a cached open collection (after its keys change)."""
        opened = self._collections.pop(cid, None)
        if opened is not None:
            opened.catalog.dispose()

    def close(self) -> None:
        """Release database handles."""
        for cid in list(self._collections):
            self.forget_collection(cid)
        self.db.dispose()


def open_catalog(vault_dir: Path, cid: str, key: bytes) -> Engine:
    """Open (creating if needed) a collection's encrypted catalog."""
    path = vault_dir / "collections" / cid / "catalog.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = open_engine(path, key)
    CatalogTable.metadata.create_all(engine, tables=_tables(CatalogTable))
    with engine.begin() as conn:
        conn.exec_driver_sql(TEXT_INDEX_DDL)
    return engine


def create(
    vault_dir: Path, admin: str, passphrase: bytes, *, clock: Clock, kdf: KdfParams
) -> Context:
    """Create a new vault with its founding admin and return it unlocked.

    Raises:
        UsageError: the directory exists and is not empty.
    """
    if vault_dir.exists() and any(vault_dir.iterdir()):
        raise UsageError(f"{vault_dir} already exists and is not empty")
    vault_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    for sub in ("roster", "keys/members", "keys/collections", "objects", "log", "tmp"):
        (vault_dir / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
    vault_id = secrets.token_hex(16)
    now = clock.now()
    # The anchor is the genesis digest, which depends on the admin's keys: derive the keys from
    # a seed first, then seal the key file once the anchor is known.
    seed = os.urandom(32)
    provisional = MemberKeys(admin, seed, bytes(32))
    record = MemberRecord(
        admin,
        frozenset({"admin", "editor-in-chief"}),
        str(provisional.identity.recipient),
        provisional.verify_key.public_bytes_raw(),
    )
    roster = Roster(vault_dir)
    state = roster.append(
        RosterState(),
        signer=admin,
        key=provisional.signing_key,
        kind="genesis",
        body={"vault_id": vault_id, "admin": member_body(record)},
        at=now,
    )
    keys = MemberKeys(admin, seed, bytes.fromhex(state.anchor))
    write_key_file(vault_dir, keys, passphrase, kdf)
    vault_secret = os.urandom(32)
    write_atomic(sealed.vault_secret_path(vault_dir), sealed.seal_to([record], vault_secret))
    write_atomic(
        vault_dir / "VAULT",
        (
            f'format = {FORMAT_VERSION}\nvault_id = "{vault_id}"\ncreated = "{now.isoformat()}"\n'
        ).encode(),
    )
    ctx = _assemble(vault_dir, clock, keys, state, vault_secret)
    ctx.audit("init", vault_id, {"admin": admin})
    return ctx


def unlock(vault_dir: Path, member: str, passphrase: bytes, *, clock: Clock) -> Context:
    """Open an existing vault as a member.

    Raises:
        NotFound: not a vault.
        BadCredentials: unknown member or wrong passphrase.
        IntegrityError: the roster, key files or databases are damaged or not this vault's.
    """
    vault_id = read_vault_id(vault_dir)
    keys = read_key_file(vault_dir, member).unseal(passphrase)
    state = Roster(vault_dir).load()
    if state.anchor != keys.anchor.hex() or state.vault_id != vault_id:
        raise IntegrityError("the roster on disk is not the one this vault was created with")
    record = state.member(member)
    if record is None:
        raise AccessDenied(f"member {member!r} has been removed from this vault")
    if (
        record.recipient != str(keys.identity.recipient)
        or record.verify_key != keys.verify_key.public_bytes_raw()
    ):
        raise IntegrityError(f"the roster's keys for {member!r} are not the member's own")
    data = sealed.read_vault_secret_file(vault_dir)
    try:
        vault_secret = sealed.open_sealed(data, keys, what="this vault")
    except AccessDenied:
        # Every active member is a recipient of the vault secret: failing to open it is damage.
        raise IntegrityError("the vault secret is damaged") from None
    return _assemble(vault_dir, clock, keys, state, vault_secret)


def read_vault_id(vault_dir: Path) -> str:
    """The vault id from the clear `VAULT` file.

    Raises:
        NotFound: no vault there.
        IntegrityError: the file is damaged, or missing from a directory that holds a roster.
    """
    try:
        doc = tomllib.loads(read_vault_file(vault_dir).decode())
    except FileNotFoundError:
        if (vault_dir / "roster").is_dir():
            # A vault's other files are there: its VAULT file was deleted, not never written.
            raise IntegrityError("the VAULT file is missing") from None
        raise NotFound(
            f"{vault_dir} is not a vault", hint="give --vault DIR or set VAULT_DIR"
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        raise IntegrityError("the VAULT file is damaged") from None
    if doc.get("format") != FORMAT_VERSION or not isinstance(doc.get("vault_id"), str):
        raise IntegrityError("the VAULT file is damaged or of an unknown format")
    return str(doc["vault_id"])


def read_vault_file(vault_dir: Path) -> bytes:
    """The clear `VAULT` file's bytes, read with a bound.

    Raises:
        FileNotFoundError: there is no `VAULT` file.
        IntegrityError: it is too large or not a regular file.
    """
    return read_bounded(vault_dir / "VAULT", VAULT_FILE_LIMIT, what="the VAULT file")


def _assemble(
    vault_dir: Path, clock: Clock, keys: MemberKeys, state: RosterState, vault_secret: bytes
) -> Context:
    db = open_engine(vault_dir / "vault.db", sealed.derive(vault_secret, "vault.db"))
    VaultTable.metadata.create_all(db, tables=_tables(VaultTable))
    log = AuditLog(
        vault_dir / "log" / "audit.log",
        vault_id=state.vault_id,
        body_key=sealed.derive(vault_secret, "audit body"),
    )
    ctx = Context(
        vault_dir,
        clock,
        keys,
        state,
        vault_secret,
        db,
        log,
        ObjectStore(vault_dir),
        WriterLock(vault_dir),
    )
    pin_roster(ctx)
    _repair_audit_tail(ctx)
    return ctx


def _repair_audit_tail(ctx: Context) -> None:
    """Cut a torn final audit record left by a crash, and log that it was cut."""
    with ctx.lock:
        removed = ctx.audit_log.repair_torn_tail()
        if removed:
            ctx.audit("audit-repair", "", {"torn_bytes_removed": removed})


def pin_roster(ctx: Context) -> None:
    """Check the roster extends the head pinned in vault.db, then pin the current head.

    A roster cut back to an earlier statement (hiding a removal or a revocation) no longer
    contains the pinned head and is refused.

    Raises:
        IntegrityError: the roster was truncated or rewritten.
    """
    statements = Roster(ctx.dir).statements()
    with Session(ctx.db) as session:
        pinned = session.get(Setting, "roster_head")
        if pinned is not None:
            seq_text, _, digest = pinned.value.partition(":")
            seq = int(seq_text)
            if seq > len(statements) or statements[seq - 1].digest() != digest:
                raise IntegrityError(
                    "the roster has been cut back or rewritten since this vault last saw it"
                )
        value = f"{ctx.roster.seq}:{ctx.roster.head}"
        if pinned is None or pinned.value != value:
            session.merge(Setting(key="roster_head", value=value))
            session.commit()


def _tables(base: type[SQLModel]) -> list[Table]:
    """The tables of one database: those of `base`'s table models."""
    return [
        table
        for sub in base.__subclasses__()
        if isinstance(table := getattr(sub, "__table__", None), Table)
    ]


def now_text(at: datetime) -> str:
    """An instant as shown in receipts and listings."""
    return at.isoformat(timespec="seconds")
