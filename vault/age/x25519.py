"""X25519 recipients (`age1…`) and identities (`AGE-SECRET-KEY-1…`).

Wrapping: an ephemeral X25519 key agrees a shared secret with the recipient; HKDF-SHA256 with
salt `ephemeral share || recipient` and info `age-encryption.org/v1/X25519` makes the wrapping
key; the stanza is `-> X25519 <share>` with the sealed file key as body. An all-zero shared
secret (a low-order share) is refused: it would make the wrapping key public. The secret key
never appears in a repr or an error message.
"""

import hmac
import os
from collections.abc import Sequence

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from vault.age import b64, bech32
from vault.age.errors import AgeError, HeaderError
from vault.age.header import Stanza
from vault.age.wrapping import check_body_size, open_file_key, seal_file_key

STANZA_TYPE = "X25519"
_RECIPIENT_HRP = "age"
_IDENTITY_HRP = "AGE-SECRET-KEY-"
_INFO = b"age-encryption.org/v1/X25519"
_KEY_SIZE = 32


def shared_secret(private: X25519PrivateKey, public: bytes) -> bytes:
    """X25519 agreement that refuses the all-zero secret of a low-order point.

    Raises:
        HeaderError: `public` is a low-order point (or not 32 bytes).
    """
    try:
        shared = private.exchange(X25519PublicKey.from_public_bytes(public))
    except ValueError:
        # OpenSSL refuses the all-zero result itself; say nothing about why.
        shared = bytes(_KEY_SIZE)
    if hmac.compare_digest(shared, bytes(_KEY_SIZE)):
        raise HeaderError("malformed age stanza")
    return shared


def _wrapping_key(shared: bytes, share: bytes, recipient: bytes) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=share + recipient, info=_INFO)
    return hkdf.derive(shared)


class X25519Recipient:
    """An X25519 public key files can be encrypted to."""

    __slots__ = ("_key",)

    def __init__(self, public: bytes) -> None:
        """Wrap 32 raw public-key bytes (prefer `parse` for user-supplied text).

        Raises:
            AgeError: not 32 bytes.
        """
        if len(public) != _KEY_SIZE:
            raise AgeError("invalid age recipient")
        self._key = bytes(public)

    @classmethod
    def parse(cls, text: str) -> "X25519Recipient":
        """Parse an `age1…` recipient string.

        Raises:
            AgeError: not a valid lowercase `age1…` X25519 recipient.
        """
        try:
            hrp, data = bech32.decode(text)
        except ValueError:
            raise AgeError("invalid age recipient") from None
        if hrp != _RECIPIENT_HRP:
            raise AgeError("invalid age recipient")
        return cls(data)

    def public_bytes(self) -> bytes:
        """The raw 32-byte public key."""
        return self._key

    def wrap(self, file_key: bytes) -> list[Stanza]:
        """Wrap the file key to this recipient with a fresh ephemeral key."""
        ephemeral = X25519PrivateKey.generate()
        share = ephemeral.public_key().public_bytes_raw()
        try:
            shared = shared_secret(ephemeral, self._key)
        except HeaderError:
            raise AgeError("invalid age recipient") from None
        body = seal_file_key(_wrapping_key(shared, share, self._key), file_key)
        return [Stanza(STANZA_TYPE, (b64.encode(share),), body)]

    def __str__(self) -> str:
        return bech32.encode(_RECIPIENT_HRP, self._key)

    def __repr__(self) -> str:
        return f"X25519Recipient({self})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, X25519Recipient):
            return NotImplemented
        return self._key == other._key

    def __hash__(self) -> int:
        return hash((X25519Recipient, self._key))


class X25519Identity:
    """An X25519 secret key that decrypts files encrypted to its recipient."""

    __slots__ = ("_private", "_recipient")

    def __init__(self, private: X25519PrivateKey) -> None:
        """Wrap a cryptography private key (prefer `generate`, `from_secret` or `parse`)."""
        self._private = private
        self._recipient = X25519Recipient(private.public_key().public_bytes_raw())

    @classmethod
    def generate(cls) -> "X25519Identity":
        """A new random identity."""
        return cls.from_secret(os.urandom(_KEY_SIZE))

    @classmethod
    def from_secret(cls, secret: bytes) -> "X25519Identity":
        """The identity for 32 raw secret-key bytes.

        Raises:
            AgeError: not 32 bytes.
        """
        if len(secret) != _KEY_SIZE:
            raise AgeError("invalid age identity")
        return cls(X25519PrivateKey.from_private_bytes(secret))

    @classmethod
    def parse(cls, text: str) -> "X25519Identity":
        """Parse an `AGE-SECRET-KEY-1…` identity string.

        Raises:
            AgeError: not a valid uppercase `AGE-SECRET-KEY-1…` identity.
        """
        try:
            hrp, data = bech32.decode(text)
        except ValueError:
            raise AgeError("invalid age identity") from None
        if hrp != _IDENTITY_HRP:
            raise AgeError("invalid age identity")
        return cls.from_secret(data)

    def secret_bytes(self) -> bytes:
        """The raw 32-byte secret key. Handle with care."""
        return self._private.private_bytes_raw()

    @property
    def recipient(self) -> X25519Recipient:
        """The public recipient files for this identity are encrypted to."""
        return self._recipient

    def unwrap(self, stanzas: Sequence[Stanza]) -> bytes | None:
        """Return the file key from the first X25519 stanza for this identity, or None.

        Raises:
            HeaderError: an X25519 stanza is malformed or has a low-order share.
        """
        ours = self._recipient.public_bytes()
        for stanza in stanzas:
            if stanza.type != STANZA_TYPE:
                continue
            if len(stanza.args) != 1:
                raise HeaderError("malformed age stanza")
            share = b64.decode(stanza.args[0])
            if share is None or len(share) != _KEY_SIZE:
                raise HeaderError("malformed age stanza")
            check_body_size(stanza.body)
            shared = shared_secret(self._private, share)
            file_key = open_file_key(_wrapping_key(shared, share, ours), stanza.body)
            if file_key is not None:
                return file_key
        return None

    def __str__(self) -> str:
        return bech32.encode(_IDENTITY_HRP, self.secret_bytes())

    def __repr__(self) -> str:
        # Never the secret: reprs end up in logs and tracebacks.
        return f"X25519Identity(recipient={self._recipient})"
