"""`AuditLog`: append, read and verify one vault's tamper-evident log (`log/audit.log`).

Contract:

- **Fail closed.** Callers append *before* they act. `append` either returns the new head after
  the record is written and fsynced, or raises `AuditUnavailable`, and then the action must not
  happen. A failed append truncates the file back to where it was, so no partial record stays
  behind; if even that fails, what is left is a torn tail, which no reader takes for a record
  and which blocks later appends until it is repaired.
- **Concurrency.** Every append holds an exclusive `flock` on the log file; any number of
  processes (writers, readers that log views) may append. Readers take the lock shared only to
  learn the size, then read without holding anyone up.
- **Cost.** An append reads the last two records through the trailing length fields (O(1) in the
  log's length), checks that they chain, then writes one frame with O_APPEND and fsyncs.
- **Crashes.** A torn final frame is removed by `repair_torn_tail`, which whoever opens the vault
  for writing calls, logging the truncation it reports. Damage anywhere else is never
  "repaired": it is an `IntegrityError`.

The byte format is documented in `vault.audit.frame`, the body in `vault.audit.body`.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from vault.audit.body import Entry, JSONValue, encode_body, open_body, seal
from vault.audit.checkpoint import Checkpoint
from vault.audit.frame import HEADER_LEN, Frame, Head, encode, file_header, genesis, signed_message
from vault.audit.reader import (
    READ_BUFFER,
    TornTail,
    chain,
    open_for_reading,
    read_tail,
    settled_size,
)
from vault.audit.verify import PublicKeyOf, VerifyReport, verify_log
from vault.errors import AuditUnavailable, IntegrityError

BODY_KEY_LEN = 32
_APPEND_HINT = ("check that the log is writable and the disk has space; if the vault crashed, "
                "opening it for writing repairs a torn final record; `vault audit verify` "
                "locates damage")


class AuditLog:
    """One vault's audit log file.

    The constructor does no I/O. The body key opens and seals record bodies; without it nobody
    learns who did what, but anyone can still check the chain.
    """

    def __init__(self, path: Path, *, vault_id: str, body_key: bytes) -> None:
        """Bind a log file to its vault.

        Args:
            path: the log file (normally ``<vault>/log/audit.log``); its directory must exist.
            vault_id: the vault's id, bound into the genesis of the chain.
            body_key: the 32-byte ChaCha20-Poly1305 key for record bodies.

        Raises:
            ValueError: an empty vault id or a body key that is not 32 bytes.
        """
        if not vault_id:
            raise ValueError("an audit log needs a vault id")
        if len(body_key) != BODY_KEY_LEN:
            raise ValueError(f"the audit body key must be {BODY_KEY_LEN} bytes")
        self.path = path
        self.vault_id = vault_id
        self._genesis = genesis(vault_id)
        self._aead = ChaCha20Poly1305(body_key)

    def append(self, *, signer: Ed25519PrivateKey, actor: str, action: str, target: str,
               details: Mapping[str, JSONValue], at: datetime) -> Head:
        """Write one record, durably, before the action it records happens.

        Args:
            signer: the actor's signing key.
            actor: the member acting (the name verifiers look up a public key for).
            action: what is done, e.g. ``"document.view"``.
            target: what it is done to (a document, collection or request id).
            details: plain JSON giving the specifics.
            at: when, timezone-aware, from the caller's `Clock`.

        Returns:
            The head of the log with the new record.

        Raises:
            AuditUnavailable: the record could not be written (permissions, disk full, I/O
                error, or a damaged or torn log tail); nothing was added, so the action must
                not happen.
            TypeError, ValueError: a caller bug — a naive time, an empty actor, details that
                are not plain JSON, or a record over the 1 MiB frame limit.
        """
        plaintext = encode_body(at=at, actor=actor, action=action, target=target,
                                details=details)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise self._unavailable("opened", exc) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            size = os.fstat(fd).st_size
            try:
                tail = read_tail(fd, size, self.vault_id)
            except IntegrityError as exc:
                raise AuditUnavailable(f"cannot append to the audit log {self.path}: "
                                       f"{exc.message}", hint=_APPEND_HINT) from exc
            seq, prev = (tail.seq + 1, tail.digest) if tail else (1, self._genesis)
            nonce, ciphertext = seal(self._aead, seq, prev, plaintext)
            signature = signer.sign(signed_message(seq, prev, nonce, ciphertext))
            frame = encode(seq, prev, nonce, ciphertext, signature)
            self._write(fd, (file_header(self.vault_id) if size == 0 else b"") + frame, size)
            return Head(seq=seq, digest=hashlib.sha256(frame).digest())
        except OSError as exc:
            raise self._unavailable("written", exc) from exc
        finally:
            os.close(fd)

    def head(self) -> Head:
        """The last record's seq and digest, read from the end of the file in O(1).

        Only the last two records are checked; `verify` checks the rest.

        Raises:
            IntegrityError: the end of the log is not a whole record chained to the one before.
            AuditUnavailable: the file cannot be read.
        """
        frame = self._tail()
        return Head(seq=0, digest=self._genesis) if frame is None else Head(frame.seq,
                                                                              frame.digest)

    def newest_time(self) -> datetime | None:
        """The time of the last record (None for an empty log), for the clock-rollback guard.

        Raises:
            IntegrityError: the last record is damaged or does not open with the body key.
            AuditUnavailable: the file cannot be read.
        """
        frame = self._tail()
        return None if frame is None else open_body(self._aead, frame).at

    def entries(self, *, start: int = 1) -> Iterator[Entry]:
        """The records from seq `start` on, decrypted, in order.

        The whole chain is checked from the first record on the way (hashing is cheap); bodies
        are authenticated, signatures are not (that takes the members' keys: see `verify`).

        Raises:
            ValueError: `start` is below 1.
            IntegrityError: (while iterating) the first damaged, missing or misplaced record,
                or a torn tail, named by seq and offset.
            AuditUnavailable: the file cannot be read.
        """
        if start < 1:
            raise ValueError("audit records are numbered from 1")
        return self._entries(start)

    def verify(self, public_key_of: PublicKeyOf | None = None, *,
               checkpoint: Checkpoint | None = None) -> VerifyReport:
        """Check the whole log and report every problem found; never raises on damage.

        Args:
            public_key_of: without it, only the header, framing, seq and hash chain are checked
                and nothing is decrypted (anyone can do this). With it, every body is
                decrypted and authenticated, and every signature checked against the public
                key it returns for the actor (None: an unknown actor, reported).
            checkpoint: the log must hold the checkpoint's seq with exactly its digest, so a
                log truncated below it, restored from an older copy or rewritten is reported.
                Its signature is checked too when `public_key_of` is given (otherwise check it
                with `Checkpoint.verify_signature`).

        Signatures are checked on worker threads for long logs, so `public_key_of` may be
        called from one of them; it is called once per name and never concurrently.

        Raises:
            AuditUnavailable: the file cannot be read.
        """
        f = open_for_reading(self.path)
        try:
            return verify_log(f, vault_id=self.vault_id, aead=self._aead,
                              public_key_of=public_key_of, checkpoint=checkpoint)
        except OSError as exc:
            raise self._unavailable("read", exc) from exc
        finally:
            if f is not None:
                f.close()

    def repair_torn_tail(self) -> int:
        """Cut off a final record that a crash left half-written.

        Call this when opening the vault for writing and, if it returns more than 0, append a
        record saying so. Only bytes after the last whole record that agree with the record
        being written (or are zeros) count as torn.

        Returns:
            The number of bytes removed (0 if the log ends cleanly or does not exist).

        Raises:
            IntegrityError: damage that is not a torn tail; nothing is changed.
            AuditUnavailable: the file cannot be read or truncated.
        """
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CLOEXEC)
        except FileNotFoundError:
            return 0
        except OSError as exc:
            raise self._unavailable("opened", exc) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            size = os.fstat(fd).st_size
            keep = self._clean_length(fd, size)
            if keep < size:
                os.ftruncate(fd, keep)
                os.fsync(fd)
            return size - keep
        except OSError as exc:
            raise self._unavailable("repaired", exc) from exc
        finally:
            os.close(fd)

    def _entries(self, start: int) -> Iterator[Entry]:
        f = open_for_reading(self.path)
        if f is None:
            return
        with f:
            try:
                size = settled_size(f.fileno())
                for frame in chain(f, size, self.vault_id):
                    if frame.seq >= start:
                        yield open_body(self._aead, frame)
            except OSError as exc:
                raise self._unavailable("read", exc) from exc

    def _tail(self) -> Frame | None:
        f = open_for_reading(self.path)
        if f is None:
            return None
        with f:
            try:
                fd = f.fileno()
                return read_tail(fd, settled_size(fd), self.vault_id)
            except OSError as exc:
                raise self._unavailable("read", exc) from exc

    def _clean_length(self, fd: int, size: int) -> int:
        """How much of the file to keep: all of it unless it ends in a torn record."""
        if 0 < size < HEADER_LEN:
            start = os.pread(fd, size, 0)
            if file_header(self.vault_id).startswith(start) or not any(start):
                return 0
            raise IntegrityError(f"the audit log's {size} bytes are not the start of this "
                                 "vault's log header")
        try:
            read_tail(fd, size, self.vault_id)
            return size
        except IntegrityError:
            pass
        # Rare (only after a crash or damage): walk the chain to the last whole record.
        with open(fd, "rb", buffering=READ_BUFFER, closefd=False) as f:
            try:
                for _ in chain(f, size, self.vault_id):
                    pass
            except TornTail as torn:
                if torn.torn:
                    return torn.offset
                raise IntegrityError(torn.message) from None
        return size

    def _write(self, fd: int, data: bytes, size: int) -> None:
        """Write all of `data` and make it durable (with the directory entry of a new file), or
        put the file back to `size` and re-raise: a record the caller was told failed must not
        stay to claim an action that never happened."""
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                if written <= 0:
                    raise OSError("the write made no progress")
                view = view[written:]
            os.fsync(fd)
            if size == 0:
                self._sync_directory()
        except OSError:
            try:
                os.ftruncate(fd, size)
                os.fsync(fd)
            except OSError:
                # A partial frame left behind is a torn tail: no reader takes it for a record
                # and appends refuse until it is repaired. A whole one records an attempt that
                # the caller is told failed.
                pass
            raise

    def _sync_directory(self) -> None:
        fd = os.open(self.path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _unavailable(self, verb: str, exc: OSError) -> AuditUnavailable:
        reason = exc.strerror or str(exc)
        return AuditUnavailable(f"the audit log {self.path} could not be {verb}: {reason}",
                                hint=_APPEND_HINT)
