"""Freshness: `vault.db` and the catalogs cross-checked against the audit log.

SQLCipher authenticates a database's pages, not their age: `vault.db` copied before an embargo
extension and put back after it, or a catalog put back past a document marked forged, opens
and passes every page check. The audit log does not roll back unseen — it is hash-chained and
signed, and its head is anchored by exported checkpoints — so the last logged change of each
embargo and of each document's status is what the databases must hold.

Every such change is logged before it is made (`embargo-set`, `embargo-lift`, `mark`: the
*intent*; so are changes of the clock guard's quorum, `time-quorum`, and of the DKIM key
archive, `dkim-import`, with the archive's digest), and once the database holds it a second
entry confirms it (`recorded`, naming the
intent's seq and action). So a database that disagrees with the log is:

- **rolled back or altered** when the log confirms the change was recorded: damage;
- **interrupted** when it does not: a crash between the intent and the write leaves exactly
  this (as would a rollback of that one unconfirmed change; either way the log's value and the
  database's are both shown, and release refuses until the change is made again).

A database that agrees with the intent is consistent whether or not the confirmation was
written (a crash after the write and before the confirmation). Intents logged before
confirmations existed are judged the same way: agreement is consistent, disagreement is shown
as interrupted. Statuses other than `unverified` and embargo rows must have a logged intent.

The cross-check reads the log once (`LoggedChanges.see` per entry, fed by the caller's pass).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select

from vault.audit import Entry, Head
from vault.catalog.governance import EmbargoRow
from vault.catalog.models import Document, Setting
from vault.errors import AuditUnavailable, IntegrityError, Refused, VaultError
from vault.service.context import Context, OpenCollection

RECORDED = "recorded"
UNVERIFIED = "unverified"
QUORUM_SETTING = "time_confirm_quorum"
DKIM_SETTING = "dkim_keys"

K = TypeVar("K", tuple[str, str], str)


@dataclass(frozen=True)
class Logged:
    """The last logged change of one thing: its seq, the value it sets, whether confirmed."""

    seq: int
    value: str | None  # an embargo's `until` (None: lifted) or a document's status
    recorded: bool = False


@dataclass
class LoggedChanges:
    """The last logged embargo change per target and status change per document."""

    embargoes: dict[tuple[str, str], Logged] = field(default_factory=dict)
    marks: dict[str, Logged] = field(default_factory=dict)
    quorum: Logged | None = None  # the clock guard's quorum (`time-quorum`)
    dkim: Logged | None = None  # the SHA-256 of the DKIM key archive (`dkim-import`)

    def see(self, entry: Entry) -> None:
        """Take one audit entry into account (entries must come in log order)."""
        details = entry.details
        if entry.action == "embargo-set":
            key = (str(details.get("kind")), entry.target)
            until = details.get("until")
            self.embargoes[key] = Logged(entry.seq, until if isinstance(until, str) else "")
        elif entry.action == "embargo-lift":
            self.embargoes[(str(details.get("kind")), entry.target)] = Logged(entry.seq, None)
        elif entry.action == "mark":
            status = details.get("to")
            self.marks[entry.target] = Logged(entry.seq, status if isinstance(status, str) else "")
        elif entry.action == "time-quorum":
            self.quorum = Logged(entry.seq, str(details.get("quorum")))
        elif entry.action == "dkim-import":
            digest = details.get("digest")
            self.dkim = Logged(entry.seq, digest if isinstance(digest, str) else None)
        elif entry.action == RECORDED:
            of, kind, seq = details.get("of"), details.get("kind"), details.get("seq")
            if of == "time-quorum" and self.quorum is not None and self.quorum.seq == seq:
                self.quorum = replace(self.quorum, recorded=True)
            elif of == "dkim-import" and self.dkim is not None and self.dkim.seq == seq:
                self.dkim = replace(self.dkim, recorded=True)
            elif of == "mark":
                self._confirm(self.marks, entry.target, seq)
            elif of in ("embargo-set", "embargo-lift") and isinstance(kind, str):
                self._confirm(self.embargoes, (kind, entry.target), seq)

    @staticmethod
    def _confirm(changes: dict[K, Logged], key: K, seq: object) -> None:
        logged = changes.get(key)
        if logged is not None and logged.seq == seq:
            changes[key] = replace(logged, recorded=True)


def scan(ctx: Context) -> LoggedChanges:
    """One pass over the audit log.

    Raises:
        IntegrityError: the log is damaged.
    """
    changes = LoggedChanges()
    for entry in ctx.audit_log.entries():
        changes.see(entry)
    return changes


def confirm(ctx: Context, action: str, target: str, intent: Head, kind: str = "") -> None:
    """Log that the change logged as `intent` (an `action` on `target`) is now held by its
    database.

    The change is made already; a confirmation that cannot be written only leaves it looking
    interrupted to the cross-check, so the failure is not turned into an error of the change.
    """
    details: dict[str, int | str] = {"seq": intent.seq, "of": action}
    if kind:
        details["kind"] = kind
    with suppress(AuditUnavailable):
        ctx.audit(RECORDED, target, details)


@dataclass(frozen=True)
class Disagreement:
    """A database that does not hold what the log says it should."""

    where: str
    message: str
    rolled_back: bool


def embargo_disagreements(
    ctx: Context, changes: LoggedChanges, targets: Iterable[tuple[str, str]] | None = None
) -> list[Disagreement]:
    """Embargoes in `vault.db` against their last logged change (all, or only `targets`)."""
    with Session(ctx.db) as session:
        stored = {
            (r.target_kind, r.target_id): r.until_utc for r in session.exec(select(EmbargoRow))
        }
    keys = set(stored) | set(changes.embargoes) if targets is None else set(targets)
    found = []
    for kind, target in sorted(keys):
        held = stored.get((kind, target))
        logged = changes.embargoes.get((kind, target))
        where = f"vault.db: the embargo on {kind} {target}"
        if logged is None:
            if held is not None:
                found.append(
                    Disagreement(where, "is not in the audit log (vault.db was altered)", True)
                )
            continue
        if _same_instant(held, logged.value):
            continue
        says = f"until {logged.value}" if logged.value else "lifted"
        has = f"until {held}" if held else "none"
        found.append(_disagreement(where, f"is {has}, but the audit log says {says}", logged))
    return found


def mark_disagreements(
    changes: LoggedChanges, opened: OpenCollection, oids: Iterable[str] | None = None
) -> list[Disagreement]:
    """Document statuses in a catalog against their last logged mark (all, or only `oids`)."""
    with Session(opened.catalog) as session:
        statuses = {d.oid: d.status for d in session.exec(select(Document))}
    found = []
    for oid in sorted(statuses if oids is None else set(oids) & set(statuses)):
        status = statuses[oid]
        logged = changes.marks.get(oid)
        where = f"collection {opened.name!r} catalog: document {oid}"
        if logged is None:
            if status != UNVERIFIED:
                found.append(
                    Disagreement(
                        where,
                        f"is marked {status} but no mark is in the "
                        "audit log (the catalog was altered)",
                        True,
                    )
                )
        elif logged.value != status:
            found.append(
                _disagreement(
                    where,
                    f"is marked {status}, but the audit log's last mark says {logged.value}",
                    logged,
                )
            )
    return found


def quorum_disagreement(stored: str | None, changes: LoggedChanges) -> Disagreement | None:
    """The clock guard's quorum in `vault.db` (None: not set) against its last logged change."""
    where = "vault.db: the clock guard's quorum"
    logged = changes.quorum
    if logged is None:
        if stored is None:
            return None
        return Disagreement(
            where,
            f"is {stored}, but no change of it is in the audit log (vault.db was altered)",
            True,
        )
    if stored == logged.value:
        return None
    return _disagreement(
        where, f"is {stored or 'the default'}, but the audit log says {logged.value}", logged
    )


