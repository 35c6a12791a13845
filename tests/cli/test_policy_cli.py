"""`vault policy check|apply|show|explain` through the real command."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.vaults import TestVault, run_cli
from vault.policy import shipped_policy_dir


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "policies"
    target.mkdir()
    for path in shipped_policy_dir().iterdir():
        if path.is_file() and path.suffix in (".cedar", ".cedarschema"):
            shutil.copy(path, target)
    return target


def test_check_the_shipped_policies() -> None:
    result = run_cli("policy", "check", str(shipped_policy_dir()))
    assert result.returncode == 0, result.stderr
    assert b"is valid" in result.stdout


def test_check_lists_every_problem_with_file_and_line(tmp_path: Path) -> None:
    broken = _copy(tmp_path)
    newsroom = broken / "newsroom.cedar"
    lines = newsroom.read_text().splitlines()
    lines.insert(4, 'permit (principal in Role::"editr", action, resource);')
    newsroom.write_text("\n".join(lines) + "\n")
    (broken / "extra.cedar").write_text(
        '// Comment.\n@id("typo")\npermit (principal, action, resource)\nwhen { resource.colour };'
    )
    result = run_cli("policy", "check", str(broken))
    assert result.returncode == 1
    out = result.stdout.decode()
    assert "newsroom.cedar:5:28: " in out, "the misspelt role, at its line and column"
    assert "extra.cedar:4:17: policy `typo`: attribute `colour`" in out
    assert result.stderr.startswith(b"vault: error: 5 problem(s)")


def test_apply_needs_change_policy_and_shows_a_diff(test_vault: TestVault, tmp_path: Path) -> None:
    changed = _copy(tmp_path)
    newsroom = changed / "newsroom.cedar"
    newsroom.write_text(newsroom.read_text().replace('@id("legal-review")', '@id("legal-reads")'))
    refused = test_vault.cli("policy", "apply", str(changed), member="bob")
    assert refused.returncode == 3
    assert b"bob (reporter) to change-policy" in refused.stderr
    applied = test_vault.cli("policy", "apply", str(changed))
    assert applied.returncode == 0, applied.stderr
    out = applied.stdout.decode()
    assert "--- v1/newsroom.cedar\n+++ new/newsroom.cedar\n" in out
    assert '-@id("legal-review")\n+@id("legal-reads")\n' in out
    assert "applied as policy version 2" in out
    shown = json.loads(
        test_vault.cli("policy", "show", "--json", member="carol", check=True).stdout
    )
    assert shown["version"] == 2
    assert shown["signer"] == "alice"
    assert "legal-reads" in shown["policies"]
    assert [v["version"] for v in shown["history"]] == [1, 2]
    assert shown["files"] == ["newsroom.cedar", "schema.cedarschema"]


def test_explain_allowed_and_refused(test_vault: TestVault) -> None:
    allowed = test_vault.cli("policy", "explain", "read", "--on", "leak", member="bob")
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout.startswith(b"allowed: bob (reporter) to read collection")
    assert b"permitted by reporter-review (newsroom.cedar:" in allowed.stdout
    refused = test_vault.cli(
        "policy", "explain", "export-identity", "--for", "bob", "--on", "leak", "--json"
    )
    assert refused.returncode == 0, refused.stderr
    decision = json.loads(refused.stdout)
    assert decision["allowed"] is False
    assert decision["reasons"] == []
    assert decision["asked"].startswith("bob (reporter) to export-identity collection")
