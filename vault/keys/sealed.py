"""Vault and collection secrets, age-encrypted to the members who hold them.

    keys/vault.age                       32-byte vault secret, to every active member
    keys/collections/<cid>/v<N>.age      collection secret version N, to its recipients

The vault secret keys `vault.db` and the audit log's bodies (what every member may see). A
collection secret holds the collection's X25519 identities (every version so far, so remaining
members keep reading old objects after a revocation), its catalog key and its id (addressing)
key. The id key never changes, or deduplication across versions would break; the catalog key
and identity rotate on revocation.

Every encryption here goes only to recipients found in the verified roster: a public key planted
on disk by someone with write access is never used.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from vault import age, canonical
from vault.errors import AccessDenied, IntegrityError
from vault.keys.bounded import SECRET_LIMIT, read_bounded
from vault.keys.member import MemberKeys
from vault.keys.roster import MemberRecord
from vault.store.atomic import write_atomic
from vault.store.objects import ObjectKeys


def derive(secret: bytes, purpose: str) -> bytes:
    """A 32-byte subkey of a secret for one purpose."""
    hkdf = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"embargo-vault " + purpose.encode()
    )
    return hkdf.derive(secret)


def seal_to(recipients: Sequence[MemberRecord], plaintext: bytes) -> bytes:
    """Encrypt to roster members' age recipients."""
    if not recipients:
        raise ValueError("no recipients")
    return age.encrypt(plaintext, [m.age_recipient() for m in recipients])


def open_sealed(data: bytes, keys: MemberKeys, *, what: str) -> bytes:
    """Decrypt something sealed to members.

    Raises:
        AccessDenied: it was not sealed to this member.
        IntegrityError: it is damaged.
    """
    try:
        return age.decrypt(data, [keys.identity])
    except age.NoIdentityMatch:
        raise AccessDenied(f"member {keys.name!r} holds no key for {what}") from None
    except age.AgeError:
        raise IntegrityError(f"{what} is damaged") from None


def vault_secret_path(vault_dir: Path) -> Path:
    """Where the vault secret lives."""
    return vault_dir / "keys" / "vault.age"


def read_vault_secret_file(vault_dir: Path) -> bytes:
    """The sealed vault secret's bytes, read with a bound.

    Raises:
        IntegrityError: the file is missing, too large or not a regular file.
    """
    try:
        return read_bounded(vault_secret_path(vault_dir), SECRET_LIMIT, what="the vault secret")
    except FileNotFoundError:
        raise IntegrityError("the vault secret is missing") from None


@dataclass(frozen=True)
class CollectionSecret:
    """A collection's keys at one version. Holds secrets: never log or print it."""

    cid: str
    version: int
    identities: tuple[age.X25519Identity, ...]
    catalog_key: bytes
    id_key: bytes

    @classmethod
    def generate(cls, cid: str) -> CollectionSecret:
        """Fresh keys for a new collection."""
        return cls(cid, 1, (age.X25519Identity.generate(),), os.urandom(32), os.urandom(32))

    def rotated(self) -> CollectionSecret:
        """The next version: a new identity and catalog key; the id key stays."""
        return CollectionSecret(
            self.cid,
            self.version + 1,
            (*self.identities, age.X25519Identity.generate()),
            os.urandom(32),
            self.id_key,
        )

    @property
    def object_keys(self) -> ObjectKeys:
        """What reading this collection's objects takes."""
        return ObjectKeys(self.identities, self.id_key)

    @property
    def current(self) -> age.X25519Identity:
        """The identity new objects are encrypted to."""
        return self.identities[-1]

    def __repr__(self) -> str:
        return f"CollectionSecret({self.cid!r}, v{self.version})"

    def encode(self) -> bytes:
        """Serialise for sealing."""
        return canonical.dumps(
            {
                "cid": self.cid,
                "version": self.version,
                "identities": [str(i) for i in self.identities],
                "catalog_key": self.catalog_key.hex(),
                "id_key": self.id_key.hex(),
            }
        )

    @classmethod
    def decode(cls, data: bytes, *, cid: str, version: int) -> CollectionSecret:
        """Parse a decrypted secret and check it is the one its file name says.

        Raises:
            IntegrityError: malformed, or a secret of another collection or version.
        """
        doc: dict[str, Any] = canonical.loads(data, what="collection secret")
        try:
            secret = cls(
                cid=doc["cid"],
                version=doc["version"],
                identities=tuple(age.X25519Identity.parse(t) for t in doc["identities"]),
                catalog_key=bytes.fromhex(doc["catalog_key"]),
                id_key=bytes.fromhex(doc["id_key"]),
            )
        except (KeyError, TypeError, ValueError, IntegrityError):
            raise IntegrityError("collection secret is damaged") from None
        if len(secret.catalog_key) != 32 or len(secret.id_key) != 32:
            raise IntegrityError("collection secret is damaged")
        if secret.cid != cid or secret.version != version or len(secret.identities) != version:
            raise IntegrityError("collection secret does not belong where it was found")
        return secret


def collection_secret_path(vault_dir: Path, cid: str, version: int) -> Path:
    """Where a collection secret version lives."""
    return vault_dir / "keys" / "collections" / cid / f"v{version}.age"


def write_collection_secret(
    vault_dir: Path, secret: CollectionSecret, recipients: Sequence[MemberRecord]
) -> None:
    """Seal a collection secret to its roster recipients and write it durably."""
    path = collection_secret_path(vault_dir, secret.cid, secret.version)
    write_atomic(path, seal_to(recipients, secret.encode()))


def read_collection_secret(
    vault_dir: Path, cid: str, version: int, keys: MemberKeys
) -> CollectionSecret:
    """Open a collection secret as a member.

    Raises:
        AccessDenied: the member was not given this collection.
        IntegrityError: the file is missing or damaged.
    """
    path = collection_secret_path(vault_dir, cid, version)
    try:
        data = read_bounded(path, SECRET_LIMIT, what="a collection secret")
    except FileNotFoundError:
        raise IntegrityError("a collection secret is missing") from None
    plain = open_sealed(data, keys, what="this collection")
    return CollectionSecret.decode(plain, cid=cid, version=version)
