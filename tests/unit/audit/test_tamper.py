"""Tampering is detected: every flipped byte, deleted, reordered, inserted and moved records,
trailing garbage, wrong signatures and unknown actors — and never with a traceback."""

from __future__ import annotations

import contextlib
import hashlib
import struct
from pathlib import Path

import pytest

from vault.audit import AuditLog, Checkpoint, VerifyReport
from vault.errors import IntegrityError

from .helpers import T0, VAULT_ID, Members, fill, spans


@pytest.fixture
def three(log: AuditLog, log_path: Path, members: Members) -> bytes:
    """A log of three records; returns its bytes."""
    fill(log, members, 3)
    return log_path.read_bytes()


def _problems(report: VerifyReport) -> str:
    assert not report.ok
    assert report.problems
    return "\n".join(report.problems)


def test_every_flipped_byte_is_detected(
    log: AuditLog, log_path: Path, members: Members, three: bytes
) -> None:
    checkpoint = Checkpoint.sign(log.head(), vault_id=VAULT_ID, at=T0, signer="carol",
                                 key=members.keys["carol"])
    last_start, last_end = spans(three)[-1]
    # A chain check cannot see into the last record's nonce, ciphertext and signature: nothing
    # after it hashes them. The keys or a checkpoint of the head can.
    unseen_by_chain = range(last_start + 44, last_end - 4)
    for offset in range(len(three)):
        damaged = bytearray(three)
        damaged[offset] ^= 0xFF
        log_path.write_bytes(bytes(damaged))

        assert not log.verify(members.public_key_of).ok, offset
        assert not log.verify(checkpoint=checkpoint).ok, offset
        assert log.verify().ok is (offset in unseen_by_chain), offset
        for problem in log.verify(members.public_key_of).problems:
            assert "offset" in problem or "checkpoint" in problem, problem
        try:
            list(log.entries())
            log.head()
        except IntegrityError:
            pass
        else:
            assert offset >= last_end - 68, "only a signature flip passes a keyless read"
        with contextlib.suppress(IntegrityError):
            assert log.repair_torn_tail() == 0
        assert log_path.read_bytes() == damaged, "damage is never repaired"


def test_deleted_record(log: AuditLog, log_path: Path, three: bytes) -> None:
    (_, _), (start, end), _ = spans(three)
    log_path.write_bytes(three[:start] + three[end:])
    report = log.verify()
    assert report.entries == 2
    assert _problems(report) == (
        f"record seq 3 at offset {start}: expected seq 2; 1 record(s) before it are missing "
        "(deleted)"
    )


def test_deleted_last_record_needs_a_checkpoint(
    log: AuditLog, log_path: Path, members: Members, three: bytes
) -> None:
    checkpoint = Checkpoint.sign(log.head(), vault_id=VAULT_ID, at=T0, signer="alice",
                                 key=members.keys["alice"])
    log_path.write_bytes(three[: spans(three)[-1][0]])
    assert log.verify(members.public_key_of).ok
    assert "the log holds only 2 readable record(s); it was truncated" in _problems(
        log.verify(checkpoint=checkpoint))


def test_reordered_records(log: AuditLog, log_path: Path, three: bytes) -> None:
    _, (s2, e2), (s3, e3) = spans(three)
    log_path.write_bytes(three[:s2] + three[s3:e3] + three[s2:e2])
    text = _problems(log.verify())
    assert f"record seq 3 at offset {s2}: expected seq 2" in text
    assert "record seq 2 at offset" in text
    assert "reordered, duplicated or inserted" in text


def test_duplicated_record(log: AuditLog, log_path: Path, three: bytes) -> None:
    _, (s2, e2), _ = spans(three)
    log_path.write_bytes(three[:e2] + three[s2:e2] + three[e2:])
    assert "record seq 2 at offset" in _problems(log.verify())


def _relinked(data: bytes, insert_at: int, forged: bytes) -> bytes:
    """Insert a frame after record `insert_at` and renumber and re-chain everything, as anyone
    without keys can: the chain alone then looks intact."""
    frames = [data[s:e] for s, e in spans(data)]
    frames.insert(insert_at, forged)
    out = bytearray(data[:44])
    prev = data[12:44]
    for seq, frame in enumerate(frames, start=1):
        relinked = frame[:4] + struct.pack(">Q", seq) + prev + frame[44:]
        out += relinked
        prev = hashlib.sha256(relinked).digest()
    return bytes(out)


