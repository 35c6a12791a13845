"""The benchmark command still runs: tiny data, one run, every table printed (no timings checked).

Peers that are not installed are skipped, except in CI (env `CI` set), where the benchmark must
install them and run them as it would on a real machine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent.parent
PEERS = {"restic": ["restic"], "borg": ["borg"], "tar|age": ["tar", "age", "age-keygen"]}


@pytest.mark.slow
def test_benchmark_prints_tables_and_ratios_on_tiny_data(tmp_path: Path) -> None:
    ci = bool(os.environ.get("CI"))
    results = tmp_path / "results.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VAULT_")}
    if "VAULT_SHARED_DIR" in os.environ:
        env["VAULT_SHARED_DIR"] = os.environ["VAULT_SHARED_DIR"]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.run",
            "--scale",
            "0.001",
            "--runs",
            "1",
            "--queries",
            "3",
            "--datasets",
            "a,b,c",  # (d), the shared corpus, is not generated and takes longest to check in
            "--work",
            str(tmp_path / "work"),
            "--json",
            str(results),
            "--missing-peers",
            "install" if ci else "skip",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    peers = [p for p, programs in PEERS.items() if ci or all(shutil.which(x) for x in programs)]
    for key in ("(a)", "(b)", "(c)"):
        assert f"\n{key} " in out
    for column in ("wall s", "MB/s", "files/s", "RSS max MiB"):
        assert column in out
    for peer in peers:
        assert f"vault/{peer}" in out
    assert "targets (reported, never asserted):" in out
    assert "check-in MB/s vs restic" in out
    for extra in ("vault check --read-data", "vault audit verify", "search", "browser"):
        assert extra in out

    recorded = json.loads(results.read_text())
    assert recorded["failures"] == []
    a = recorded["datasets"]["a"]
    assert sorted(a["ratios"]) == sorted(peers)
    vault = next(t for t in a["tools"] if t["tool"] == "vault")
    assert vault["notes"]["receipt"]["new"] == a["data"]["files"] == 200
    assert vault["summary"]["mb_s"] > 0
    assert not (tmp_path / "work" / "runs" / "trash").exists()  # emptied after each data set
