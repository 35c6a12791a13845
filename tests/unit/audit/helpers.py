"""Shared pieces for the audit log tests: members, a log factory, and an independent reading of
the documented byte format (so tests do not trust the code under test to find records)."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from vault.audit import AuditLog, Head

VAULT_ID = "vault-3f9c2a"
BODY_KEY = bytes(range(32))
T0 = datetime(2017, 5, 5, 20, 0, tzinfo=UTC)
HEADER_LEN = 44


@dataclass
class Members:
    """Signing keys by member name."""

    keys: dict[str, Ed25519PrivateKey] = field(default_factory=dict)

    @classmethod
    def of(cls, *names: str) -> Members:
        return cls({name: Ed25519PrivateKey.generate() for name in names})

    def public_key_of(self, name: str) -> Ed25519PublicKey | None:
        key = self.keys.get(name)
        return None if key is None else key.public_key()


def open_log(path: Path, *, vault_id: str = VAULT_ID, body_key: bytes = BODY_KEY) -> AuditLog:
    return AuditLog(path, vault_id=vault_id, body_key=body_key)


def fill(log: AuditLog, members: Members, count: int, *, first: int = 1) -> list[Head]:
    """Append `count` records, round-robin over the members, one minute apart."""
    names = sorted(members.keys)
    heads = []
    for i in range(first, first + count):
        actor = names[i % len(names)]
        heads.append(log.append(signer=members.keys[actor], actor=actor, action="document.view",
                                target=f"doc-{i:04d}", details={"n": i, "via": "tui"},
                                at=T0 + timedelta(minutes=i)))
    return heads


def spans(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of every frame, found from the leading length fields as documented."""
    result = []
    offset = HEADER_LEN
    while offset < len(data):
        (length,) = struct.unpack_from(">I", data, offset)
        result.append((offset, offset + length + 8))
        offset += length + 8
    assert offset == len(data)
    return result
