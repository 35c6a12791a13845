"""The age v1 file format (https://age-encryption.org/v1) on pyca/cryptography.

Objects in the vault are standard age files, so that in an emergency `age -d` recovers them
with no vault software. This package encrypts and decrypts them: X25519 and scrypt recipients
(plus the post-quantum hybrid, so files from newer age versions open), strict header parsing,
and the STREAM payload as a bounded-memory writer, a streaming reader and a seekable reader.
Every malformed, tampered or truncated input raises an `AgeError`; no armor support.
"""

from vault.age.decrypt import decrypt, decrypt_chunks
from vault.age.encrypt import Encryptor, encrypt
from vault.age.errors import (
    AgeError,
    HeaderError,
    HeaderMACError,
    NoIdentityMatch,
    PayloadError,
)
from vault.age.header import Stanza
from vault.age.hybrid import HybridIdentity, HybridRecipient
from vault.age.protocols import Identity, Recipient
from vault.age.reader import ChunkReader
from vault.age.scrypt import ScryptIdentity, ScryptRecipient
from vault.age.x25519 import X25519Identity, X25519Recipient

__all__ = [
    "AgeError",
    "ChunkReader",
    "Encryptor",
    "HeaderError",
    "HeaderMACError",
    "HybridIdentity",
    "HybridRecipient",
    "Identity",
    "NoIdentityMatch",
    "PayloadError",
    "Recipient",
    "ScryptIdentity",
    "ScryptRecipient",
    "Stanza",
    "X25519Identity",
    "X25519Recipient",
    "decrypt",
    "decrypt_chunks",
    "encrypt",
]