def test_inserted_record(
    log: AuditLog, log_path: Path, members: Members, three: bytes
) -> None:
    checkpoint = Checkpoint.sign(log.head(), vault_id=VAULT_ID, at=T0, signer="alice",
                                 key=members.keys["alice"])
    s1, e1 = spans(three)[0]
    forged = three[s1:e1]

    # Inserted without re-chaining: the chain breaks at once.
    _, (s2, _), _ = spans(three)
    log_path.write_bytes(three[:s2] + forged + three[s2:])
    assert "record seq 1 at offset" in _problems(log.verify())

    # Re-chained by someone without keys: bodies no longer open at their new positions, and the
    # checkpoint no longer matches.
    log_path.write_bytes(_relinked(three, 1, forged))
    assert log.verify().ok
    keyed = _problems(log.verify(members.public_key_of))
    assert "record seq 2 at offset" in keyed
    assert "the body does not authenticate" in keyed
    assert "differs from it; the log was rewritten" in _problems(
        log.verify(checkpoint=checkpoint))


def test_body_moved_to_another_record(log: AuditLog, log_path: Path, members: Members) -> None:
    for target in ("doc-a", "doc-b"):
        log.append(signer=members.keys["bob"], actor="bob", action="view", target=target,
                   details={}, at=T0)
    data = log_path.read_bytes()
    (s1, e1), (s2, e2) = spans(data)
    one, two = data[s1:e1], data[s2:e2]
    assert len(one) == len(two)
    # Each record's nonce, ciphertext and signature under the other's length, seq and prev.
    log_path.write_bytes(data[:s1] + one[:44] + two[44:] + two[:44] + one[44:])
    text = _problems(log.verify(members.public_key_of))
    assert "record seq 1 at offset 44: the body does not authenticate" in text
    assert f"record seq 2 at offset {s2}: the body does not authenticate" in text


def test_trailing_garbage(log: AuditLog, log_path: Path, three: bytes) -> None:
    log_path.write_bytes(three + b"\x00\x00\x02\x00garbage")
    assert _problems(log.verify()) == (
        f"offset {len(three)}: 11 bytes after seq 3 are not whole records (trailing garbage, "
        "or a damaged record length)")
    with pytest.raises(IntegrityError, match="trailing garbage"):
        log.repair_torn_tail()
    with pytest.raises(IntegrityError, match="trailing garbage"):
        list(log.entries())


def test_wrong_signature_and_unknown_actor(
    log: AuditLog, log_path: Path, members: Members
) -> None:
    log.append(signer=members.keys["bob"], actor="alice", action="release.run", target="r1",
               details={}, at=T0)
    log.append(signer=members.keys["bob"], actor="mallory", action="view", target="d",
               details={}, at=T0)
    assert log.verify().ok
    assert log.verify(members.public_key_of).problems == (
        "record seq 1 at offset 44: the signature does not verify against 'alice''s public key",
        f"record seq 2 at offset {spans(log_path.read_bytes())[1][0]}: actor 'mallory' has no "
        "known public key",
    )


def test_modified_header(log: AuditLog, log_path: Path, three: bytes) -> None:
    log_path.write_bytes(b"EVAUDLOG\x00\x00\x00\x02" + three[12:])
    assert _problems(log.verify()) == (
        "offset 0: unsupported audit log version 2; nothing in the log can be checked")
    log_path.write_bytes(b"X" + three[1:])
    assert "not an audit log" in _problems(log.verify())


def test_oversized_length_is_refused_without_reading_it(
    log: AuditLog, log_path: Path, three: bytes
) -> None:
    start, _ = spans(three)[1]
    log_path.write_bytes(three[:start] + struct.pack(">I", 0xFFFFFFF0) + three[start + 4:])
    text = _problems(log.verify())
    assert f"offset {start}: record length 4294967280 is outside 132..1048576" in text