def dkim_digest(archive_text: str) -> str:
    """What a `dkim-import` entry records of the archive it leaves: its SHA-256."""
    return hashlib.sha256(archive_text.encode()).hexdigest()


def dkim_disagreement(ctx: Context, changes: LoggedChanges) -> Disagreement | None:
    """The DKIM key archive in `vault.db` against the digest its last import logged.

    Imports logged before digests were recorded cannot be compared and are taken as they are.
    """
    with Session(ctx.db) as session:
        row = session.get(Setting, DKIM_SETTING)
    where = "vault.db: the DKIM key archive"
    logged = changes.dkim
    if logged is None:
        if row is None or not row.value:
            return None
        return Disagreement(where, "is not in the audit log (vault.db was altered)", True)
    if logged.value is None or (row is not None and dkim_digest(row.value) == logged.value):
        return None
    return _disagreement(where, "is not the archive the last import logged", logged)


def check_all(ctx: Context, changes: LoggedChanges) -> list[Disagreement]:
    """Every embargo, and the statuses in every catalog this member holds.

    A database that cannot be read is skipped: `vault check` reports its damage on its own.
    """
    found: list[Disagreement] = []
    with suppress(SQLAlchemyError):
        found += embargo_disagreements(ctx, changes)
        with Session(ctx.db) as session:
            row = session.get(Setting, QUORUM_SETTING)
        quorum = quorum_disagreement(None if row is None else row.value, changes)
        found += [quorum] if quorum else []
        dkim = dkim_disagreement(ctx, changes)
        found += [dkim] if dkim else []
    for cid in ctx.collection_ids():
        with suppress(VaultError, SQLAlchemyError):
            if ctx.holds(cid):
                found += mark_disagreements(changes, ctx.open_collection(cid))
    return found


def require_fresh(
    ctx: Context, opened: OpenCollection, oids: Iterable[str], changes: LoggedChanges
) -> None:
    """Refuse a release unless its embargoes and statuses are what the log says.

    Args:
        ctx: the unlocked vault.
        opened: the released collection.
        oids: the released documents.
        changes: the log's changes, read by the caller's pass over it (the clock guard's).

    Raises:
        IntegrityError: a database was rolled back or altered past a confirmed change.
        Refused: a change was interrupted before its database held it.
    """
    wanted = list(oids)
    targets = [("collection", opened.cid), *(("document", oid) for oid in wanted)]
    found = embargo_disagreements(ctx, changes, targets) + mark_disagreements(
        changes, opened, wanted
    )
    for disagreement in found:
        if disagreement.rolled_back:
            raise IntegrityError(
                f"{disagreement.where} {disagreement.message}",
                hint="`vault check` reports it; nothing was released",
            )
    if found:
        first = found[0]
        raise Refused(
            f"{first.where} {first.message}",
            hint="make that change again (or compare the vault with an exported "
            "checkpoint); nothing was released",
        )


def _disagreement(where: str, message: str, logged: Logged) -> Disagreement:
    if logged.recorded:
        return Disagreement(
            where,
            f"{message} (seq {logged.seq}, recorded): the database was rolled back or altered",
            True,
        )
    return Disagreement(
        where,
        f"{message} (seq {logged.seq}): the change was interrupted "
        "before it was recorded, or the database rolled back past it",
        False,
    )


def _same_instant(held: str | None, logged: str | None) -> bool:
    if held is None or logged is None:
        return held is logged
    try:
        return datetime.fromisoformat(held) == datetime.fromisoformat(logged)
    except ValueError:
        return held == logged
