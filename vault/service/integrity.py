"""`vault check`: every kind of file in the vault, checked for damage and tampering.

What is checked, and with what:
- `VAULT` (byte for byte: its creation time is the signed genesis statement's), the roster chain
  and its pinned head (anyone who can unlock);
- every active member's key file, against the public key in the signed roster;
- `vault.db` and the catalog of every collection the member holds (SQLCipher page HMACs and
  SQLite's structure check);
- every document the catalogs name: its object exists — and, with `read_data`, decrypts, has
  the right address (HMAC) and padding;
- objects no readable catalog names, and leftovers in `tmp/` (orphans: reported, never deleted);
- that `vault.db` holds a policy set that loads and verifies (a replaced `vault.db` has none);
- the audit log's chain and every entry's signature, and every checkpoint stored in
  `log/checkpoints/`: its bytes, its signature, and — for the newest — that the log still holds
  it, so a log cut short or deleted below it is reported. A checkpoint the log records but that
  is not stored is a warning: a crash between the two writes leaves the same thing; so is a
  torn final record cut off after the newest checkpoint (`vault.audit.repairs`);
- that every release the log records as done is recorded released in `vault.db`, and that
  embargoes and document statuses are what the log last set (`vault.service.freshness`): a
  `vault.db` or catalog rolled back past a recorded change is damage, a change interrupted
  before its database held it a warning.

A member who does not hold every collection cannot tell an orphan from another collection's
object; the report says so instead of guessing.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlmodel import Session, select

from vault import canonical
from vault.audit import Checkpoint
from vault.audit.repairs import RepairWatch
from vault.catalog.engine import integrity_problems
from vault.catalog.models import Document
from vault.catalog.releases import ReleaseRow
from vault.errors import IntegrityError, VaultError
from vault.keys import sealed
from vault.keys.member import read_key_file
from vault.keys.roster import Roster
from vault.service import freshness
from vault.service.context import (
    FORMAT_VERSION,
    Context,
    OpenCollection,
    read_vault_file,
    read_vault_id,
)
from vault.service.governance import active_policy
from vault.store.atomic import is_temp_name
from vault.store.objects import check_oid

_READERS = max(1, os.cpu_count() or 1)
_SLICE = 256  # documents handed to the readers at once: bounds the futures held


@dataclass
class CheckReport:
    """Problems found (integrity failures) and warnings (orphans, things not checkable)."""

    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when no integrity problem was found."""
        return not self.problems


def check(
    ctx: Context, *, read_data: bool = False, progress: Callable[[int, int], None] | None = None
) -> CheckReport:
    """Check the whole vault as far as this member can see it."""
    ctx.audit("check", "", {"read_data": read_data})
    report = CheckReport()
    _guard(report, "VAULT", lambda: _check_vault_file(ctx))
    _guard(report, "roster", lambda: _check_roster(ctx))
    _check_key_files(ctx, report)
    _guard(report, "vault secret", lambda: _check_vault_secret(ctx))
    for problem in integrity_problems(ctx.db):
        report.problems.append(f"vault.db: {problem}")
    _guard(report, "vault.db", lambda: _check_policy(ctx))
    referenced = _check_collections(ctx, report, read_data, progress)
    _check_orphans(ctx, report, referenced)
    _check_audit(ctx, report)
    return report


def _guard(report: CheckReport, where: str, step: Callable[[], None]) -> None:
    try:
        step()
    except VaultError as exc:
        report.problems.append(f"{where}: {exc.message}")


def _check_vault_file(ctx: Context) -> None:
    if read_vault_id(ctx.dir) != ctx.vault_id:
        raise IntegrityError("names another vault")
    # The file is in clear; every byte of it is fixed by the signed roster: `create` writes the
    # genesis statement's instant as `created`. So it must be exactly what `create` wrote.
    data = read_vault_file(ctx.dir)
    created = tomllib.loads(data.decode()).get("created")
    genesis = Roster(ctx.dir).statements()[0]
    expected = f'format = {FORMAT_VERSION}\nvault_id = "{ctx.vault_id}"\ncreated = "{created}"\n'
    try:
        same_time = datetime.fromisoformat(str(created)) == canonical.parse_instant(
            genesis.at, what="the roster's genesis time"
        )
    except ValueError:
        same_time = False
    if data != expected.encode() or not same_time:
        raise IntegrityError("has been altered (it differs from what the signed roster implies)")


