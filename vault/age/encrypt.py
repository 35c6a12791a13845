"""Encrypting to age: a streaming writer with memory bounded by one chunk.

`Encryptor` writes the header and payload nonce as soon as it is built, then encrypts as data
arrives. It always holds back the most recent chunk — up to 64 KiB — because only `close()` knows
whether it is the last; so an exact multiple of 64 KiB ends with a full final chunk and an empty
plaintext is one empty final chunk. Leaving a `with` block by an exception writes no final chunk,
so the partial file can never decrypt as if it were complete.

Recipients are checked the way age checks them: an scrypt recipient must be alone, and
post-quantum recipients are not mixed with classic ones (that would void their protection).
"""

import io
import os
from collections.abc import Sequence
from types import TracebackType
from typing import Protocol, cast

from vault.age import header, hybrid, scrypt
from vault.age.protocols import FILE_KEY_SIZE, Recipient
from vault.age.stream import CHUNK_SIZE, NONCE_SIZE, TAG_SIZE, StreamCipher, payload_key


def _check_stanzas(stanzas: Sequence[header.Stanza]) -> None:
    types = {s.type for s in stanzas}
    if scrypt.STANZA_TYPE in types and len(stanzas) > 1:
        raise ValueError("a passphrase recipient must be the only recipient")
    if hybrid.STANZA_TYPE in types and len(types) > 1:
        raise ValueError("post-quantum recipients cannot be mixed with classic ones")


class Sink(Protocol):
    """Where an age file is written: a binary file, or anything else with `write`."""

    def write(self, data: bytes, /) -> object: ...


class InPlaceSink(Sink, Protocol):
    """A sink that lends its own buffer, so chunks are sealed into it without a copy."""

    def room(self, size: int, /) -> memoryview | None:
        """The next `size` bytes to fill, or None to be handed them through `write`."""
        ...

    def advance(self, size: int, /) -> None:
        """Take the `size` bytes just filled."""
        ...


def _lender(dst: Sink) -> InPlaceSink | None:
    """`dst` as an `InPlaceSink` if it lends its buffer.

    Asked of the attributes directly: `isinstance` against a runtime-checkable protocol walks
    the protocol's members on every call, some 40 µs, paid once per object stored.
    """
    if callable(getattr(dst, "room", None)) and callable(getattr(dst, "advance", None)):
        return cast(InPlaceSink, dst)
    return None


class Encryptor:
    """Write an age file to `dst`, chunk by chunk.

    `dst` is not closed: the caller owns it (and decides when to fsync it).
    """

    def __init__(self, dst: Sink, recipients: Sequence[Recipient]) -> None:
        """Wrap a fresh file key to every recipient and write the header and nonce.

        Args:
            dst: where the age file is written.
            recipients: at least one recipient.

        Raises:
            ValueError: no recipients, or a combination age forbids.
        """
        if not recipients:
            raise ValueError("no recipients")
        # One call for both: each is a system call, and small objects are made by the thousand.
        fresh = os.urandom(FILE_KEY_SIZE + NONCE_SIZE)
        file_key, nonce = fresh[:FILE_KEY_SIZE], fresh[FILE_KEY_SIZE:]
        stanzas = [stanza for r in recipients for stanza in r.wrap(file_key)]
        _check_stanzas(stanzas)
        self._dst = dst
        self._in_place = _lender(dst)
        self._cipher = StreamCipher(payload_key(file_key, nonce))
        self._buffer = bytearray()  # a partial chunk
        self._held: bytes | memoryview | None = None  # a full chunk, perhaps the last
        self._counter = 0
        self._closed = False
        dst.write(header.encode_header(stanzas, file_key) + nonce)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Encrypt `data`, of any length, writing every chunk known not to be the last.

        Full chunks of a `bytes` argument are sealed in place, without a copy.

        Raises:
            ValueError: the encryptor is closed.
        """
        if self._closed:
            raise ValueError("write to a closed age encryptor")
        view = memoryview(data).cast("B")
        while view:
            if self._held is not None:
                # More data follows, so the held-back chunk is not the last one.
                self._seal(False, self._held)
                self._held = None
            if not self._buffer and len(view) >= CHUNK_SIZE:
                piece = view[:CHUNK_SIZE]
                # Only immutable bytes may be held by reference past this call.
                self._held = piece if isinstance(data, bytes) else piece.tobytes()
                view = view[CHUNK_SIZE:]
                continue
            take = CHUNK_SIZE - len(self._buffer)
            self._buffer += view[:take]
            view = view[take:]
            if len(self._buffer) == CHUNK_SIZE:
                self._held = bytes(self._buffer)
                self._buffer.clear()

    def close(self) -> None:
        """Write the final chunk. Closing twice is harmless; `dst` stays open."""
        if self._closed:
            return
        self._closed = True
        last = self._held if self._held is not None else bytes(self._buffer)
        self._seal(True, last)
        self._held = None
        self._buffer.clear()

    def _seal(self, last: bool, plaintext: bytes | memoryview) -> None:
        sink, size = self._in_place, len(plaintext) + TAG_SIZE
        out = None if sink is None else sink.room(size)
        if sink is None or out is None:
            self._dst.write(self._cipher.seal(self._counter, last, plaintext))
        else:
            with out:
                self._cipher.seal_into(self._counter, last, plaintext, out)
            sink.advance(size)
        self._counter += 1

    def abort(self) -> None:
        """Stop without writing a final chunk: what was written will never decrypt."""
        self._closed = True
        self._held = None
        self._buffer.clear()

    def __enter__(self) -> "Encryptor":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def encrypt(data: bytes, recipients: Sequence[Recipient]) -> bytes:
    """Encrypt `data` in memory to `recipients`.

    Raises:
        ValueError: no recipients, or a combination age forbids.
    """
    out = io.BytesIO()
    with Encryptor(out, recipients) as encryptor:
        encryptor.write(data)
    return out.getvalue()
