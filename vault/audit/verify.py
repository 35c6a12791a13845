"""Verifying an audit log: the chain for anyone, authorship and content for body-key holders,
and agreement with a signed checkpoint.

Unlike reading, verification does not stop at the first problem. It reports every record that
breaks the chain (picking the chain up again from the record that broke it), every body that does
not authenticate and every signature that does not verify, until the framing itself breaks —
past that point records cannot be located, so nothing more is claimed. Problems come out in file
order, each naming the seq and offset it is about.

Signatures are the expensive part: about 0.14 ms each with OpenSSL on a small machine, half that
with libsodium (through PyNaCl, which releases the GIL), so libsodium checks them. With
member keys, records go in batches to worker threads that open bodies and check signatures —
OpenSSL runs without the GIL — while the main thread walks the chain, so a long log uses every
core. Batches are bounded in records and bytes, and so is the number in flight: memory does not
grow with the log, even one of 1 MiB frames.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import BinaryIO

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError

from vault.audit.body import format_time, open_body
from vault.audit.checkpoint import Checkpoint
from vault.audit.frame import Frame, FrameFault, Head, genesis, signed_message
from vault.audit.reader import (
    describe_leftover,
    frames,
    leftover_is_torn,
    link_problem,
    read_header,
    settled_size,
)
from vault.errors import IntegrityError

PublicKeyOf = Callable[[str], Ed25519PublicKey | None]

_BATCH_RECORDS = 256
_BATCH_BYTES = 1 << 20
_WORKERS = max(1, os.cpu_count() or 1)

_Problem = tuple[int, str]


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of `AuditLog.verify`: `ok` exactly when `problems` is empty.

    `entries` counts the records that could be located; `head` is the last of them (seq 0 and
    the genesis digest if there were none).
    """

    ok: bool
    entries: int
    head: Head
    problems: tuple[str, ...]


class _Keys:
    """The caller's key lookup, called once per name and never from two threads at once."""

    def __init__(self, public_key_of: PublicKeyOf) -> None:
        self._public_key_of = public_key_of
        self._known: dict[str, Ed25519PublicKey | None] = {}
        self._raw: dict[str, bytes | None] = {}
        self._lock = threading.Lock()

    def __call__(self, name: str) -> Ed25519PublicKey | None:
        try:
            return self._known[name]
        except KeyError:
            pass
        with self._lock:
            if name not in self._known:
                self._known[name] = self._public_key_of(name)
            return self._known[name]

    def raw(self, name: str) -> bytes | None:
        """The key's 32 bytes, as libsodium takes them."""
        try:
            return self._raw[name]
        except KeyError:
            pass
        key = self(name)
        found = None if key is None else key.public_bytes_raw()
        self._raw[name] = found
        return found


def _check_bodies(aead: ChaCha20Poly1305, keys: _Keys, batch: list[Frame]) -> list[_Problem]:
    """Open each body and check its signature by the actor it names."""
    bad: list[_Problem] = []
    for frame in batch:
        try:
            actor = open_body(aead, frame).actor
        except IntegrityError as exc:
            bad.append((frame.offset, exc.message))
            continue
        key = keys.raw(actor)
        if key is None:
            bad.append((frame.offset, f"{frame.where}: actor {actor!r} has no known public key"))
            continue
        message = signed_message(frame.seq, frame.prev, frame.nonce, frame.ciphertext)
        try:
            if len(frame.signature) != 64:
                raise BadSignatureError
            crypto_sign_open(frame.signature + message, key)
        except BadSignatureError:
            bad.append((frame.offset, f"{frame.where}: the signature does not verify against "
                                      f"{actor!r}'s public key"))
    return bad


class _Bodies:
    """Body and signature checks in batches; on threads once a log is long enough to gain."""

    def __init__(self, aead: ChaCha20Poly1305, keys: _Keys) -> None:
        self._aead = aead
        self._keys = keys
        self._batch: list[Frame] = []
        self._bytes = 0
        self._pool: ThreadPoolExecutor | None = None
        self._pending: deque[Future[list[_Problem]]] = deque()
        self.problems: list[_Problem] = []

    def add(self, frame: Frame) -> None:
        self._batch.append(frame)
        self._bytes += len(frame.ciphertext)
        if len(self._batch) < _BATCH_RECORDS and self._bytes < _BATCH_BYTES:
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(_WORKERS, thread_name_prefix="audit-verify")
        self._pending.append(self._pool.submit(_check_bodies, self._aead, self._keys,
                                               self._batch))
        self._batch, self._bytes = [], 0
        while len(self._pending) > 2 * _WORKERS:
            self.problems.extend(self._pending.popleft().result())

    def finish(self) -> list[_Problem]:
        self.problems.extend(_check_bodies(self._aead, self._keys, self._batch))
        self._batch, self._bytes = [], 0
        while self._pending:
            self.problems.extend(self._pending.popleft().result())
        return self.problems

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


