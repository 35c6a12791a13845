"""Content-addressed objects: each document is one standard age file.

    objects/<first two hex digits>/<oid>   oid = HMAC-SHA256(collection id key, SHA-256(plaintext))

The address is keyed, never a plain hash, so holding a known file does not let anyone test
whether the vault has it. It is the HMAC of the plaintext's SHA-256 rather than of the plaintext
itself: as unforgeable without the key (HMAC is a PRF, and SHA-256 collisions would break the
signed release manifests first), and the plaintext is hashed once, not twice — the SHA-256 is
recorded anyway. Plaintext is Padmé-padded with zero bytes before encryption.

Writing happens in two steps so the catalog never names an object that is not durable:
`stage` makes one pass over the input — reading, hashing and encrypting into `tmp/` —
and `commit` syncs a whole batch of staged files, renames them into place (or discards one whose
object already exists), and syncs the directories. Only then may the caller write catalog rows
and audit entries that name them. A large object goes to the disk as it is staged — straight, past
the page cache, where the filesystem allows (`DirectWriter`) — so the disk works while the next
one is encrypted and the batch's sync is short.

Reading recomputes the address after decryption: age has no associated data, so this is what stops
one object file being swapped for another of the same collection.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import itertools
import os
import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from vault.age import ChunkReader, Encryptor, Identity, Recipient, decrypt_chunks
from vault.errors import Cancelled, IntegrityError
from vault.store.atomic import create_exclusive, sync_filesystem
from vault.store.direct import DirectWriter
from vault.store.padding import padme

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

CHUNK = 64 * 1024
READ = 256 * 1024  # what staging reads at once: fewer calls per byte, still small in memory
SYNC_EARLY = 1024 * 1024  # a staged object this large is made durable as soon as it is written
_ZEROS = bytes(CHUNK)


@dataclass(frozen=True)
class ObjectKeys:
    """What reading a collection's objects takes: its identities and addressing key."""

    identities: Sequence[Identity]
    id_key: bytes

    def __repr__(self) -> str:
        return "ObjectKeys(…)"


@dataclass(frozen=True)
class Staged:
    """An encrypted object written to `tmp/`, not yet in place."""

    oid: str
    size: int
    sha256: str
    tmp: Path


