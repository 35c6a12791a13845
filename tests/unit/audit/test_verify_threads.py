"""Verification of long logs runs on worker threads; results must not depend on it."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

import vault.audit.verify
from vault.audit import AuditLog

from .helpers import T0, Members, fill, spans


def test_threaded_verification_reports_in_file_order(
    log: AuditLog, log_path: Path, members: Members, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vault.audit.verify, "_BATCH_RECORDS", 4)  # many batches, small log
    fill(log, members, 30)
    log.append(signer=members.keys["alice"], actor="bob", action="view", target="forged",
               details={}, at=T0)
    fill(log, members, 30, first=32)
    data = bytearray(log_path.read_bytes())
    start, _ = spans(bytes(data))[9]
    data[start + 60] ^= 0x01  # record 10's ciphertext
    log_path.write_bytes(bytes(data))

    lookups: list[str] = []
    threads: set[str] = set()

    def public_key_of(name: str) -> Ed25519PublicKey | None:
        lookups.append(name)
        threads.add(threading.current_thread().name)
        return members.public_key_of(name)

    report = log.verify(public_key_of)
    assert report.entries == 61
    assert [p.split(":")[0] for p in report.problems] == [
        f"record seq 10 at offset {start}",
        f"record seq 11 at offset {spans(bytes(data))[10][0]}",
        f"record seq 31 at offset {spans(bytes(data))[30][0]}",
    ]
    assert "does not authenticate" in report.problems[0]
    assert "prev hash does not match record seq 10" in report.problems[1]
    assert "signature does not verify against 'bob'" in report.problems[2]
    assert sorted(lookups) == ["alice", "bob", "carol"], "one lookup per name"
    assert any(name.startswith("audit-verify") for name in threads)
    assert not [t for t in threading.enumerate() if t.name.startswith("audit-verify")]

