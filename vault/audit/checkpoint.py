"""Checkpoints: a log head signed by a member, for release manifests, paper and USB sticks.

A checkpoint says "on <at>, the audit log of vault <vault_id> had <seq> records and the last one's
digest was <digest>", signed with Ed25519. Checked against a log (`AuditLog.verify(checkpoint=)`),
it catches a log truncated below it, an older copy of the disk restored, or a history rewritten.

JSON form (what `to_json` writes; `from_json` refuses anything else)::

    {"at":"2017-05-07T18:00:00.000000Z","digest":"<64 hex>","format":"embargo-vault-audit-
    checkpoint/1","seq":12,"signature":"<128 hex>","signer":"carol","vault_id":"<id>"}

(one line, keys sorted, lowercase hex). The signature is over
``"embargo-vault audit checkpoint v1" || 0x00 || canonical JSON of {at, digest, seq, signer,
vault_id}``, so it does not depend on how the JSON text was laid out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from vault.audit.body import canonical_json, format_time, parse_time, strict_json
from vault.audit.frame import DIGEST_LEN, SIG_LEN, Head
from vault.errors import IntegrityError

FORMAT = "embargo-vault-audit-checkpoint/1"
CONTEXT = b"embargo-vault audit checkpoint v1\x00"
MAX_TEXT = 64 * 1024
_KEYS = frozenset({"at", "digest", "format", "seq", "signature", "signer", "vault_id"})
_HEX = re.compile(r"[0-9a-f]*", re.ASCII)


@dataclass(frozen=True)
class Checkpoint:
    """A signed head of one vault's audit log."""

    vault_id: str
    seq: int
    digest: bytes
    at: datetime
    signer: str
    signature: bytes

    @classmethod
    def sign(cls, log_head: Head, *, vault_id: str, at: datetime, signer: str,
             key: Ed25519PrivateKey) -> Checkpoint:
        """Sign a log head.

        Args:
            log_head: the head to vouch for, from `AuditLog.head()` or a verify report.
            vault_id: the vault whose log it is.
            at: when (timezone-aware; from the caller's `Clock`).
            signer: the member name the signature is checked against.
            key: that member's signing key.

        Raises:
            ValueError: an empty vault id or signer, a naive time, or a malformed head.
        """
        if not vault_id or not signer:
            raise ValueError("a checkpoint needs a vault id and a signer")
        if log_head.seq < 0 or len(log_head.digest) != DIGEST_LEN:
            raise ValueError("malformed log head")
        unsigned = cls(vault_id=vault_id, seq=log_head.seq, digest=log_head.digest,
                       at=parse_time(format_time(at)), signer=signer, signature=b"")
        return replace(unsigned, signature=key.sign(unsigned.message()))

    @property
    def head(self) -> Head:
        """The log head this checkpoint vouches for."""
        return Head(seq=self.seq, digest=self.digest)

    def message(self) -> bytes:
        """The exact bytes the signature covers."""
        fields = {"at": format_time(self.at), "digest": self.digest.hex(), "seq": self.seq,
                  "signer": self.signer, "vault_id": self.vault_id}
        return CONTEXT + canonical_json(fields)

    def verify_signature(self, key: Ed25519PublicKey) -> None:
        """Check the signature against the signer's public key.

        Raises:
            IntegrityError: the signature does not verify (tampered checkpoint or wrong key).
        """
        try:
            key.verify(self.signature, self.message())
        except InvalidSignature:
            raise IntegrityError(
                f"the audit checkpoint signature by {self.signer!r} does not verify"
            ) from None

    def to_json(self) -> str:
        """The checkpoint as one line of canonical JSON."""
        fields = {"at": format_time(self.at), "digest": self.digest.hex(), "format": FORMAT,
                  "seq": self.seq, "signature": self.signature.hex(), "signer": self.signer,
                  "vault_id": self.vault_id}
        return canonical_json(fields).decode("utf-8")

    @classmethod
    def from_json(cls, text: str) -> Checkpoint:
        """Parse a checkpoint strictly. This does not check the signature.

        Raises:
            IntegrityError: not a checkpoint: bad JSON, unknown or missing fields, wrong types,
                malformed hex or time.
        """
        if len(text) > MAX_TEXT:
            raise IntegrityError("not an audit checkpoint: too long")
        try:
            value = strict_json(text)
        except (TypeError, ValueError) as exc:
            raise IntegrityError(f"not an audit checkpoint: {exc}") from None
        if not isinstance(value, dict) or set(value) != _KEYS:
            raise IntegrityError("not an audit checkpoint: wrong set of fields")
        if value["format"] != FORMAT:
            raise IntegrityError("not an audit checkpoint: unknown format")
        seq = value["seq"]
        if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq < 1 << 64:
            raise IntegrityError("audit checkpoint: seq is not a record number")
        vault_id, signer, at = value["vault_id"], value["signer"], value["at"]
        if not (isinstance(vault_id, str) and vault_id and isinstance(signer, str) and signer):
            raise IntegrityError("audit checkpoint: vault_id and signer must be non-empty text")
        if not isinstance(at, str):
            raise IntegrityError("audit checkpoint: at is not a time")
        try:
            when = parse_time(at)
        except ValueError:
            raise IntegrityError("audit checkpoint: at is not a UTC time") from None
        return cls(vault_id=vault_id, seq=seq, digest=_unhex(value["digest"], DIGEST_LEN, "digest"),
                   at=when, signer=signer,
                   signature=_unhex(value["signature"], SIG_LEN, "signature"))


def _unhex(value: object, size: int, name: str) -> bytes:
    if not isinstance(value, str) or len(value) != 2 * size or not _HEX.fullmatch(value):
        raise IntegrityError(f"audit checkpoint: {name} is not {2 * size} lowercase hex digits")
    return bytes.fromhex(value)
