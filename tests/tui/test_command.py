"""`vault tui` at the command line: it needs a vault and a terminal, and says so."""

from __future__ import annotations

from pathlib import Path

from tests.vaults import TestVault, run_cli


def test_tui_without_a_terminal_is_a_usage_error(tv: TestVault) -> None:
    result = run_cli("--vault", str(tv.path), "--as", "alice", "tui")
    assert result.returncode == 2
    assert b"vault: error: the terminal app needs a terminal" in result.stderr
    assert result.stdout == b""


def test_tui_needs_an_existing_vault(tmp_path: Path) -> None:
    result = run_cli("--vault", str(tmp_path / "nowhere"), "tui")
    assert result.returncode == 2
    assert b"vault: error: no vault at" in result.stderr
    result = run_cli("tui")
    assert result.returncode == 2
    assert b"which vault?" in result.stderr


def test_tui_help_names_the_idle_lock() -> None:
    result = run_cli("tui", "--help")
    assert result.returncode == 0
    assert b"--idle-lock" in result.stdout
