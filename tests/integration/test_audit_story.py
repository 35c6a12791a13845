"""The audit log through the real command: every read logged, damage and truncation caught."""

from __future__ import annotations

import json
from pathlib import Path

from tests.vaults import TestVault


def _entries(test_vault: TestVault) -> list[dict[str, object]]:
    result = test_vault.cli("audit", "show", "--json", check=True)
    entries: list[dict[str, object]] = json.loads(result.stdout)
    return entries


def test_every_read_is_logged_before_it_happens(test_vault: TestVault, tmp_path: Path) -> None:
    doc = tmp_path / "a.txt"
    doc.write_text("a")
    receipt = json.loads(
        test_vault.cli("checkin", str(doc), "--collection", "leak", "--json", check=True).stdout
    )
    oid = receipt["items"][0]["oid"]
    test_vault.cli("show", oid, member="bob", check=True)
    test_vault.cli("cat", oid, member="bob", check=True)
    test_vault.cli("ls", member="bob", check=True)
    by_bob = [(e["action"], e["target"]) for e in _entries(test_vault) if e["actor"] == "bob"]
    assert ("show", oid) in by_bob
    assert ("cat", oid) in by_bob
    assert any(action == "list" for action, _ in by_bob)


def test_truncation_below_a_checkpoint_is_caught(test_vault: TestVault, tmp_path: Path) -> None:
    test_vault.cli("ls", check=True)
    checkpoint = tmp_path / "checkpoint.json"
    test_vault.cli("audit", "checkpoint", "--output", str(checkpoint), check=True)
    log = test_vault.path / "log" / "audit.log"
    before = log.read_bytes()
    test_vault.cli("ls", check=True)
    test_vault.cli("ls", check=True)
    # Roll the log back to an earlier copy: it still chains, but the checkpoint is missing.
    log.write_bytes(before[: len(before) // 2])
    result = test_vault.cli("audit", "verify", "--checkpoint", str(checkpoint), "--json")
    assert result.returncode == 4
    assert json.loads(result.stdout)["ok"] is False


def test_a_modified_record_fails_verification(test_vault: TestVault) -> None:
    log = test_vault.path / "log" / "audit.log"
    data = bytearray(log.read_bytes())
    data[len(data) // 2] ^= 0x40
    log.write_bytes(bytes(data))
    result = test_vault.cli("audit", "verify", "--json")
    assert result.returncode == 4
    assert b"Traceback" not in result.stderr


def test_a_torn_final_record_is_cut_and_the_cut_is_logged(test_vault: TestVault) -> None:
    log = test_vault.path / "log" / "audit.log"
    before = log.stat().st_size
    test_vault.cli("ls", check=True)
    whole = log.read_bytes()
    # A crash in the middle of writing the last record: only part of its frame reached disk.
    log.write_bytes(whole[: before + (len(whole) - before) // 2])
    result = test_vault.cli("audit", "verify", "--json")
    assert result.returncode == 0, result.stderr
    actions = [e["action"] for e in _entries(test_vault)]
    assert "audit-repair" in actions