def _check_policy(ctx: Context) -> None:
    """A vault always has a verified policy set: `init` installs version 1."""
    try:
        active_policy(ctx)
    except VaultError as exc:
        raise IntegrityError(f"no usable policy set: {exc.message}") from None


def _check_roster(ctx: Context) -> None:
    state = Roster(ctx.dir).load()
    if state.head != ctx.roster.head:
        raise IntegrityError("changed while the check was running")


def _check_vault_secret(ctx: Context) -> None:
    data = sealed.read_vault_secret_file(ctx.dir)
    if sealed.open_sealed(data, ctx.keys, what="the vault secret") != ctx.vault_secret:
        raise IntegrityError("is not the secret this vault was opened with")


def _check_key_files(ctx: Context, report: CheckReport) -> None:
    members_dir = ctx.dir / "keys" / "members"
    active = {m.name: m for m in ctx.roster.active_members()}
    for path in sorted(members_dir.iterdir()):
        if is_temp_name(path.name):
            report.warnings.append(f"keys/members/{path.name}: leftover of an interrupted write")
            continue
        name = path.name.removesuffix(".key")
        if name not in active:
            report.problems.append(f"keys/members/{path.name}: not a member of the roster")
    for name, record in active.items():
        where = f"keys/members/{name}.key"
        try:
            read_key_file(ctx.dir, name).verify_signature(record.public_key())
        except VaultError as exc:
            report.problems.append(f"{where}: {exc.message}")
    report.checked["key files"] = len(active)


def _check_collections(
    ctx: Context,
    report: CheckReport,
    read_data: bool,
    progress: Callable[[int, int], None] | None,
) -> set[str]:
    referenced: set[str] = set()
    documents = 0
    for cid in ctx.collection_ids():
        if not ctx.holds(cid):
            report.warnings.append(f"collection {cid}: not checked (you do not hold it)")
            continue
        try:
            opened = ctx.open_collection(cid)
        except VaultError as exc:
            report.problems.append(f"collection {cid}: {exc.message}")
            continue
        _check_secret_versions(ctx, report, cid)
        for problem in integrity_problems(opened.catalog):
            report.problems.append(f"collection {cid} catalog: {problem}")
        try:
            with Session(opened.catalog) as session:
                docs = list(session.exec(select(Document)))
        except Exception:
            report.problems.append(f"collection {cid} catalog: cannot be read")
            continue
        check_object = partial(_object_problem, ctx, opened, read_data)
        # Decryption and hashing release the GIL: with read_data, one object per core at once.
        with ThreadPoolExecutor(_READERS if read_data else 1) as pool:
            for start in range(0, len(docs), _SLICE):
                for doc, found in zip(
                    docs[start : start + _SLICE],
                    pool.map(check_object, docs[start : start + _SLICE]),
                    strict=True,
                ):
                    referenced.add(doc.oid)
                    documents += 1
                    if found is not None:
                        report.problems.append(found)
                    if progress is not None:
                        progress(documents, len(docs))
    report.checked["documents"] = documents
    return referenced


def _object_problem(
    ctx: Context, opened: OpenCollection, read_data: bool, doc: Document
) -> str | None:
    """What is wrong with one document's object, if anything (runs on a reader thread)."""
    try:
        if not ctx.store.exists(doc.oid):
            raise IntegrityError("object is missing")
        if read_data:
            ctx.store.verify(doc.oid, size=doc.size, keys=opened.secret.object_keys)
    except VaultError as exc:
        return f"collection {opened.name!r} document {doc.oid[:12]}: {exc.message}"
    return None


def _check_secret_versions(ctx: Context, report: CheckReport, cid: str) -> None:
    """Every key version this member was given must open; no other version file may exist."""
    grant = ctx.roster.collections[cid]
    folder = ctx.dir / "keys" / "collections" / cid
    expected = {f"v{v}.age" for v in range(1, grant.version + 1)}
    for path in sorted(folder.iterdir()):
        if path.name not in expected:
            report.problems.append(f"keys/collections/{cid}/{path.name}: not in the roster")
    for version in range(1, grant.version + 1):
        if not grant.held_by(ctx.member, version):
            continue
        try:
            sealed.read_collection_secret(ctx.dir, cid, version, ctx.keys)
        except VaultError as exc:
            report.problems.append(f"keys/collections/{cid}/v{version}.age: {exc.message}")


