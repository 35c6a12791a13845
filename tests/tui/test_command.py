"""`vault tui` at the command line: it needs a vault and a terminal, says so, and passes its
member and idle lock to the app."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import vault.cli.tui
from tests.vaults import TestVault, run_cli
from tui.app import VaultApp
from vault.cli.root import cli


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


class _Terminal:
    """Standard input and output that say they are a terminal."""

    class _Stream:
        def isatty(self) -> bool:
            return True

    stdin = _Stream()
    stdout = _Stream()


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [([], {}, 600.0), (["--idle-lock", "90"], {}, 90.0), ([], {"VAULT_IDLE_LOCK": "0"}, 0.0)],
)
def test_the_idle_lock_reaches_the_app(
    tv: TestVault,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    env: dict[str, str],
    expected: float,
) -> None:
    opened: list[tuple[Path, str | None, float]] = []

    def run(app: VaultApp) -> None:
        opened.append((app.vault_dir, app.member, app.idle_timeout))

    monkeypatch.setattr(vault.cli.tui, "sys", _Terminal)
    monkeypatch.setattr(VaultApp, "run", run)
    result = CliRunner().invoke(
        cli, ["--vault", str(tv.path), "--as", "bob", "tui", *args], env=env
    )
    assert result.exit_code == 0, result.output
    assert opened == [(tv.path, "bob", expected)]