class ObjectStore:
    """The `objects/` and `tmp/` directories of one vault."""

    def __init__(self, vault_dir: Path) -> None:
        self.objects = vault_dir / "objects"
        self.tmp = vault_dir / "tmp"
        # Staged files are named by this store's random prefix and a count: unique within it
        # without a call for randomness per file (each system call is a hand-off of the GIL),
        # and across processes by the prefix; O_EXCL refuses a clash all the same.
        self._tmp_prefix = secrets.token_hex(8)
        self._tmp_count = itertools.count()

    def path(self, oid: str) -> Path:
        """Where an object lives (whether or not it exists)."""
        check_oid(oid)
        return self.objects / oid[:2] / oid

    def exists(self, oid: str) -> bool:
        """Whether the object is in place."""
        return self.path(oid).is_file()

    def stage(
        self,
        src: BinaryIO,
        *,
        id_key: bytes,
        recipient: Recipient,
        on_bytes: Callable[[int], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> Staged:
        """Encrypt a stream into `tmp/` in one pass, computing its address and SHA-256.

        Args:
            src: the plaintext, read to its end.
            id_key: the collection's addressing key.
            recipient: the collection's current age recipient.
            on_bytes: called with the size of each chunk read, for progress.
            cancelled: polled between chunks; when it returns True the temp file is removed.

        Raises:
            Cancelled: `cancelled` returned True.
            OSError: reading the input or writing the temp file failed (temp file removed).
        """
        tmp = self.tmp / f"{self._tmp_prefix}-{next(self._tmp_count)}.obj"
        sha = hashlib.sha256()
        size = 0
        try:
            fd = create_exclusive(tmp)
        except FileNotFoundError:  # the first object of a new vault: no `tmp/` yet
            self.tmp.mkdir(exist_ok=True)
            fd = create_exclusive(tmp)
        out = DirectWriter(fd)
        try:
            with Encryptor(out, [recipient]) as enc:
                while chunk := src.read(READ):
                    if cancelled is not None and cancelled():
                        raise Cancelled("check-in cancelled")
                    sha.update(chunk)
                    enc.write(chunk)
                    size += len(chunk)
                    if on_bytes is not None:
                        on_bytes(len(chunk))
                pad = padme(size) - size
                while pad:
                    step = min(pad, CHUNK)
                    enc.write(_ZEROS[:step])
                    pad -= step
            out.close()
            if size >= SYNC_EARLY and not out.bypassed:
                # Written back now, while other items are encrypted, instead of all at once in
                # `commit`'s sync, which then finds little left to do.
                os.fdatasync(fd)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        finally:
            os.close(fd)
        digest = sha.digest()
        return Staged(oid=address(id_key, digest), size=size, sha256=digest.hex(), tmp=tmp)

    def commit(self, staged: Sequence[Staged]) -> list[bool]:
        """Make staged objects durable and put them in place.

        The whole batch is flushed with one filesystem sync before any rename, so an object is
        never in place with contents that could still be lost; a second sync makes the renames
        durable before the caller writes catalog rows that name them.

        Returns:
            For each staged object, True if it is new, False if the object already existed
            or came earlier in the batch (its temp file is discarded).
        """
        fresh: list[bool] = []
        seen: set[str] = set()
        for item in staged:
            new = item.oid not in seen and not self.exists(item.oid)
            seen.add(item.oid)
            fresh.append(new)
        if any(fresh):
            sync_filesystem(self.tmp)
        made: set[Path] = set()
        for item, new in zip(staged, fresh, strict=True):
            if not new:
                item.tmp.unlink(missing_ok=True)
                continue
            target = self.path(item.oid)
            if target.parent not in made and not target.parent.is_dir():
                target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
            os.replace(item.tmp, target)
        if made:
            sync_filesystem(self.objects)
        return fresh

    def discard(self, staged: Sequence[Staged]) -> None:
        """Remove staged temp files that will not be committed."""
        for item in staged:
            item.tmp.unlink(missing_ok=True)

    def read(self, oid: str, *, size: int, keys: ObjectKeys) -> Iterator[bytes]:
        """Yield an object's plaintext, proving at the end that it is the one asked for.

        The final chunk is yielded only after the address and padding are verified, so a
        consumer that stops at an exception has never seen the end of a swapped object; a
        consumer that must not see any unverified byte calls `verify` first.

        Raises:
            IntegrityError: missing, damaged, swapped or wrongly padded object.
        """
        sha = hashlib.sha256()
        remaining = size
        padding_ok = True
        held: bytes | None = None
        total = 0
        for chunk in self._chunks(oid, keys.identities):
            total += len(chunk)
            data, pad = chunk[:remaining], chunk[remaining:]
            remaining -= len(data)
            if pad.count(0) != len(pad):
                padding_ok = False
            sha.update(data)
            if not data:
                continue  # all padding: keep holding back the last piece of real data
            if held:
                yield held
            held = data
        if remaining or total != padme(size) or not padding_ok:
            raise IntegrityError(f"object {oid[:12]}… is damaged")
        if not hmac.compare_digest(address(keys.id_key, sha.digest()), oid):
            raise IntegrityError(f"object {oid[:12]}… is not the document it should be")
        if held:
            yield held

    def verify(self, oid: str, *, size: int, keys: ObjectKeys) -> None:
        """Decrypt an object fully and check its address, discarding the plaintext."""
        for _ in self.read(oid, size=size, keys=keys):
            pass

    def open_seekable(self, oid: str, *, size: int, keys: ObjectKeys) -> BinaryIO:
        """A seekable view of a verified object's plaintext, decrypted chunk by chunk on demand.

        Used to open containers stored in the vault (a zip needs seeking) with no plaintext on
        disk. The object is verified in full first.
        """
        self.verify(oid, size=size, keys=keys)
        raw = _Bounded(
            ChunkReader(self.path(oid).open("rb"), keys.identities, close_source=True), size
        )
        return io.BufferedReader(raw, buffer_size=CHUNK)

    def open_staged(self, staged: Staged, *, keys: ObjectKeys) -> BinaryIO:
        """A seekable view of a staged object's plaintext, before it is committed.

        Lets check-in open a container it has just encrypted (a zip needs seeking) without
        reading the source twice or putting plaintext on disk.
        """
        reader = ChunkReader(staged.tmp.open("rb"), keys.identities, close_source=True)
        return io.BufferedReader(_Bounded(reader, staged.size), buffer_size=CHUNK)

    def _chunks(self, oid: str, identities: Sequence[Identity]) -> Iterator[bytes]:
        try:
            handle = self.path(oid).open("rb")
        except FileNotFoundError:
            raise IntegrityError(f"object {oid[:12]}… is missing") from None
        with handle:
            yield from decrypt_chunks(handle, identities)

    def list_oids(self) -> Iterator[str]:
        """Every object file name in the store (names are not trusted: callers check them)."""
        if not self.objects.is_dir():
            return
        for sub in sorted(self.objects.iterdir()):
            if sub.is_dir():
                for entry in sorted(sub.iterdir()):
                    yield f"{sub.name}/{entry.name}"


def address(id_key: bytes, sha256: bytes) -> str:
    """The object id of a plaintext with this SHA-256 digest, in a collection with this id key."""
    return hmac.new(id_key, sha256, hashlib.sha256).hexdigest()


def check_oid(oid: str) -> None:
    """Object ids are 64 lowercase hex digits; anything else never becomes a path.

    Raises:
        IntegrityError: not an object id.
    """
    if len(oid) != 64 or any(c not in "0123456789abcdef" for c in oid):
        raise IntegrityError("not a valid object id")


class _Bounded(io.RawIOBase):
    """A read-only view of the first `size` bytes of a seekable stream (hides the padding)."""

    def __init__(self, inner: BinaryIO, size: int) -> None:
        super().__init__()
        self._inner = inner
        self._size = size
        self._pos = 0

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        n = min(len(view), self._size - self._pos)
        if n <= 0:
            return 0
        self._inner.seek(self._pos)
        data = self._inner.read(n)
        view[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def close(self) -> None:
        self._inner.close()
        super().close()
