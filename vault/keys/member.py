"""A member's keys and the key file that seals them under a passphrase.

A member is one 32-byte random seed. HKDF derives from it the member's X25519 (age) identity, to
which vault and collection secrets are encrypted, and their Ed25519 signing key, with which they
sign roster statements, audit entries and approvals.

The key file `keys/members/<name>.key` is JSON:

    {"format": "embargo-vault member key v1", "member": NAME,
     "kdf": {"alg": "argon2id", "v": 19, "m": KiB, "t": passes, "p": lanes, "salt": B64},
     "nonce": B64, "sealed": B64, "signature": B64}

`sealed` is ChaCha20-Poly1305 under Argon2id(passphrase) of seed ‖ anchor, where the anchor is
the digest of the vault's genesis roster statement: a member's own sealed file tells them which
roster to trust, so a roster forged by someone with disk access is refused. The associated data
is the canonical header (format, member, kdf), so parameters cannot be swapped. A wrong
passphrase fails the AEAD tag: there is no separate verifier. `signature` is the member's Ed25519
signature over everything else, so `vault check` detects a damaged key file without the
passphrase, against the public key in the signed roster.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from vault import canonical
from vault.age import X25519Identity
from vault.errors import BadCredentials, IntegrityError, UsageError
from vault.keys.bounded import KEY_FILE_LIMIT, read_bounded
from vault.keys.stretch import stretch
from vault.store.atomic import write_atomic

FORMAT = "embargo-vault member key v1"
SIGNATURE_CONTEXT = b"embargo-vault member key file v1\n"


@dataclass(frozen=True)
class KdfParams:
    """Argon2id parameters (RFC 9106); memory in KiB."""

    memory_kib: int = 64 * 1024
    passes: int = 3
    lanes: int = 4

    # Floors follow DESIGN §5 (never below m=64 MiB, t=3); ceilings stop a hostile key file
    # from making unlock allocate or spin without bound.
    MIN_MEMORY_KIB = 64 * 1024
    MAX_MEMORY_KIB = 4 * 1024 * 1024
    MIN_PASSES, MAX_PASSES = 3, 64
    MIN_LANES, MAX_LANES = 1, 16

    def check(self) -> None:
        """Refuse parameters outside the safe range, before any work is done.

        Raises:
            IntegrityError: a parameter is out of bounds.
        """
        if not (
            self.MIN_MEMORY_KIB <= self.memory_kib <= self.MAX_MEMORY_KIB
            and self.MIN_PASSES <= self.passes <= self.MAX_PASSES
            and self.MIN_LANES <= self.lanes <= self.MAX_LANES
        ):
            raise IntegrityError("member key file has out-of-range key derivation parameters")


class MemberKeys:
    """A member's unsealed keys. Holds secrets: never log or print it."""

    def __init__(self, name: str, seed: bytes, anchor: bytes) -> None:
        if len(seed) != 32 or len(anchor) != 32:
            raise ValueError("seed and anchor are 32 bytes")
        self.name = name
        self.anchor = anchor
        self._seed = seed
        self.identity = X25519Identity.from_secret(_derive(seed, b"x25519"))
        self.signing_key = Ed25519PrivateKey.from_private_bytes(_derive(seed, b"ed25519"))

    @classmethod
    def generate(cls, name: str, anchor: bytes) -> MemberKeys:
        """Fresh random keys for a new member."""
        return cls(name, os.urandom(32), anchor)

    @property
    def verify_key(self) -> Ed25519PublicKey:
        """The member's public signing key."""
        return self.signing_key.public_key()

    def __repr__(self) -> str:
        return f"MemberKeys({self.name!r})"

    def seal(self, passphrase: bytes, params: KdfParams) -> bytes:
        """The key file contents sealing these keys under a passphrase."""
        params.check()
        salt = os.urandom(16)
        header: dict[str, Any] = {
            "format": FORMAT,
            "member": self.name,
            "kdf": {
                "alg": "argon2id",
                "v": 19,
                "m": params.memory_kib,
                "t": params.passes,
                "p": params.lanes,
                "salt": canonical.b64(salt),
            },
        }
        key = _stretch(passphrase, salt, params)
        nonce = os.urandom(12)
        sealed = ChaCha20Poly1305(key).encrypt(
            nonce, self._seed + self.anchor, canonical.dumps(header)
        )
        body = {**header, "nonce": canonical.b64(nonce), "sealed": canonical.b64(sealed)}
        signature = self.signing_key.sign(SIGNATURE_CONTEXT + canonical.dumps(body))
        return canonical.dumps({**body, "signature": canonical.b64(signature)})


