"""Post-quantum hybrid recipients (`age1pq1…`) and identities (`AGE-SECRET-KEY-PQ-1…`).

The `mlkem768x25519` stanza seals the file key with HPKE (base mode, KEM MLKEM768-X25519, KDF
HKDF-SHA256, AEAD ChaCha20-Poly1305, info `age-encryption.org/mlkem768x25519`); its argument is
the 1120-byte encapsulation. The identity is a 32-byte seed, expanded with SHAKE256 into the
ML-KEM-768 seed and the X25519 secret as the HPKE draft specifies. We support it so every C2SP
vector passes and files from newer age versions open; the vault itself uses X25519.

A hybrid recipient protects nothing if the file is also encrypted to a classic recipient, so the
`Encryptor` refuses to mix them. An X25519 half of the encapsulation that is a low-order point is
refused (`HeaderError`), as for plain X25519.
"""

import hashlib
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import mlkem, x25519

from vault.age import b64, bech32
from vault.age.errors import AgeError, HeaderError
from vault.age.header import Stanza
from vault.age.wrapping import check_body_size
from vault.age.x25519 import shared_secret

STANZA_TYPE = "mlkem768x25519"
_RECIPIENT_HRP = "age1pq"
_IDENTITY_HRP = "AGE-SECRET-KEY-PQ-"
_INFO = b"age-encryption.org/mlkem768x25519"
_SEED_SIZE = 32
_MLKEM_PUBLIC_SIZE = 1184
_MLKEM_CIPHERTEXT_SIZE = 1088
_X25519_SIZE = 32
_ENC_SIZE = _MLKEM_CIPHERTEXT_SIZE + _X25519_SIZE
_SUITE = hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)


class HybridRecipient:
    """An ML-KEM-768 + X25519 public key files can be encrypted to."""

    __slots__ = ("_key", "_public")

    def __init__(self, public: bytes) -> None:
        """Wrap the 1216-byte public key (ML-KEM-768 then X25519).

        Raises:
            AgeError: not a valid public key.
        """
        if len(public) != _MLKEM_PUBLIC_SIZE + _X25519_SIZE:
            raise AgeError("invalid age recipient")
        try:
            self._key = hpke.MLKEM768X25519PublicKey(
                mlkem.MLKEM768PublicKey.from_public_bytes(public[:_MLKEM_PUBLIC_SIZE]),
                x25519.X25519PublicKey.from_public_bytes(public[_MLKEM_PUBLIC_SIZE:]),
            )
        except ValueError:
            raise AgeError("invalid age recipient") from None
        self._public = bytes(public)

    @classmethod
    def parse(cls, text: str) -> "HybridRecipient":
        """Parse an `age1pq1…` recipient string.

        Raises:
            AgeError: not a valid hybrid recipient.
        """
        try:
            hrp, data = bech32.decode(text)
        except ValueError:
            raise AgeError("invalid age recipient") from None
        if hrp != _RECIPIENT_HRP:
            raise AgeError("invalid age recipient")
        return cls(data)

    def public_bytes(self) -> bytes:
        """The raw 1216-byte public key."""
        return self._public

    def wrap(self, file_key: bytes) -> list[Stanza]:
        """Wrap the file key to this recipient with HPKE."""
        sealed = _SUITE.encrypt(file_key, self._key, info=_INFO)
        enc, body = sealed[:_ENC_SIZE], sealed[_ENC_SIZE:]
        return [Stanza(STANZA_TYPE, (b64.encode(enc),), body)]

    def __str__(self) -> str:
        return bech32.encode(_RECIPIENT_HRP, self._public)

    def __repr__(self) -> str:
        return f"HybridRecipient({str(self)[:16]}…)"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, HybridRecipient):
            return NotImplemented
        return self._public == other._public

    def __hash__(self) -> int:
        return hash((HybridRecipient, self._public))


class HybridIdentity:
    """An ML-KEM-768 + X25519 secret key, held as its 32-byte seed."""

    __slots__ = ("_key", "_recipient", "_seed", "_x25519")

    def __init__(self, seed: bytes) -> None:
        """Expand a 32-byte seed into the key pair (prefer `generate` or `parse`).

        Raises:
            AgeError: not 32 bytes.
        """
        if len(seed) != _SEED_SIZE:
            raise AgeError("invalid age identity")
        expanded = hashlib.shake_256(seed).digest(64 + _X25519_SIZE)
        mlkem_key = mlkem.MLKEM768PrivateKey.from_seed_bytes(expanded[:64])
        self._x25519 = x25519.X25519PrivateKey.from_private_bytes(expanded[64:])
        self._key = hpke.MLKEM768X25519PrivateKey(mlkem_key, self._x25519)
        self._seed = bytes(seed)
        self._recipient = HybridRecipient(
            mlkem_key.public_key().public_bytes_raw() + self._x25519.public_key().public_bytes_raw()
        )

    @classmethod
    def generate(cls) -> "HybridIdentity":
        """A new random identity."""
        return cls(os.urandom(_SEED_SIZE))

    @classmethod
    def parse(cls, text: str) -> "HybridIdentity":
        """Parse an `AGE-SECRET-KEY-PQ-1…` identity string.

        Raises:
            AgeError: not a valid hybrid identity.
        """
        try:
            hrp, data = bech32.decode(text)
        except ValueError:
            raise AgeError("invalid age identity") from None
        if hrp != _IDENTITY_HRP:
            raise AgeError("invalid age identity")
        return cls(data)

    def secret_bytes(self) -> bytes:
        """The 32-byte seed. Handle with care."""
        return self._seed

    @property
    def recipient(self) -> HybridRecipient:
        """The public recipient files for this identity are encrypted to."""
        return self._recipient

    def unwrap(self, stanzas: Sequence[Stanza]) -> bytes | None:
        """Return the file key from the first hybrid stanza for this identity, or None.

        Raises:
            HeaderError: a hybrid stanza is malformed or its X25519 half is low-order.
        """
        for stanza in stanzas:
            if stanza.type != STANZA_TYPE:
                continue
            if len(stanza.args) != 1:
                raise HeaderError("malformed age stanza")
            enc = b64.decode(stanza.args[0])
            if enc is None or len(enc) != _ENC_SIZE:
                raise HeaderError("malformed age stanza")
            check_body_size(stanza.body)
            # HPKE's own failure cannot tell a low-order share from a wrong key; this can.
            shared_secret(self._x25519, enc[_MLKEM_CIPHERTEXT_SIZE:])
            try:
                return _SUITE.decrypt(enc + stanza.body, self._key, info=_INFO)
            except InvalidTag:
                # ML-KEM rejects implicitly: a wrong key only shows here, as "not for us".
                continue
        return None

    def __str__(self) -> str:
        return bech32.encode(_IDENTITY_HRP, self._seed)

    def __repr__(self) -> str:
        return f"HybridIdentity(recipient={str(self._recipient)[:16]}…)"
