"""Check-in: files, folders, archives and mailboxes into a collection, with a receipt.

Each item is read once: a `Tap` keeps its head and tail while `ObjectStore.stage` addresses and
encrypts it into `tmp/`. Regular files are staged a few ahead on two threads, so large files keep
both cores busy; everything after staging happens in order on the calling thread. The head and
tail go to the sandboxed type detector, which works while the next items are encrypted. An item
whose content is a container (by its bytes, never its name) is opened through a seekable view of
its own staged ciphertext, and its members are checked in as children, recursively, within the
intake's `Limits`.

Staged objects are committed in batches: made durable and renamed into place first, then their
catalog rows written in one transaction, so a row never names an object that could be lost; its
text is indexed on a writer thread while the next batch is staged. The intake's audit entry is
written before anything is read; a closing entry records the counts and the receipt's digest.
Links, FIFOs, sockets and devices are reported and skipped, never followed or opened. One bad item
never aborts the batch; cancelling stops between chunks, and what was committed stays.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import insert, update
from sqlmodel import Session, col, select

from vault.catalog.models import Document, Intake, Occurrence
from vault.errors import Cancelled, VaultError
from vault.ingest.containers import ContainerKind, Member, members, sniff
from vault.ingest.detect import MAX_HEAD, MAX_TAIL, Detection, Detector, Sample
from vault.ingest.limits import Budget, LimitExceeded, Limits
from vault.ingest.names import decode_name, escape
from vault.ingest.tap import Tap
from vault.ingest.walk import Found, open_regular, walk
from vault.review.extract import Extractor
from vault.service import indexing
from vault.service.authorize import authorize
from vault.service.context import Context, OpenCollection
from vault.service.indexing import NewDocument
from vault.service.receipt import ItemResult, Outcome, Progress, Receipt
from vault.store.objects import Staged

# A batch is as many files as the index writes in one group (`indexing.GROUP`): each commit then
# hands the writer a whole group, and waits for its catalog less often than with smaller
# batches (512: 33.2-34.0 s for (b), 2,048: 29.7-32.5 s, 4,096: 33.3-35.9 s and 80 MiB more).
BATCH_FILES = 2048
BATCH_BYTES = 256 * 1024 * 1024
IN_FLIGHT = 128  # detections awaited at most; bounds the samples held in memory
# Small items are kept whole in memory until their batch is indexed, so containers among them
# are opened and their text extracted without decrypting them again; bounded per batch.
KEEP_ITEM = 256 * 1024
KEEP_BATCH = 32 * 1024 * 1024
SEND_BATCH = 32  # samples handed to the detection pool at once: one wake-up for many items
# Files staged at once: OpenSSL hashes and seals without the GIL, so two keep both cores busy.
STAGERS = 2
# Files staged ahead of the one being admitted, so the stagers keep working while this thread
# admits small files; the head and tail samples their taps hold bound how far large files go.
AHEAD = 16
AHEAD_BYTES = 8 * 1024 * 1024

SKIP_REASONS = {
    "symlink": "symbolic link: recorded, not followed",
    "hardlink": "hard link: recorded, not followed",
    "fifo": "named pipe: not a file, not opened",
    "socket": "socket: not a file, not opened",
    "device": "device file: not opened",
    "dir": "folder",
    "other": "not a regular file",
    "missing": "no such file",
}


@dataclass
class Origin:
    """Where an item was found: its path, its container and what its name revealed."""

    display: str  # the path shown in the receipt
    name: str  # the document name (last path component), escaped
    path: str  # path relative to the intake root or inside the container, escaped
    raw_path: str  # the path as found, escaped losslessly
    parent: str | None = None  # the container's object id
    container: str | None = None  # the container's display path
    depth: int = 0
    flags: set[str] = field(default_factory=set)
    ancestors: frozenset[str] = frozenset()  # object ids of the containers above it


@dataclass
class _Pending:
    staged: Staged
    origin: Origin
    data: bytes | None = None  # the plaintext, for a small item
    detection: Future[Detection] | None = None  # set once the sample is sent
    receipt_index: int | None = None  # set once committed


@dataclass
class _Run:
    ctx: Context
    collection: OpenCollection
    intake_id: int
    receipt: Receipt
    detector: Detector
    limits: Limits
    budget: Budget
    progress: Callable[[Progress], None] | None
    cancel: Callable[[], bool] | None
    total_files: int
    total_bytes: int
    extractor: Extractor | None = None  # started on the first document with text
    index_writer: indexing.IndexWriter = field(default_factory=indexing.IndexWriter)
    pending: list[_Pending] = field(default_factory=list)
    # Samples not yet handed to detection; dropped once sent (heads can be large).
    unsent: list[tuple[_Pending, Sample]] = field(default_factory=list)
    indexing: indexing.Indexing | None = None  # the last batch's extractions, not yet written
    in_flight: deque[Future[Detection]] = field(default_factory=deque)
    pending_bytes: int = 0
    kept_bytes: int = 0
    done_files: int = 0
    done_bytes: int = 0
    flagged: int = 0

    def cancelled(self) -> bool:
        return self.cancel is not None and self.cancel()

    def text_extractor(self) -> Extractor:
        if self.extractor is None:
            # Not waiting: the workers warm up (a second or so) while the next batch is staged.
            self.extractor = Extractor(wait=False)
        return self.extractor


def check_in(
    ctx: Context,
    paths: list[Path],
    *,
    collection: str,
    source: str = "",
    medium: str = "",
    limits: Limits | None = None,
    progress: Callable[[Progress], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    detector: Callable[[], Detector] | None = None,
) -> Receipt:
    """Check files, folders and the containers among them into a collection.

    Args:
        paths: files and folders to check in (folders recursively).
        collection: the collection's name.
        source: where the material came from, in the desk's words.
        medium: what it arrived on (USB stick, download, …).
        limits: how far containers are expanded; safe defaults.
        progress: called after each item with running totals.
        cancel: polled between chunks, from the staging threads too; True stops the run
            cleanly.
        detector: makes the type detector (tests inject failing ones); by default its workers
            start while the first files are staged.

    Returns:
        The receipt; `receipt.cancelled` tells whether the run was cut short.
    """
    opened = ctx.find_collection(collection)
    authorize(ctx, "checkin", collection_cid=opened.cid)
    entries = list(walk(paths))
    files = [e for e in entries if e.kind == "file"]
    roots = ", ".join(escape(str(p.absolute())) for p in paths)
    limits = limits or Limits()
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
        with (detector or _starting_detector)() as running:
            run = _Run(
                ctx,
                opened,
                intake_id,
                receipt,
                running,
                limits,
                Budget(limits),
                progress,
                cancel,
                len(files),
                sum(f.size for f in files),
            )
            try:
                _take_all(run, entries)
                _flush(run)
                _finish_index(run)
            except Cancelled:
                _finish_index(run)
                ctx.store.discard([p.staged for p in run.pending])
                run.pending.clear()
                run.unsent.clear()
                receipt.cancelled = True
            finally:
                ctx.store.discard([p.staged for p in run.pending])  # none, unless it failed
                run.index_writer.close()
                if run.extractor is not None:
                    run.extractor.close()
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


@dataclass(frozen=True)
class _Staging:
    """An item encrypted into `tmp/`, with what its tap kept for detection."""

    staged: Staged
    tap: Tap


def _take_all(run: _Run, entries: Iterable[Found]) -> None:
    """Stage the regular files a few ahead on `STAGERS` threads; admit every entry in order.

    Only the one pass over each file's bytes runs on the stagers; detection, containers and the
    catalog stay on this thread, so the receipt lists entries in the order they were found.
    """
    stop = threading.Event()

    def cancelled() -> bool:
        return stop.is_set() or run.cancelled()

    ahead: deque[tuple[Found, Future[_Staging | str] | None]] = deque()
    held = 0  # bytes the taps of the files ahead may hold
    with ThreadPoolExecutor(STAGERS, thread_name_prefix="stage") as stagers:
        try:
            for entry in entries:
                if run.cancelled():
                    raise Cancelled("check-in cancelled")
                staging = (
                    stagers.submit(_stage_file, run, entry, cancelled)
                    if entry.kind == "file"
                    else None
                )
                ahead.append((entry, staging))
                held += _tapped(entry)
                while len(ahead) > AHEAD or (len(ahead) > 1 and held > AHEAD_BYTES):
                    taken = ahead.popleft()
                    held -= _tapped(taken[0])
                    _take(run, *taken)
            while ahead:
                _take(run, *ahead.popleft())
        finally:
            stop.set()  # what is still being staged stops at its next chunk
            for _, staging in ahead:
                if staging is not None and isinstance(done := _quietly(staging), _Staging):
                    run.ctx.store.discard([done.staged])


def _tapped(entry: Found) -> int:
    """What the byte bound counts for `entry`: the head and tail its tap holds until admitted.

    A small item is also kept whole (at most `KEEP_ITEM`); `AHEAD` bounds how many are held.
    """
    return min(entry.size, MAX_HEAD + MAX_TAIL) if entry.kind == "file" else 0


def _quietly(staging: Future[_Staging | str]) -> _Staging | str | None:
    try:
        return staging.result()
    except BaseException:  # cancelled or failed; the run is ending for another reason
        return None


def _stage_file(run: _Run, entry: Found, cancelled: Callable[[], bool]) -> _Staging | str:
    """On a stager thread: open and stage one listed file; a string says why it failed."""
    try:
        source = open_regular(entry)
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"
    with source:
        try:
            return _stage(run, source, cancelled)
        except Cancelled:
            raise
        except (VaultError, OSError) as exc:
            return _reason(exc)


def _starting_detector() -> Detector:
    return Detector(wait=False)


def _take(run: _Run, entry: Found, staging: Future[_Staging | str] | None) -> None:
    display = escape(str(entry.path))
    if entry.kind == "dir":
        return
    if staging is None:
        reason = entry.error or SKIP_REASONS[entry.kind]
        outcome: Outcome = "failed" if entry.kind == "missing" or entry.error else "skipped"
        _record(run, ItemResult(display, outcome, reason=reason))
        return
    origin = Origin(
        display=display,
        name=escape(entry.path.name),
        path=escape(entry.rel),
        raw_path=entry.rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace"),
        # A file on the stick can be named to attack a terminal as well as an archive member.
        flags=set(decode_name(os.fsencode(entry.path.name), encoding_hint=None).flags),
    )
    done = staging.result()
    if isinstance(done, str):
        _record(run, _failed(origin, done))
    else:
        _admit(run, done, origin)


def _stage(run: _Run, source: BinaryIO, cancelled: Callable[[], bool]) -> _Staging:
    secret = run.collection.secret
    tap = Tap(source, head=MAX_HEAD, tail=MAX_TAIL, keep=KEEP_ITEM)
    staged = run.ctx.store.stage(
        tap,  # type: ignore[arg-type]  # only read() is used
        id_key=secret.id_key,
        recipient=secret.current.recipient,
        cancelled=cancelled,
    )
    return _Staging(staged, tap)


def _reason(exc: VaultError | OSError) -> str:
    return exc.message if isinstance(exc, VaultError) else f"cannot read: {exc}"


def _store(run: _Run, source: BinaryIO, origin: Origin) -> None:
    """Stage one container member on this thread, then admit it."""
    try:
        done = _stage(run, source, run.cancelled)
    except LimitExceeded as exc:
        # Only a container member's stream has limits: the container stops expanding.
        _record(run, _failed(origin, exc.message, exc.flag))
        raise
    except Cancelled:
        raise
    except (VaultError, OSError) as exc:
        _record(run, _failed(origin, _reason(exc)))
        return
    _admit(run, done, origin)


def _admit(run: _Run, done: _Staging, origin: Origin) -> None:
    """Send a staged item to detection, open it if it is a container, batch it for commit."""
    staged, tap = done.staged, done.tap
    kept = tap.whole if run.kept_bytes + staged.size <= KEEP_BATCH else None
    sample = Sample(origin.name, tap.head, tap.tail, staged.size)
    pending = _Pending(staged, origin, kept)
    run.kept_bytes += staged.size if kept is not None else 0
    run.pending.append(pending)
    run.unsent.append((pending, sample))
    run.pending_bytes += staged.size
    run.done_files += 1
    if origin.container is None:  # a member's bytes were counted with its container's
        run.done_bytes += staged.size
    if len(run.unsent) >= SEND_BATCH or staged.size > KEEP_ITEM:  # a large head goes at once
        _send(run)
    kind = sniff(sample.head)
    if staged.oid in origin.ancestors:
        origin.flags.add("recursive-container")  # a quine: it contains itself; never reopened
    elif kind is not None and not _document_package(kind, sample.head):
        _expand(run, pending, kind)
    if len(run.pending) >= BATCH_FILES or run.pending_bytes >= BATCH_BYTES:
        _flush(run)
    if run.progress is not None:
        run.progress(
            Progress(
                run.done_files,
                run.done_bytes,
                run.total_files,
                run.total_bytes,
                run.flagged,
                origin.display,
            )
        )


def _expand(run: _Run, container: _Pending, kind: ContainerKind) -> None:
    """Check in a container's members as its children; flag the container if a limit trips."""
    origin = container.origin
    try:
        with _open(run, container) as view:
            for member in members(
                kind,
                view,
                name=origin.name,
                limits=run.limits,
                budget=run.budget,
                depth=origin.depth + 1,
            ):
                _member(run, container, member)
    except LimitExceeded as exc:
        _flag_late(run, container, {exc.flag, "partially-expanded"})
    except VaultError as exc:
        if isinstance(exc, Cancelled):
            raise
        _flag_late(run, container, {"container-error", *getattr(exc, "flags", ())})


