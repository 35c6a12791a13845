"""Appending and reading back: round trip, reopening, head, time, bad arguments, cost."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from vault.audit import AuditLog, Entry, JSONValue
from vault.errors import AuditUnavailable, IntegrityError

from .helpers import BODY_KEY, T0, Members, fill, open_log


def test_round_trip(log: AuditLog, members: Members) -> None:
    details: dict[str, JSONValue] = {
        "path": "Macron/Boîte mail/☂ 2017.eml",
        "bytes": 2**70,
        "ratio": -0.5,
        "flags": ["macro", None, True],
        "nested": {"a": {"b": []}},
        "control": "\x00\x1b[31m",
    }
    paris = timezone(timedelta(hours=2))
    at = datetime(2017, 5, 7, 20, 0, 0, 123456, tzinfo=paris)
    log.append(signer=members.keys["alice"], actor="alice", action="checkin",
               target="col-1", details=details, at=at)
    log.append(signer=members.keys["bob"], actor="bob", action="document.view",
               target="doc-9", details={}, at=at + timedelta(seconds=1))

    first, second = list(log.entries())
    assert first == Entry(seq=1, at=at.astimezone(UTC), actor="alice", action="checkin",
                          target="col-1", details=details)
    assert first.at.tzinfo == UTC
    assert (second.seq, second.actor, dict(second.details)) == (2, "bob", {})
    assert log.verify(members.public_key_of).ok


def test_head_and_reopen(log_path: Path, members: Members) -> None:
    heads = fill(open_log(log_path), members, 4)
    reopened = open_log(log_path)
    assert reopened.head() == heads[-1]
    assert [e.seq for e in reopened.entries()] == [1, 2, 3, 4]

    after = fill(reopened, members, 1, first=5)[0]
    assert after.seq == 5
    assert open_log(log_path).head() == after
    report = open_log(log_path).verify(members.public_key_of)
    assert (report.ok, report.entries, report.head, report.problems) == (True, 5, after, ())


def test_empty_log(log: AuditLog, log_path: Path, members: Members) -> None:
    head = log.head()
    assert head.seq == 0
    assert len(head.digest) == 32
    assert list(log.entries()) == []
    assert log.newest_time() is None
    report = log.verify(members.public_key_of)
    assert (report.ok, report.entries, report.head) == (True, 0, head)
    assert not log_path.exists(), "reading must not create the log"


def test_entries_from_a_start(log: AuditLog, members: Members) -> None:
    fill(log, members, 5)
    assert [e.target for e in log.entries(start=4)] == ["doc-0004", "doc-0005"]
    assert list(log.entries(start=6)) == []
    with pytest.raises(ValueError, match="numbered from 1"):
        log.entries(start=0)


def test_newest_time(log: AuditLog, members: Members) -> None:
    fill(log, members, 3)
    assert log.newest_time() == T0 + timedelta(minutes=3)


def test_wrong_body_key(log_path: Path, members: Members) -> None:
    fill(open_log(log_path), members, 2)
    other = open_log(log_path, body_key=bytes(32))
    assert other.verify().ok, "the chain needs no key"
    report = other.verify(members.public_key_of)
    assert not report.ok
    assert report.problems[0].startswith("record seq 1 at offset 44: the body does not")
    with pytest.raises(IntegrityError, match="record seq 1 at offset 44"):
        list(other.entries())
    with pytest.raises(IntegrityError, match="record seq 2"):
        other.newest_time()


def test_another_vaults_log_is_refused(log_path: Path, members: Members) -> None:
    fill(open_log(log_path), members, 2)
    before = log_path.read_bytes()
    other = open_log(log_path, vault_id="another-vault")
    assert other.verify().problems == (
        "offset 0: the header's genesis does not match this vault's id (the log of another "
        "vault, or a damaged header); nothing in the log can be checked",
    )
    with pytest.raises(AuditUnavailable, match="genesis does not match"):
        fill(other, members, 1)
    assert log_path.read_bytes() == before


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda kw: kw.update(at=datetime(2017, 5, 7)), ValueError),
        (lambda kw: kw.update(actor=""), ValueError),
        (lambda kw: kw.update(details={"x": float("nan")}), ValueError),
        (lambda kw: kw.update(details={"x": (1, 2)}), TypeError),
        (lambda kw: kw.update(details={1: "x"}), TypeError),
        (lambda kw: kw.update(details={"x": b"bytes"}), TypeError),
        (lambda kw: kw.update(target="\udcff"), ValueError),
        (lambda kw: kw.update(details={"x": "a" * (1 << 20)}), ValueError),
    ],
)
def test_bad_arguments_write_nothing(
    log: AuditLog, log_path: Path, members: Members,
    change: Callable[[dict[str, object]], None], error: type[Exception],
) -> None:
    fill(log, members, 1)
    before = log_path.read_bytes()
    kwargs: dict[str, object] = {"signer": members.keys["alice"], "actor": "alice",
                                 "action": "view", "target": "doc", "details": {}, "at": T0}
    change(kwargs)
    with pytest.raises(error):
        log.append(**kwargs)  # type: ignore[arg-type]
    assert log_path.read_bytes() == before


def test_constructor_checks_its_arguments(log_path: Path) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        AuditLog(log_path, vault_id="v", body_key=BODY_KEY[:16])
    with pytest.raises(ValueError, match="vault id"):
        AuditLog(log_path, vault_id="", body_key=BODY_KEY)


def test_append_reads_a_bounded_amount(
    log: AuditLog, members: Members, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Appending does not read the log: only the header and the last two records."""
    fill(log, members, 200)
    read: list[int] = []
    real_pread = os.pread

    def counting_pread(fd: int, length: int, offset: int) -> bytes:
        data = real_pread(fd, length, offset)
        read.append(len(data))
        return data

    def no_open(*args: object, **kwargs: object) -> None:
        raise AssertionError("append opened the log for reading")

    monkeypatch.setattr(os, "pread", counting_pread)
    monkeypatch.setattr("builtins.open", no_open)
    fill(log, members, 1, first=201)
    monkeypatch.undo()
    assert 0 < sum(read) < 44 + 2 * 1024
    assert log.head().seq == 201
