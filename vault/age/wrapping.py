"""Sealing the file key in a stanza body, as X25519 and scrypt stanzas both do.

The body is ChaCha20-Poly1305 with an all-zero nonce (each wrapping key is used once) over the
16-byte file key. A body of the wrong length is malformed (`HeaderError`); a body of the right
length that does not authenticate is simply not for this key (None), as the spec requires.
"""

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from vault.age.errors import HeaderError
from vault.age.protocols import FILE_KEY_SIZE

_ZERO_NONCE = bytes(12)
_TAG_SIZE = 16
BODY_SIZE = FILE_KEY_SIZE + _TAG_SIZE


def seal_file_key(wrapping_key: bytes, file_key: bytes) -> bytes:
    """Encrypt the file key under a single-use 32-byte wrapping key."""
    if len(file_key) != FILE_KEY_SIZE:
        raise ValueError("the file key is 16 bytes")
    return ChaCha20Poly1305(wrapping_key).encrypt(_ZERO_NONCE, file_key, None)


def check_body_size(body: bytes) -> None:
    """Refuse a body that cannot hold a 16-byte file key, before any expensive work.

    Raises:
        HeaderError: the body is not exactly 32 bytes.
    """
    if len(body) != BODY_SIZE:
        raise HeaderError("malformed age stanza")


def open_file_key(wrapping_key: bytes, body: bytes) -> bytes | None:
    """Decrypt a stanza body.

    Returns:
        The file key, or None if the body does not authenticate under `wrapping_key`.

    Raises:
        HeaderError: the body is not exactly 32 bytes.
    """
    check_body_size(body)
    try:
        return ChaCha20Poly1305(wrapping_key).decrypt(_ZERO_NONCE, body, None)
    except InvalidTag:
        return None