@dataclass(frozen=True)
class KeyFile:
    """A parsed, not yet unsealed, member key file."""

    member: str
    params: KdfParams
    salt: bytes
    nonce: bytes
    sealed: bytes
    signature: bytes
    header: dict[str, Any]
    signed_body: bytes

    @classmethod
    def parse(cls, data: bytes) -> KeyFile:
        """Parse a key file strictly.

        Raises:
            IntegrityError: the file is not a well-formed member key file.
        """
        doc = canonical.loads(data, what="member key file")
        kdf = doc.get("kdf")
        if (
            doc.get("format") != FORMAT
            or not isinstance(kdf, dict)
            or not isinstance(doc.get("member"), str)
        ):
            raise IntegrityError("member key file is damaged")
        if kdf.get("alg") != "argon2id" or kdf.get("v") != 19:
            raise IntegrityError("member key file uses an unknown key derivation")
        numbers = [kdf.get(k) for k in ("m", "t", "p")]
        if not all(type(n) is int for n in numbers):
            raise IntegrityError("member key file is damaged")
        params = KdfParams(memory_kib=kdf["m"], passes=kdf["t"], lanes=kdf["p"])
        header = {"format": FORMAT, "member": doc["member"], "kdf": kdf}
        body = {k: v for k, v in doc.items() if k != "signature"}
        if set(doc) != {"format", "member", "kdf", "nonce", "sealed", "signature"}:
            raise IntegrityError("member key file is damaged")
        return cls(
            member=doc["member"],
            params=params,
            salt=canonical.unb64(kdf.get("salt"), what="member key file"),
            nonce=canonical.unb64(doc["nonce"], what="member key file"),
            sealed=canonical.unb64(doc["sealed"], what="member key file"),
            signature=canonical.unb64(doc["signature"], what="member key file"),
            header=header,
            signed_body=canonical.dumps(body),
        )

    def verify_signature(self, key: Ed25519PublicKey) -> None:
        """Check the file was written by the holder of `key` and not altered since.

        Raises:
            IntegrityError: the signature does not verify.
        """
        try:
            key.verify(self.signature, SIGNATURE_CONTEXT + self.signed_body)
        except InvalidSignature:
            raise IntegrityError(f"key file of member {self.member!r} was altered") from None

    def unseal(self, passphrase: bytes) -> MemberKeys:
        """Open the file with a passphrase.

        Raises:
            IntegrityError: the stored parameters are out of range.
            BadCredentials: wrong passphrase (or a damaged file: the two look the same).
        """
        self.params.check()
        if not 16 <= len(self.salt) <= 64 or len(self.nonce) != 12:
            raise IntegrityError("member key file is damaged")
        key = _stretch(passphrase, self.salt, self.params)
        try:
            plain = ChaCha20Poly1305(key).decrypt(
                self.nonce, self.sealed, canonical.dumps(self.header)
            )
        except InvalidTag:
            raise BadCredentials(
                f"wrong passphrase for member {self.member!r}",
                hint="check the passphrase (or --passphrase-file) and the member name",
            ) from None
        return MemberKeys(self.member, plain[:32], plain[32:])


def key_file_path(vault_dir: Path, name: str) -> Path:
    """Where a member's key file lives."""
    return vault_dir / "keys" / "members" / f"{name}.key"


def read_key_file(vault_dir: Path, name: str) -> KeyFile:
    """Read and parse a member's key file.

    Raises:
        BadCredentials: no such member key file.
        IntegrityError: the file is damaged, too large, or not a regular file.
    """
    check_member_name(name)
    try:
        data = read_bounded(
            key_file_path(vault_dir, name), KEY_FILE_LIMIT, what=f"key file of member {name!r}"
        )
    except FileNotFoundError:
        raise BadCredentials(
            f"no member {name!r} in this vault", hint="`vault member list` shows the members"
        ) from None
    key_file = KeyFile.parse(data)
    if key_file.member != name:
        raise IntegrityError(f"key file of member {name!r} names another member")
    return key_file


def write_key_file(vault_dir: Path, keys: MemberKeys, passphrase: bytes, params: KdfParams) -> None:
    """Seal and durably write a member's key file."""
    write_atomic(key_file_path(vault_dir, keys.name), keys.seal(passphrase, params))


def check_member_name(name: str) -> None:
    """Member names are short lowercase slugs: they become file names.

    Raises:
        UsageError: the name is not a valid member name.
    """
    ok = 1 <= len(name) <= 32 and name[0].isascii() and name[0].isalpha()
    if not ok or not all(c.isascii() and (c.islower() or c.isdigit() or c in "-_") for c in name):
        raise UsageError(
            f"invalid member name {name!r}",
            hint="use 1-32 lowercase letters, digits, '-' or '_', starting with a letter",
        )


def _stretch(passphrase: bytes, salt: bytes, params: KdfParams) -> bytes:
    return stretch(
        passphrase, salt, memory_kib=params.memory_kib, passes=params.passes, lanes=params.lanes
    )


def _derive(seed: bytes, purpose: bytes) -> bytes:
    hkdf = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"embargo-vault member " + purpose
    )
    return hkdf.derive(seed)
