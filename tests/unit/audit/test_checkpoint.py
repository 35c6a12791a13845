"""Checkpoints: signing, strict JSON, and catching truncation, restored copies and rewrites."""

from __future__ import annotations

import contextlib
import json
import shutil
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vault.audit import AuditLog, Checkpoint, Head
from vault.errors import IntegrityError

from .helpers import T0, VAULT_ID, Members, fill, open_log, spans


def _sign(head: Head, members: Members, signer: str = "carol") -> Checkpoint:
    return Checkpoint.sign(head, vault_id=VAULT_ID, at=T0 + timedelta(days=2), signer=signer,
                           key=members.keys[signer])


def test_sign_verify_and_json_round_trip(log: AuditLog, members: Members) -> None:
    fill(log, members, 2)
    checkpoint = _sign(log.head(), members)
    checkpoint.verify_signature(members.keys["carol"].public_key())
    assert checkpoint.head == log.head()

    text = checkpoint.to_json()
    assert "\n" not in text
    assert json.loads(text)["format"] == "embargo-vault-audit-checkpoint/1"
    again = Checkpoint.from_json(text)
    assert again == checkpoint
    again.verify_signature(members.keys["carol"].public_key())
    assert Checkpoint.from_json(json.dumps(json.loads(text), indent=2)) == checkpoint


@pytest.mark.parametrize(
    "field",
    ["vault_id", "seq", "digest", "at", "signer", "signature"],
)
def test_tampered_checkpoint_signature_fails(
    log: AuditLog, members: Members, field: str
) -> None:
    fill(log, members, 2)
    checkpoint = _sign(log.head(), members)
    changed = {
        "vault_id": replace(checkpoint, vault_id="other"),
        "seq": replace(checkpoint, seq=1),
        "digest": replace(checkpoint, digest=bytes(32)),
        "at": replace(checkpoint, at=checkpoint.at + timedelta(microseconds=1)),
        "signer": replace(checkpoint, signer="bob"),
        "signature": replace(checkpoint, signature=bytes(64)),
    }[field]
    with pytest.raises(IntegrityError, match="checkpoint signature"):
        changed.verify_signature(members.keys["carol"].public_key())
    # The same tampering, made in the JSON text.
    document = json.loads(checkpoint.to_json())
    document[field] = json.loads(changed.to_json())[field]
    parsed = Checkpoint.from_json(json.dumps(document))
    with pytest.raises(IntegrityError):
        parsed.verify_signature(members.keys["carol"].public_key())


def test_wrong_key_fails(members: Members) -> None:
    checkpoint = _sign(Head(seq=0, digest=bytes(32)), members)
    with pytest.raises(IntegrityError):
        checkpoint.verify_signature(members.keys["alice"].public_key())


def test_truncation_is_caught(log: AuditLog, log_path: Path, members: Members) -> None:
    fill(log, members, 5)
    checkpoint = _sign(log.head(), members)
    data = log_path.read_bytes()
    log_path.write_bytes(data[: spans(data)[3][0]])
    assert log.verify(members.public_key_of).ok, "a clean cut looks like a shorter log"
    report = log.verify(members.public_key_of, checkpoint=checkpoint)
    assert report.problems == (
        "checkpoint of seq 5 signed by 'carol' at 2017-05-07T20:00:00.000000Z: the log holds "
        "only 3 readable record(s); it was truncated, or an older copy was restored",
    )
    log_path.unlink()
    assert not log.verify(checkpoint=checkpoint).ok, "a deleted log is a truncated one"


def test_restored_old_copy_is_caught(
    log: AuditLog, log_path: Path, tmp_path: Path, members: Members
) -> None:
    fill(log, members, 3)
    shutil.copy(log_path, tmp_path / "backup.log")
    fill(log, members, 2, first=4)
    checkpoint = _sign(log.head(), members)
    shutil.copy(tmp_path / "backup.log", log_path)
    assert not log.verify(checkpoint=checkpoint).ok
    # ...and extended again to the same length: a different history.
    fill(log, members, 2, first=4)
    assert log.head().seq == checkpoint.seq
    text = "\n".join(log.verify(checkpoint=checkpoint).problems)
    assert "record seq 5 at offset" in text
    assert "the log was rewritten" in text


