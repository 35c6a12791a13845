"""Building real vaults for tests, and running the real `vault` command against them."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from vault.service import Vault

PASSPHRASES = {"alice": b"alice passphrase", "bob": b"bob passphrase", "carol": b"carol passphrase"}


@dataclass
class TestVault:
    """A vault on disk with alice (admin, editor-in-chief), bob (reporter), carol (legal)."""

    __test__ = False  # a helper, not a test class

    path: Path
    secrets_dir: Path

    def open(self, member: str = "alice") -> Vault:
        """Unlock in-process as a member."""
        return Vault.open(self.path, member, PASSPHRASES[member])

    def passphrase_file(self, member: str) -> Path:
        """A file holding the member's passphrase, for --passphrase-file."""
        path = self.secrets_dir / f"{member}.pass"
        if not path.exists():
            path.write_bytes(PASSPHRASES[member])
        return path

    def cli(
        self, *args: str, member: str = "alice", check: bool = False, stdin: bytes | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        """Run `vault --vault … --as member …` as a subprocess."""
        command = [
            "--vault",
            str(self.path),
            "--as",
            member,
            "--passphrase-file",
            str(self.passphrase_file(member)),
            *args,
        ]
        return run_cli(*command, check=check, stdin=stdin)


def run_cli(
    *args: str, check: bool = False, stdin: bytes | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run the `vault` command (this interpreter's) with arguments."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("VAULT_")}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "vault", *args],
        capture_output=True,
        input=stdin,
        check=check,
        env=environment,
        timeout=300,
    )


def make_vault(root: Path, *, with_collection: bool = True) -> TestVault:
    """A vault with three members and, optionally, a collection `leak` held by alice and bob."""
    path = root / "vault"
    vault = Vault.init(path, "alice", PASSPHRASES["alice"])
    try:
        vault.add_member("bob", ["reporter"], PASSPHRASES["bob"])
        vault.add_member("carol", ["legal"], PASSPHRASES["carol"])
        if with_collection:
            vault.create_collection("leak", "test material")
            vault.grant("leak", "bob")
    finally:
        vault.close()
    secrets_dir = root / "secrets"
    secrets_dir.mkdir()
    return TestVault(path, secrets_dir)
