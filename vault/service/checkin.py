"""Check-in: files and folders into a collection, with a receipt for every item.

One pass per file reads, addresses and encrypts it into `tmp/` (`ObjectStore.stage`). Staged
objects are committed in batches: made durable and renamed into place first, then their catalog
rows are written in one transaction. The intake's audit entry is written before anything is
read; a closing entry records the counts and the receipt's digest once the batch is durable.
Symlinks, FIFOs, sockets and devices are reported and skipped, never followed or opened. One bad
item never aborts the batch; cancelling stops between files, and what was committed stays.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import insert
from sqlmodel import Session, col, select

from vault.catalog.models import Document, Intake, Occurrence
from vault.errors import Cancelled
from vault.ingest.names import escape
from vault.ingest.walk import Found, open_regular, walk
from vault.service.context import Context, OpenCollection
from vault.service.receipt import ItemResult, Outcome, Progress, Receipt
from vault.store.objects import Staged

BATCH_FILES = 512
BATCH_BYTES = 256 * 1024 * 1024

SKIP_REASONS = {
    "symlink": "symbolic link: recorded, not followed",
    "fifo": "named pipe: not a file, not opened",
    "socket": "socket: not a file, not opened",
    "device": "device file: not opened",
    "other": "not a regular file",
    "missing": "no such file",
}


@dataclass
class _Pending:
    staged: Staged
    found: Found
    display: str


@dataclass
class _Run:
    ctx: Context
    collection: OpenCollection
    intake_id: int
    receipt: Receipt
    progress: Callable[[Progress], None] | None
    total_files: int
    total_bytes: int
    pending: list[_Pending] = field(default_factory=list)
    pending_bytes: int = 0
    done_files: int = 0
    done_bytes: int = 0


def check_in(
    ctx: Context,
    paths: list[Path],
    *,
    collection: str,
    source: str = "",
    medium: str = "",
    progress: Callable[[Progress], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> Receipt:
    """Check files and folders into a collection.

    Args:
        paths: files and folders to check in (folders recursively).
        collection: the collection's name.
        source: where the material came from, in the desk's words.
        medium: what it arrived on (USB stick, download, …).
        progress: called after each file with running totals.
        cancel: polled between files and chunks; True stops the run cleanly.

    Returns:
        The receipt; `receipt.cancelled` tells whether the run was cut short.
    """
    opened = ctx.find_collection(collection)
    entries = list(walk(paths))
    files = [e for e in entries if e.kind == "file"]
    roots = ", ".join(escape(str(p.absolute())) for p in paths)
    with ctx.lock:
        ctx.audit(
            "checkin",
            opened.cid,
            {"source": source, "medium": medium, "paths": len(paths), "files": len(files)},
        )
        with Session(opened.catalog) as session:
            intake = Intake(
                member=ctx.member, at=ctx.clock.now(), source=source, medium=medium, root=roots
            )
            session.add(intake)
            session.commit()
            assert intake.id is not None
            intake_id = intake.id
        receipt = Receipt(intake_id, opened.name, source)
        run = _Run(
            ctx, opened, intake_id, receipt, progress, len(files), sum(f.size for f in files)
        )
        try:
            for entry in entries:
                if cancel is not None and cancel():
                    raise Cancelled("check-in cancelled")
                _take(run, entry, cancel)
                if len(run.pending) >= BATCH_FILES or run.pending_bytes >= BATCH_BYTES:
                    _flush(run)
            _flush(run)
        except Cancelled:
            ctx.store.discard([p.staged for p in run.pending])
            run.pending.clear()
            receipt.cancelled = True
        ctx.audit(
            "checkin-done",
            opened.cid,
            {
                "intake": intake_id,
                **receipt.counts(),
                "cancelled": receipt.cancelled,
                "receipt_sha256": _digest(receipt),
            },
        )
    return receipt


def _take(run: _Run, entry: Found, cancel: Callable[[], bool] | None) -> None:
    display = escape(str(entry.path))
    if entry.kind == "dir":
        return
    if entry.kind != "file":
        reason = entry.error or SKIP_REASONS[entry.kind]
        outcome: Outcome = "failed" if entry.kind == "missing" or entry.error else "skipped"
        run.receipt.items.append(ItemResult(display, outcome, reason=reason))
        return
    secret = run.collection.secret
    try:
        with open_regular(entry) as src:
            staged = run.ctx.store.stage(
                src, id_key=secret.id_key, recipient=secret.current.recipient, cancelled=cancel
            )
    except OSError as exc:
        run.receipt.items.append(
            ItemResult(display, "failed", reason=f"cannot read: {exc.strerror or exc}")
        )
        return
    run.pending.append(_Pending(staged, entry, display))
    run.pending_bytes += staged.size
    run.done_files += 1
    run.done_bytes += staged.size
    if run.progress is not None:
        run.progress(
            Progress(run.done_files, run.done_bytes, run.total_files, run.total_bytes, 0, display)
        )


def _flush(run: _Run) -> None:
    """Commit the staged batch: objects durable first, then their rows in one transaction."""
    if not run.pending:
        return
    ctx, opened = run.ctx, run.collection
    fresh = ctx.store.commit([p.staged for p in run.pending])
    now = ctx.clock.now()
    oids = {p.staged.oid for p in run.pending}
    documents: list[dict[str, object]] = []
    occurrences: list[dict[str, object]] = []
    with Session(opened.catalog) as session:
        known = set(session.exec(select(Document.oid).where(col(Document.oid).in_(oids))))
        for pending, new in zip(run.pending, fresh, strict=True):
            staged = pending.staged
            is_new = staged.oid not in known
            if is_new:
                known.add(staged.oid)
                documents.append(
                    {
                        "oid": staged.oid,
                        "name": escape(pending.found.path.name),
                        "size": staged.size,
                        "sha256": staged.sha256,
                        "key_version": opened.secret.version,
                        "mime": "application/octet-stream",
                        "description": "",
                        "flags": "",
                        "status": "unverified",
                        "first_seen": now,
                    }
                )
            occurrences.append(
                {
                    "oid": staged.oid,
                    "intake_id": run.intake_id,
                    "parent_oid": None,
                    "path": escape(pending.found.rel),
                    "raw_path": os.fsencode(pending.found.rel).decode("utf-8", "backslashreplace"),
                }
            )
            result: Outcome = "new" if is_new and new else "duplicate"
            run.receipt.items.append(
                ItemResult(pending.display, result, oid=staged.oid, size=staged.size)
            )
        if documents:
            session.execute(insert(Document), documents)
        session.execute(insert(Occurrence), occurrences)
        session.commit()
    run.pending.clear()
    run.pending_bytes = 0


def _digest(receipt: Receipt) -> str:
    text = json.dumps(receipt.to_json(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