def test_checkpoint_still_matches_a_longer_log(log: AuditLog, members: Members) -> None:
    fill(log, members, 3)
    checkpoint = _sign(log.head(), members)
    fill(log, members, 3, first=4)
    assert log.verify(members.public_key_of, checkpoint=checkpoint).ok
    empty = _sign(open_log(log.path.with_name("new.log")).head(), members)
    assert log.verify(checkpoint=empty).ok


def test_checkpoint_problems_in_verify(log: AuditLog, members: Members) -> None:
    fill(log, members, 2)
    checkpoint = _sign(log.head(), members)
    forged = replace(checkpoint, signature=bytes(64))
    assert log.verify(checkpoint=forged).ok, "without keys the signature is the caller's job"
    assert log.verify(members.public_key_of, checkpoint=forged).problems == (
        "checkpoint of seq 2 signed by 'carol' at 2017-05-07T20:00:00.000000Z: its signature "
        "does not verify",
    )
    unknown = Checkpoint.sign(log.head(), vault_id=VAULT_ID, at=T0, signer="dave",
                              key=members.keys["bob"])
    assert "the signer has no known public key" in log.verify(
        members.public_key_of, checkpoint=unknown).problems[0]
    other = Checkpoint.sign(log.head(), vault_id="other", at=T0, signer="carol",
                            key=members.keys["carol"])
    assert "it is for vault 'other', not this one" in log.verify(checkpoint=other).problems[0]


GOOD = {
    "at": "2017-05-07T20:00:00.000000Z", "digest": "ab" * 32,
    "format": "embargo-vault-audit-checkpoint/1", "seq": 3, "signature": "cd" * 64,
    "signer": "carol", "vault_id": VAULT_ID,
}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[]",
        json.dumps({**GOOD, "extra": 1}),
        json.dumps({k: v for k, v in GOOD.items() if k != "signer"}),
        json.dumps(GOOD)[:-1] + ', "seq": 4}',
        json.dumps({**GOOD, "format": "embargo-vault-audit-checkpoint/2"}),
        json.dumps({**GOOD, "seq": True}),
        json.dumps({**GOOD, "seq": -1}),
        json.dumps({**GOOD, "seq": 2**64}),
        json.dumps({**GOOD, "seq": 3.0}),
        json.dumps({**GOOD, "digest": "AB" * 32}),
        json.dumps({**GOOD, "digest": "ab" * 31}),
        json.dumps({**GOOD, "signature": 5}),
        json.dumps({**GOOD, "at": "2017-05-07T20:00:00+00:00"}),
        json.dumps({**GOOD, "at": "2017-05-07T20:00:00.000000"}),
        json.dumps({**GOOD, "signer": ""}),
        json.dumps({**GOOD, "vault_id": None}),
        json.dumps(GOOD).replace('"seq": 3', '"seq": NaN'),
        json.dumps({**GOOD, "signer": "x" * 70000}),
        "[" * 30000 + "]" * 30000,
    ],
)
def test_junk_is_refused(text: str) -> None:
    with pytest.raises(IntegrityError):
        Checkpoint.from_json(text)


def test_good_fixture_parses() -> None:
    assert Checkpoint.from_json(json.dumps(GOOD)).seq == 3


@given(st.text(max_size=300) | st.builds(json.dumps, st.dictionaries(
    st.sampled_from(sorted(GOOD)), st.none() | st.integers() | st.text(max_size=70))))
def test_from_json_only_ever_raises_integrity_error(text: str) -> None:
    with contextlib.suppress(IntegrityError):
        Checkpoint.from_json(text)
