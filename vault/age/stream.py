"""The STREAM payload construction: 64 KiB chunks of ChaCha20-Poly1305.

After the header comes a 16-byte nonce; the payload key is HKDF-SHA256(file key, salt = nonce,
info "payload"). Plaintext is cut into 64 KiB chunks, each sealed with the nonce
`11-byte big-endian counter || flag`, where the flag is 1 on the final chunk only. The final
chunk may be short; it is empty only when the whole plaintext is, and a plaintext that is an exact
multiple of 64 KiB ends with a full final chunk, never an empty one after it. Because the final
flag is authenticated, truncation at a chunk boundary and appended chunks are both detected.

This module holds the primitives and the size arithmetic shared by the streaming writer, the
streaming reader and the random-access reader.
"""

from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from vault.age.errors import PayloadError

CHUNK_SIZE = 64 * 1024
TAG_SIZE = 16
ENCRYPTED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE
NONCE_SIZE = 16
_MAX_COUNTER = 1 << 88


def payload_key(file_key: bytes, nonce: bytes) -> bytes:
    """The STREAM key: HKDF-SHA256(ikm = file key, salt = payload nonce, info = "payload")."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=nonce, info=b"payload").derive(file_key)


def _chunk_nonce(counter: int, last: bool) -> bytes:
    if not 0 <= counter < _MAX_COUNTER:
        # 2^88 chunks is unreachable; refusing beats reusing a nonce.
        raise PayloadError("age payload is too long")
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


class StreamCipher:
    """Seals and opens single STREAM chunks by index."""

    __slots__ = ("_aead",)

    def __init__(self, key: bytes) -> None:
        """Use the 32-byte payload key from `payload_key`."""
        self._aead = ChaCha20Poly1305(key)

    def seal(self, counter: int, last: bool, plaintext: bytes | memoryview) -> bytes:
        """Encrypt chunk number `counter`; `last` marks the final chunk."""
        return self._aead.encrypt(_chunk_nonce(counter, last), plaintext, None)

    def seal_into(
        self, counter: int, last: bool, plaintext: bytes | memoryview, out: memoryview
    ) -> None:
        """Encrypt chunk number `counter` into `out`, which is `TAG_SIZE` bytes longer."""
        self._aead.encrypt_into(_chunk_nonce(counter, last), plaintext, None, out)

    def open(self, counter: int, last: bool, ciphertext: bytes) -> bytes | None:
        """Decrypt chunk number `counter` as final or not, or None if it does not authenticate."""
        try:
            return self._aead.decrypt(_chunk_nonce(counter, last), ciphertext, None)
        except InvalidTag:
            return None


@dataclass(frozen=True)
class Layout:
    """Where the chunks of a payload of known length are.

    Attributes:
        chunks: the number of chunks (at least 1).
        last_size: the encrypted size of the final chunk, tag included.
        plaintext_size: the length of the whole plaintext.
    """

    chunks: int
    last_size: int
    plaintext_size: int

    def encrypted_size(self, index: int) -> int:
        """The encrypted size of chunk `index`."""
        return self.last_size if index == self.chunks - 1 else ENCRYPTED_CHUNK_SIZE


def layout(payload_size: int) -> Layout:
    """Compute the chunk layout of `payload_size` bytes of STREAM ciphertext (nonce excluded).

    Raises:
        PayloadError: no length is valid here: empty, a final chunk shorter than its tag, or an
            empty final chunk after a full one.
    """
    full, rest = divmod(payload_size, ENCRYPTED_CHUNK_SIZE)
    chunks, last_size = (full, ENCRYPTED_CHUNK_SIZE) if rest == 0 else (full + 1, rest)
    if chunks == 0 or last_size < TAG_SIZE or (last_size == TAG_SIZE and chunks > 1):
        raise PayloadError("age payload is truncated")
    return Layout(chunks, last_size, (chunks - 1) * CHUNK_SIZE + last_size - TAG_SIZE)
