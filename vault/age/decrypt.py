"""Decrypting age files as a stream: header, identity, header MAC, then chunk by chunk.

`decrypt_chunks` does all header work before it returns — a wrong key or a tampered header fails
at the call, before the caller opens any output — and then yields each chunk's plaintext as soon
as that chunk authenticates, holding at most one encrypted chunk in memory. The iterator raises
`PayloadError` on a chunk that does not authenticate, a missing final chunk (truncation), an
empty final chunk after a full one, or any byte after the final chunk. Plaintext already yielded
before such an error is genuine, but the caller must treat the whole file as refused.
"""

import io
from collections.abc import Iterator, Sequence
from typing import BinaryIO

from vault.age.errors import HeaderError, NoIdentityMatch, PayloadError
from vault.age.header import Header, read_header, verify_mac
from vault.age.protocols import FILE_KEY_SIZE, Identity
from vault.age.scrypt import check_scrypt_alone
from vault.age.stream import (
    ENCRYPTED_CHUNK_SIZE,
    NONCE_SIZE,
    TAG_SIZE,
    StreamCipher,
    payload_key,
)


class _Source:
    """`src` with the bytes the header parser read ahead put back in front."""

    __slots__ = ("_pending", "_src")

    def __init__(self, pending: bytes, src: BinaryIO) -> None:
        self._pending = pending
        self._src = src

    def read_exact(self, size: int) -> bytes:
        """Read `size` bytes, fewer only at end of stream."""
        if self._pending:
            out = bytearray(self._pending[:size])
            self._pending = self._pending[size:]
        else:  # every chunk after the first: mostly one read, and no copy of what it gave
            first = self._src.read(size)
            if len(first) == size or not first:
                return bytes(first)
            out = bytearray(first)
        while len(out) < size:
            block = self._src.read(size - len(out))
            if not block:
                break
            out += block
        return bytes(out)


def unwrap_file_key(src: BinaryIO, identities: Sequence[Identity]) -> tuple[bytes, Header, bytes]:
    """Read the header from `src`, unwrap the file key and check the header MAC.

    Returns:
        The file key, the header, and the bytes read past the header.

    Raises:
        HeaderError: the header is malformed (including a malformed stanza of our own type).
        NoIdentityMatch: no identity unwraps the file key.
        HeaderMACError: the header MAC does not match.
    """
    header, rest = read_header(src)
    # Enforced here too, not only by ScryptIdentity, so that no other identity can open a
    # header whose scrypt stanza an attacker could have swapped.
    check_scrypt_alone(header.stanzas)
    for identity in identities:
        file_key = identity.unwrap(header.stanzas)
        if file_key is not None:
            break
    else:
        raise NoIdentityMatch()
    if len(file_key) != FILE_KEY_SIZE:
        raise HeaderError("malformed age stanza")
    verify_mac(header, file_key)
    return file_key, header, rest


def decrypt_chunks(src: BinaryIO, identities: Sequence[Identity]) -> Iterator[bytes]:
    """Authenticate the header of the age file in `src`, then iterate over its plaintext.

    Args:
        src: a readable stream positioned at the start of the age file; need not be seekable.
        identities: tried in order; the first that unwraps the file key is used.

    Returns:
        An iterator of non-empty plaintext chunks (at most 64 KiB each).

    Raises:
        HeaderError, NoIdentityMatch, HeaderMACError: at the call, from the header.
        PayloadError: while iterating, from the payload.
    """
    file_key, _, rest = unwrap_file_key(src, identities)
    source = _Source(rest, src)
    nonce = source.read_exact(NONCE_SIZE)
    if len(nonce) != NONCE_SIZE:
        raise HeaderError("malformed age header")
    return _plaintext(source, StreamCipher(payload_key(file_key, nonce)))


def _plaintext(source: _Source, cipher: StreamCipher) -> Iterator[bytes]:
    counter = 0
    while True:
        chunk = source.read_exact(ENCRYPTED_CHUNK_SIZE)
        if not chunk:
            raise PayloadError("age payload is truncated")
        # A short chunk can only be the final one; a full one may be either.
        last = len(chunk) < ENCRYPTED_CHUNK_SIZE
        if last and counter > 0 and len(chunk) == TAG_SIZE:
            raise PayloadError("age payload authentication failed")
        plaintext = cipher.open(counter, last, chunk)
        if plaintext is None and not last:
            last = True
            plaintext = cipher.open(counter, last, chunk)
        if plaintext is None:
            raise PayloadError("age payload authentication failed")
        if plaintext:
            yield plaintext
        if last:
            if source.read_exact(1):
                raise PayloadError("trailing data after age payload")
            return
        counter += 1


def decrypt(data: bytes, identities: Sequence[Identity]) -> bytes:
    """Decrypt a whole age file held in memory.

    Raises:
        AgeError: any malformation, tampering, truncation, trailing data, or no matching identity.
    """
    return b"".join(decrypt_chunks(io.BytesIO(data), identities))