def _open(run: _Run, container: _Pending) -> BinaryIO:
    if container.data is not None:
        return io.BytesIO(container.data)
    return run.ctx.store.open_staged(container.staged, keys=run.collection.secret.object_keys)


def _flag_late(run: _Run, container: _Pending, flags: set[str]) -> None:
    """Flag a container whose trouble showed only while its members were read.

    A long container may already have been committed with an earlier batch: then its row and
    its receipt line are amended.
    """
    container.origin.flags.update(flags)
    if container.receipt_index is None:
        return  # still pending: the flags go in with its row
    oid = container.staged.oid
    with run.index_writer.lock, Session(run.collection.catalog) as session:
        row = session.get(Document, oid)
        if row is not None:
            row.flags = _merge(row.flags, sorted(flags))
            session.add(row)
            session.commit()
    item = run.receipt.items[container.receipt_index]
    run.receipt.items[container.receipt_index] = replace(
        item, flags=tuple(sorted(set(item.flags) | flags))
    )


def _member(run: _Run, container: _Pending, member: Member) -> None:
    parent = container.origin
    origin = Origin(
        display=f"{parent.display}!/{member.path.display}",
        name=member.path.name,
        path=member.path.display,
        raw_path=member.path.raw,
        parent=container.staged.oid,
        container=parent.display,
        depth=parent.depth + 1,
        flags=set(member.flags),
        ancestors=parent.ancestors | {container.staged.oid},
    )
    if member.kind == "dir":
        return  # a folder has no content; its members carry their own paths
    if member.kind != "file":
        reason = SKIP_REASONS.get(member.kind, SKIP_REASONS["other"])
        if member.link_target is not None:
            reason += f" (target {member.link_target})"
        _record(
            run,
            ItemResult(
                origin.path,
                "skipped",
                container=parent.display,
                flags=tuple(sorted(origin.flags)),
                reason=reason,
            ),
        )
        return
    with member.open() as stream:
        _store(run, stream, origin)