class _Verification:
    def __init__(self, vault_id: str, aead: ChaCha20Poly1305, public_key_of: PublicKeyOf | None,
                 checkpoint: Checkpoint | None) -> None:
        self.vault_id = vault_id
        self.checkpoint = checkpoint
        self.at_checkpoint: Frame | None = None
        self.keys = None if public_key_of is None else _Keys(public_key_of)
        self.bodies = None if self.keys is None else _Bodies(aead, self.keys)
        self.problems: list[_Problem] = []
        self.count = 0
        self.last_seq = 0
        self.last_digest = genesis(vault_id)

    def walk(self, f: BinaryIO, size: int) -> None:
        try:
            if not read_header(f, size, self.vault_id):
                return
        except IntegrityError as exc:
            self.problems.append((0, f"{exc.message}; nothing in the log can be checked"))
            return
        try:
            for frame in frames(f, size):
                self.count += 1
                problem = link_problem(frame, self.last_seq, self.last_digest)
                if problem is not None:
                    self.problems.append((frame.offset, problem))
                if self.checkpoint is not None and self.count == self.checkpoint.seq:
                    self.at_checkpoint = frame
                if self.bodies is not None:
                    self.bodies.add(frame)
                self.last_seq, self.last_digest = frame.seq, frame.digest
        except FrameFault as fault:
            torn = leftover_is_torn(f, fault.offset, size, next_seq=self.last_seq + 1,
                                    prev=self.last_digest)
            if torn or fault.incomplete:
                message = describe_leftover(fault.offset, size, self.last_seq, torn=torn)
            else:
                message = (f"{fault.message} (after seq {self.last_seq}); the records after it "
                           "cannot be located or checked")
            self.problems.append((fault.offset, message))

    def positional_problems(self) -> list[str]:
        found = self.problems + ([] if self.bodies is None else self.bodies.finish())
        return [text for _, text in sorted(found, key=lambda problem: problem[0])]

    def checkpoint_problems(self, checkpoint: Checkpoint) -> list[str]:
        label = (f"checkpoint of seq {checkpoint.seq} signed by {checkpoint.signer!r} at "
                 f"{format_time(checkpoint.at)}")
        found: list[str] = []
        if checkpoint.vault_id != self.vault_id:
            found.append(f"{label}: it is for vault {checkpoint.vault_id!r}, not this one")
        if self.keys is not None:
            key = self.keys(checkpoint.signer)
            if key is None:
                found.append(f"{label}: the signer has no known public key")
            else:
                try:
                    checkpoint.verify_signature(key)
                except IntegrityError:
                    found.append(f"{label}: its signature does not verify")
        if checkpoint.seq == 0:
            if checkpoint.digest != genesis(self.vault_id):
                found.append(f"{label}: it does not match this vault's empty log")
        elif self.at_checkpoint is None:
            found.append(f"{label}: the log holds only {self.count} readable record(s); it was "
                         "truncated, or an older copy was restored")
        elif (self.at_checkpoint.seq, self.at_checkpoint.digest) != (checkpoint.seq,
                                                                      checkpoint.digest):
            found.append(f"{label}: {self.at_checkpoint.where} differs from it; the log was "
                         "rewritten")
        return found

    def close(self) -> None:
        if self.bodies is not None:
            self.bodies.close()


def verify_log(f: BinaryIO | None, *, vault_id: str, aead: ChaCha20Poly1305,
               public_key_of: PublicKeyOf | None, checkpoint: Checkpoint | None) -> VerifyReport:
    """Verify the log open as `f` (None: there is no log file, an empty log).

    See `AuditLog.verify` for what is checked. `public_key_of` may be called from worker
    threads, once per name, never concurrently.

    Raises:
        OSError: reading failed (the caller maps it).
    """
    run = _Verification(vault_id, aead, public_key_of, checkpoint)
    try:
        if f is not None:
            run.walk(f, settled_size(f.fileno()))
        problems = run.positional_problems()
    finally:
        run.close()
    if checkpoint is not None:
        problems.extend(run.checkpoint_problems(checkpoint))
    return VerifyReport(ok=not problems, entries=run.count,
                        head=Head(seq=run.last_seq, digest=run.last_digest),
                        problems=tuple(problems))
