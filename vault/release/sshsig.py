"""SSH signatures (OpenSSH's SSHSIG format) with Ed25519, and `allowed_signers` files.

Release manifests are signed in this standard format so a third party can check them with plain
OpenSSH, without our software:

    ssh-keygen -Y verify -f allowed_signers -I carol -n embargo-vault-release \\
        -s MANIFEST.json.carol.sig < MANIFEST.json

Format (PROTOCOL.sshsig): the armored blob is "SSHSIG", u32 version 1, string public key,
string namespace, string reserved, string hash algorithm ("sha512"), string signature; the
signature covers "SSHSIG", string namespace, string reserved, string hash algorithm, string
SHA-512(message). Strings are u32 big-endian length-prefixed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from vault.errors import IntegrityError

NAMESPACE = "embargo-vault-release"
_MAGIC = b"SSHSIG"
_KEY_TYPE = b"ssh-ed25519"
_BEGIN = "-----BEGIN SSH SIGNATURE-----"
_END = "-----END SSH SIGNATURE-----"


def public_key_blob(key: Ed25519PublicKey) -> bytes:
    """The SSH wire form of an Ed25519 public key."""
    return _string(_KEY_TYPE) + _string(key.public_bytes_raw())


def public_key_line(key: Ed25519PublicKey) -> str:
    """`ssh-ed25519 AAAA…`, as in authorized_keys and allowed_signers."""
    return f"ssh-ed25519 {base64.b64encode(public_key_blob(key)).decode()}"


def allowed_signers_line(principal: str, key: Ed25519PublicKey, namespace: str = NAMESPACE) -> str:
    """One line of an OpenSSH allowed_signers file."""
    return f'{principal} namespaces="{namespace}" {public_key_line(key)}'


def sign(message: bytes, key: Ed25519PrivateKey, namespace: str = NAMESPACE) -> str:
    """An armored SSH signature of `message`."""
    signed = _signed_data(message, namespace)
    signature = _string(_KEY_TYPE) + _string(key.sign(signed))
    blob = (
        _MAGIC
        + struct.pack(">I", 1)
        + _string(public_key_blob(key.public_key()))
        + _string(namespace.encode())
        + _string(b"")
        + _string(b"sha512")
        + _string(signature)
    )
    text = base64.b64encode(blob).decode()
    lines = [text[i : i + 70] for i in range(0, len(text), 70)]
    return "\n".join([_BEGIN, *lines, _END]) + "\n"


def verify(message: bytes, armored: str, key: Ed25519PublicKey, namespace: str = NAMESPACE) -> None:
    """Check an armored SSH signature of `message` by `key` in `namespace`.

    Raises:
        IntegrityError: malformed, another key, another namespace, or a bad signature.
    """
    blob = _dearmor(armored)
    reader = _Reader(blob)
    if reader.take(6) != _MAGIC or reader.u32() != 1:
        raise IntegrityError("not an SSH signature")
    public, namespace_found, _reserved, algorithm, signature = (reader.string() for _ in range(5))
    reader.end()
    if public != public_key_blob(key):
        raise IntegrityError("the signature is by another key")
    if namespace_found != namespace.encode() or algorithm not in (b"sha512", b"sha256"):
        raise IntegrityError("the signature is for another purpose")
    inner = _Reader(signature)
    if inner.string() != _KEY_TYPE:
        raise IntegrityError("not an Ed25519 signature")
    raw = inner.string()
    inner.end()
    try:
        key.verify(raw, _signed_data(message, namespace, algorithm.decode()))
    except InvalidSignature:
        raise IntegrityError("the signature does not match") from None


def _signed_data(message: bytes, namespace: str, algorithm: str = "sha512") -> bytes:
    digest = hashlib.new(algorithm, message).digest()
    return (
        _MAGIC
        + _string(namespace.encode())
        + _string(b"")
        + _string(algorithm.encode())
        + _string(digest)
    )


def _string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _dearmor(armored: str) -> bytes:
    lines = [line.strip() for line in armored.strip().splitlines()]
    if len(lines) < 3 or lines[0] != _BEGIN or lines[-1] != _END:
        raise IntegrityError("not an armored SSH signature")
    try:
        return base64.b64decode("".join(lines[1:-1]), validate=True)
    except (binascii.Error, ValueError):
        raise IntegrityError("not an armored SSH signature") from None


class _Reader:
    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def take(self, n: int) -> bytes:
        if self._pos + n > len(self._data):
            raise IntegrityError("truncated SSH signature")
        chunk = self._data[self._pos : self._pos + n]
        self._pos += n
        return chunk

    def u32(self) -> int:
        value: int = struct.unpack(">I", self.take(4))[0]
        return value

    def string(self) -> bytes:
        return self.take(self.u32())

    def end(self) -> None:
        if self._pos != len(self._data):
            raise IntegrityError("trailing data in SSH signature")
