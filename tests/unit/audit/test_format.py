"""The bytes on disk are exactly what the `vault.audit.frame` docstring documents: decoded here
with nothing but hashlib, struct, json and pyca primitives."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import struct
from datetime import timedelta
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from vault.audit import AuditLog, Head

from .helpers import BODY_KEY, T0, VAULT_ID, Members, fill, spans


def test_file_layout_matches_the_documented_format(
    log: AuditLog, log_path: Path, members: Members
) -> None:
    heads = fill(log, members, 3)
    data = log_path.read_bytes()
    genesis = hashlib.sha256(b"embargo-vault audit genesis\x00" + VAULT_ID.encode()).digest()

    assert data[:8] == b"EVAUDLOG"
    assert struct.unpack_from(">I", data, 8) == (1,)
    assert data[12:44] == genesis

    prev = genesis
    aead = ChaCha20Poly1305(BODY_KEY)
    for seq, (start, end) in enumerate(spans(data), start=1):
        frame = data[start:end]
        (length,) = struct.unpack_from(">I", frame, 0)
        assert length + 8 == len(frame)
        assert struct.unpack_from(">I", frame, len(frame) - 4) == (length,)
        assert struct.unpack_from(">Q", frame, 4) == (seq,)
        assert frame[12:44] == prev
        nonce, ciphertext = frame[44:56], frame[56 : len(frame) - 68]
        signature = frame[len(frame) - 68 : len(frame) - 4]

        body = aead.decrypt(nonce, ciphertext, struct.pack(">Q", seq) + prev)
        fields = json.loads(body)
        assert body == json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
        assert fields["at"] == (T0 + timedelta(minutes=seq)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        assert fields["target"] == f"doc-{seq:04d}"

        message = (b"embargo-vault audit entry v1\x00" + struct.pack(">Q", seq) + prev
                   + hashlib.sha256(ciphertext + nonce).digest())
        members.keys[fields["actor"]].public_key().verify(signature, message)

        prev = hashlib.sha256(frame).digest()
        assert heads[seq - 1] == Head(seq=seq, digest=prev)


def test_new_log_file_is_private(log: AuditLog, log_path: Path, members: Members) -> None:
    old = os.umask(0)
    try:
        fill(log, members, 1)
    finally:
        os.umask(old)
    assert stat.S_IMODE(log_path.stat().st_mode) == 0o600


def test_a_second_vault_has_another_genesis(tmp_path: Path, members: Members) -> None:
    one = AuditLog(tmp_path / "one.log", vault_id="one", body_key=BODY_KEY)
    two = AuditLog(tmp_path / "two.log", vault_id="two", body_key=BODY_KEY)
    assert one.head().seq == two.head().seq == 0
    assert one.head().digest != two.head().digest
