"""A torn final record (an append cut short by a crash) is repaired; nothing else ever is."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from vault.audit import AuditLog
from vault.errors import AuditUnavailable, IntegrityError

from .helpers import Members, fill, open_log, spans


def test_every_cut_inside_the_last_record_is_repaired(
    log: AuditLog, log_path: Path, members: Members
) -> None:
    heads = fill(log, members, 4)
    data = log_path.read_bytes()
    start, end = spans(data)[-1]
    for cut in range(start + 1, end):
        log_path.write_bytes(data[:cut])
        with pytest.raises(IntegrityError, match="the end of the audit log is not a whole"):
            log.head()
        with pytest.raises(AuditUnavailable, match="cannot append"):
            fill(log, members, 1, first=5)
        assert log_path.read_bytes() == data[:cut], "a refused append changes nothing"
        report = log.verify()
        assert report.problems == (
            f"offset {start}: torn final record after seq 3 ({cut - start} bytes of an "
            "interrupted append, or a cut file); repair_torn_tail removes it",
        )
        assert report.entries == 3

        assert log.repair_torn_tail() == cut - start
        assert log_path.read_bytes() == data[:start]
        assert log.head() == heads[2]
        assert log.verify(members.public_key_of).ok
        assert log.repair_torn_tail() == 0
    assert fill(log, members, 1, first=4)[0].seq == 4
    assert log.verify(members.public_key_of).ok


@pytest.mark.parametrize("size", [1, 8, 20, 43])
def test_torn_header_is_repaired(log_path: Path, members: Members, size: int) -> None:
    log = open_log(log_path)
    fill(log, members, 1)
    log_path.write_bytes(log_path.read_bytes()[:size])
    assert not log.verify().ok
    assert log.repair_torn_tail() == size
    assert log_path.read_bytes() == b""
    assert log.verify().ok
    assert fill(log, members, 1)[0].seq == 1


def test_zero_filled_tail_is_repaired(log: AuditLog, log_path: Path, members: Members) -> None:
    fill(log, members, 2)
    clean = log_path.read_bytes()
    log_path.write_bytes(clean + bytes(300))
    assert "torn final record" in log.verify().problems[0]
    assert log.repair_torn_tail() == 300
    assert log_path.read_bytes() == clean


def test_damage_before_a_torn_tail_is_not_repaired(
    log: AuditLog, log_path: Path, members: Members
) -> None:
    fill(log, members, 4)
    data = bytearray(log_path.read_bytes())
    (_, _), (s2, _), _, (s4, e4) = spans(bytes(data))
    data[s2 + 60] ^= 0x01
    damaged = bytes(data[: (s4 + e4) // 2])
    log_path.write_bytes(damaged)
    with pytest.raises(IntegrityError, match=r"record seq 3 at offset \d+: its prev hash"):
        log.repair_torn_tail()
    assert log_path.read_bytes() == damaged


def test_a_whole_last_record_with_a_damaged_length_is_not_torn(
    log: AuditLog, log_path: Path, members: Members
) -> None:
    fill(log, members, 2)
    data = bytearray(log_path.read_bytes())
    start, _ = spans(bytes(data))[-1]
    (length,) = struct.unpack_from(">I", data, start)
    struct.pack_into(">I", data, start, length + 256)  # claims more bytes than there are
    log_path.write_bytes(bytes(data))
    assert log.verify().problems[0].startswith(f"offset {start}: ")
    assert "are not whole records" in log.verify().problems[0]
    with pytest.raises(IntegrityError):
        log.repair_torn_tail()
    assert log_path.read_bytes() == bytes(data)


def test_clean_and_missing_logs_need_no_repair(
    log: AuditLog, log_path: Path, members: Members
) -> None:
    assert log.repair_torn_tail() == 0
    assert not log_path.exists()
    fill(log, members, 3)
    assert log.repair_torn_tail() == 0


def test_a_short_file_that_is_no_header_is_not_repaired(log: AuditLog, log_path: Path) -> None:
    log_path.write_bytes(b"junk")
    with pytest.raises(IntegrityError, match="not the start of this vault's log header"):
        log.repair_torn_tail()
    assert log_path.read_bytes() == b"junk"
