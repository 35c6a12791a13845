"""The program opens no sockets, ever (DESIGN §1): every command runs under an audit hook.

A `sitecustomize` on PYTHONPATH installs the hook in every Python process the command starts,
so the spawned detection workers are covered too.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.vaults import TestVault, run_cli

HOOK_DIR = Path(__file__).resolve().parent / "nonet"


def test_no_command_touches_the_network(
    test_vault: TestVault, tmp_path: Path, corpus_dir: Path
) -> None:
    log = tmp_path / "sockets.log"
    env = {
        "PYTHONPATH": os.pathsep.join([str(HOOK_DIR), os.environ.get("PYTHONPATH", "")]),
        "VAULT_NONET_LOG": str(log),
    }

    def run(*args: str, member: str = "alice") -> bytes:
        result = run_cli(
            "--vault",
            str(test_vault.path),
            "--as",
            member,
            "--passphrase-file",
            str(test_vault.passphrase_file(member)),
            *args,
            env=env,
        )
        assert result.returncode == 0, (args, result.stderr)
        return result.stdout

    receipt = json.loads(
        run(
            "checkin",
            str(corpus_dir / "email"),
            str(corpus_dir / "archives"),
            "--collection",
            "leak",
            "--json",
        )
    )
    oid = next(i["oid"] for i in receipt["items"] if i["oid"])
    run("ls")
    run("show", oid)
    run("cat", oid, "--output", str(tmp_path / "out.bin"))
    run("mark", oid, "--status", "in-review")
    run("check", "--read-data")
    run("audit", "verify")
    run("audit", "show")
    run("audit", "checkpoint")
    run("member", "list")
    run("collection", "list")
    run("collection", "export-identity", "leak", "--output", str(tmp_path / "id.txt"))
    demo = run_cli("demo", str(tmp_path / "demo"), env=env)
    assert demo.returncode == 0, demo.stderr
    assert not log.exists(), log.read_text()


def test_the_hook_really_catches_sockets(tmp_path: Path) -> None:
    """Guard against a hook that silently never loads: a socket must be caught."""
    import subprocess
    import sys

    log = tmp_path / "sockets.log"
    env = {**os.environ, "PYTHONPATH": str(HOOK_DIR), "VAULT_NONET_LOG": str(log)}
    result = subprocess.run(
        [sys.executable, "-c", "import socket; socket.socket()"],
        env=env,
        capture_output=True,
        check=False,
    )
    assert result.returncode != 0
    assert "socket.__new__" in log.read_text()