def _check_orphans(ctx: Context, report: CheckReport, referenced: set[str]) -> None:
    holds_all = all(ctx.holds(cid) for cid in ctx.collection_ids())
    for name in ctx.store.list_oids():
        prefix, _, oid = name.partition("/")
        try:
            check_oid(oid)
            if oid[:2] != prefix:
                raise IntegrityError("misplaced")
        except IntegrityError:
            report.problems.append(f"objects/{name}: not a valid object name")
            continue
        if oid not in referenced and holds_all:
            report.warnings.append(f"objects/{name}: orphan (no catalog names it)")
    leftovers = sorted(p.name for p in ctx.store.tmp.iterdir()) if ctx.store.tmp.is_dir() else []
    for name in leftovers:
        report.warnings.append(f"tmp/{name}: orphan from an interrupted write")


def _check_audit(ctx: Context, report: CheckReport) -> None:
    def key_of(name: str) -> Ed25519PublicKey | None:
        record = ctx.roster.members.get(name)
        return record.public_key() if record else None

    stored = _stored_checkpoints(ctx, report, key_of)
    newest = max(stored.values(), key=lambda point: point.seq, default=None)
    result = ctx.audit_log.verify(key_of, checkpoint=newest)
    report.problems.extend(f"audit log: {p}" for p in result.problems)
    report.checked["audit entries"] = result.entries
    if result.ok:
        logged: set[int] = set()
        released: set[str] = set()
        changes = freshness.LoggedChanges()
        repairs = RepairWatch()
        for entry in ctx.audit_log.entries():
            changes.see(entry)
            repairs.see(entry)
            if entry.action == "audit-checkpoint":
                logged.add(entry.seq)
            elif entry.action == "release-done":
                released.add(entry.target)
        _check_releases(ctx, report, released)
        for found in freshness.check_all(ctx, changes):
            shown = report.problems if found.rolled_back else report.warnings
            shown.append(f"{found.where} {found.message}")
        report.warnings += repairs.warnings(stored_checkpoint=newest.seq if newest else 0)
        for seq in sorted(logged - set(stored)):
            report.warnings.append(
                f"log/checkpoints/{seq:012d}.json: the checkpoint logged at seq {seq} is not "
                "stored (deleted, or a crash cut its write short); compare your exported copies"
            )


def _check_releases(ctx: Context, report: CheckReport, done: set[str]) -> None:
    """A release is logged done only after vault.db records it released (DESIGN §9), so a
    crash cannot leave the log ahead of vault.db here: a mismatch is a vault.db rolled back or
    rewritten, which would let an approved release run a second time."""
    with Session(ctx.db) as session:
        states = {row.id: row.state for row in session.exec(select(ReleaseRow))}
    for ident in sorted(done):
        state = states.get(ident, "missing")
        if state != "released":
            report.problems.append(
                f"vault.db: release {ident} is logged as done but recorded as {state} "
                "(vault.db was rolled back or altered)"
            )


def _stored_checkpoints(
    ctx: Context, report: CheckReport, key_of: Callable[[str], Ed25519PublicKey | None]
) -> dict[int, Checkpoint]:
    """The checkpoints in `log/checkpoints/` that are intact and signed by a roster member."""
    folder = ctx.dir / "log" / "checkpoints"
    found: dict[int, Checkpoint] = {}
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        where = f"log/checkpoints/{path.name}"
        if is_temp_name(path.name):
            report.warnings.append(f"{where}: leftover of an interrupted write")
            continue
        if path.is_symlink() or not path.is_file() or path.stat().st_size > 64 * 1024:
            report.problems.append(f"{where}: not a stored checkpoint")  # never read unbounded
            continue
        try:
            data = path.read_bytes()
            point = Checkpoint.from_json(data.decode("utf-8"))
            key = key_of(point.signer)
            if key is None:
                raise IntegrityError(f"signed by {point.signer!r}, who is not in the roster")
            point.verify_signature(key)
            if point.vault_id != ctx.vault_id:
                raise IntegrityError("is another vault's")
            if path.name != f"{point.seq:012d}.json" or data != point.to_json().encode():
                raise IntegrityError("has been altered")
        except UnicodeDecodeError:
            report.problems.append(f"{where}: has been altered")
        except VaultError as exc:
            report.problems.append(f"{where}: {exc.message}")
        else:
            found[point.seq] = point
    report.checked["stored checkpoints"] = len(found)
    return found