def _document_package(kind: ContainerKind, head: bytes) -> bool:
    """Office, OpenDocument, EPUB and Java files are zips, but they are documents: they are
    stored and flagged whole (macros, external links), not exploded into their XML parts."""
    if kind is not ContainerKind.ZIP:
        return False
    return (
        b"[Content_Types].xml" in head
        or head[30:38] == b"mimetype"  # ODF and EPUB: the first entry's name
        or b"META-INF/MANIFEST.MF" in head[:4096]
    )


def _send(run: _Run) -> None:
    """Hand the unsent samples to the detection pool; wait while too many are in flight."""
    if not run.unsent:
        return
    futures = run.detector.submit_many([sample for _, sample in run.unsent])
    for (pending, _), future in zip(run.unsent, futures, strict=True):
        pending.detection = future
        run.in_flight.append(future)
    run.unsent.clear()
    while len(run.in_flight) > IN_FLIGHT:
        run.in_flight.popleft().result()


def _write_index(run: _Run) -> None:
    """Hand the last batch's extractions to the index writer."""
    if run.indexing is not None:
        run.index_writer.add(run.indexing)
        run.indexing = None


def _finish_index(run: _Run) -> None:
    _write_index(run)
    run.index_writer.flush()


def _flush(run: _Run) -> None:
    """Commit the staged batch: objects durable first, then their rows in one transaction."""
    if not run.pending:
        return
    ctx, opened = run.ctx, run.collection
    _send(run)
    detections = [_detected(p) for p in run.pending]
    fresh = ctx.store.commit([p.staged for p in run.pending])
    kept = {p.staged.oid: p.data for p in run.pending if p.data is not None}
    now = ctx.clock.now()
    documents: dict[str, dict[str, object]] = {}
    occurrences: list[dict[str, object]] = []
    with run.index_writer.lock, Session(opened.catalog) as session:
        oids = {p.staged.oid for p in run.pending}
        known = {
            row.oid: row.flags
            for row in session.exec(select(Document).where(col(Document.oid).in_(oids)))
        }
        for pending, detection, new in zip(run.pending, detections, fresh, strict=True):
            staged, origin = pending.staged, pending.origin
            flags = sorted(origin.flags | detection.flags)
            if staged.oid in documents:
                row = documents[staged.oid]
                row["flags"] = _merge(str(row["flags"]), flags)
                outcome: Outcome = "duplicate"
            elif staged.oid in known:
                merged = _merge(known[staged.oid], flags)
                if merged != known[staged.oid]:
                    session.execute(
                        update(Document).where(col(Document.oid) == staged.oid).values(flags=merged)
                    )
                    known[staged.oid] = merged
                outcome = "duplicate"
            else:
                documents[staged.oid] = {
                    "oid": staged.oid,
                    "name": origin.name,
                    "size": staged.size,
                    "sha256": staged.sha256,
                    "key_version": opened.secret.version,
                    "mime": detection.mime,
                    "description": detection.description,
                    "flags": ",".join(flags),
                    "status": "unverified",
                    "first_seen": now,
                }
                outcome = "new" if new else "duplicate"
            occurrences.append(
                {
                    "oid": staged.oid,
                    "intake_id": run.intake_id,
                    "parent_oid": origin.parent,
                    "path": origin.path,
                    "raw_path": origin.raw_path,
                }
            )
            pending.receipt_index = len(run.receipt.items)
            _record(
                run,
                ItemResult(
                    origin.display if origin.container is None else origin.path,
                    outcome,
                    oid=staged.oid,
                    size=staged.size,
                    container=origin.container,
                    flags=tuple(flags),
                ),
            )
        if documents:
            session.execute(insert(Document), list(documents.values()))
        session.execute(insert(Occurrence), occurrences)
        session.commit()
    # The previous batch's text has had this batch's staging to be extracted in: have it
    # written, and send this batch's, so the workers extract and the writer indexes while the
    # main thread encrypts.
    _write_index(run)
    run.indexing = indexing.start(
        ctx,
        opened,
        [
            NewDocument(
                str(d["oid"]),
                str(d["name"]),
                str(d["mime"]),
                int(str(d["size"])),
                kept.get(str(d["oid"])),
            )
            for d in documents.values()
        ],
        run.text_extractor,
    )
    run.pending.clear()
    run.in_flight.clear()
    run.pending_bytes = 0
    run.kept_bytes = 0


def _detected(pending: _Pending) -> Detection:
    assert pending.detection is not None  # _send ran
    return pending.detection.result()


def _merge(existing: str, flags: list[str]) -> str:
    return ",".join(sorted({f for f in existing.split(",") if f} | set(flags)))


def _failed(origin: Origin, reason: str, *flags: str) -> ItemResult:
    return ItemResult(
        origin.display if origin.container is None else origin.path,
        "failed",
        container=origin.container,
        flags=tuple(sorted(origin.flags | set(flags))),
        reason=reason,
    )


def _record(run: _Run, item: ItemResult) -> None:
    run.receipt.items.append(item)
    if item.flags:
        run.flagged += 1


def _digest(receipt: Receipt) -> str:
    text = json.dumps(receipt.to_json(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
