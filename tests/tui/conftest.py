"""A vault with material in it, built once per session and copied for each test."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.vaults import PASSPHRASES, TestVault, make_vault
from vault.clock import FixedClock
from vault.service import DocumentView, Vault

EVIL = "evil\x1b[2Jname\u202etxt.exe"  # clears the screen; reverses the extension
MARKUP = "[bold]loud[red].txt"


def write_material(root: Path) -> Path:
    """A small dump: mail, a memo, and two files whose names attack the terminal."""
    (root / "mail").mkdir(parents=True)
    (root / "mail" / "budget.eml").write_text(
        "From: treasurer@campaign.example\nSubject: Budget\n\nThe rally budget is approved.\n"
    )
    (root / "memo.txt").write_text("Internal memo: not for distribution.\n")
    (root / "ledger.csv").write_text("donor,amount\nA. Martin,7500\n")
    (root / EVIL).write_text("#!/bin/sh\necho hi\n")
    (root / MARKUP).write_text("shouting\n")
    return root


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> TestVault:
    """The vault every test copies: alice, bob, carol; `leak` holding five documents."""
    root = tmp_path_factory.mktemp("tui-template")
    made = make_vault(root)
    material = write_material(root / "dump")
    with Vault.open(made.path, "alice", PASSPHRASES["alice"]) as vault:
        vault.check_in([material], collection="leak", source="message board dump")
    return made


@pytest.fixture(scope="session")
def stored(template: TestVault) -> dict[str, DocumentView]:
    """The template's documents by name (the same in every copy: a copy keeps the keys)."""
    with template.open() as vault:
        return {d.name: d for d in vault.documents("leak")}


@pytest.fixture
def tv(template: TestVault, tmp_path: Path) -> TestVault:
    """A private copy of the template vault."""
    path = tmp_path / "vault"
    shutil.copytree(template.path, path, symlinks=True)
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir()
    return TestVault(path, secrets_dir)


@pytest.fixture
def clock() -> FixedClock:
    """The app's clock, fixed at the instant the test starts (tests move it by hand).

    It starts at the wall clock's time so the vault's clock guard, which refuses a clock earlier
    than the newest audit entry, never sees it go backwards.
    """
    return FixedClock(datetime.now(UTC))
