"""Files read at unlock that someone made huge are refused as damage, not read into memory.

Every small file a vault is opened or checked with (`VAULT`, roster statements, member key
files, `keys/vault.age`, collection secrets, and a checkpoint handed to `vault audit verify`) is
replaced by an 8 GiB sparse file (cheap to make, but reading it would take 8 GiB), a FIFO (which
would block a reader forever) or a link to `/dev/zero`. The real `vault` command runs in a
process whose address space is capped at 1 GiB — about three times what an ordinary `vault
check` maps — so a read without a bound dies of `MemoryError` instead of swapping the machine.
It must exit 4 within the time limit, and its peak resident size must stay small.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.vaults import TestVault, make_vault

REPO = Path(__file__).resolve().parents[2]
HUGE = 8 * 1024**3
ADDRESS_SPACE = 1024**3
MAX_RSS_KIB = 512 * 1024
TIMEOUT = 60


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> TestVault:
    root = tmp_path_factory.mktemp("huge")
    test_vault = make_vault(root)
    with test_vault.open() as alice:
        (root / "checkpoint.json").write_text(alice.audit_checkpoint().to_json())
    return test_vault


def _copy(pristine: TestVault, tmp_path: Path) -> TestVault:
    shutil.copytree(pristine.path, tmp_path / "vault")
    shutil.copy(pristine.path.parent / "checkpoint.json", tmp_path / "checkpoint.json")
    (tmp_path / "secrets").mkdir()
    return TestVault(tmp_path / "vault", tmp_path / "secrets")


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def _run_limited(test_vault: TestVault, *args: str) -> tuple[int, bytes, float, int]:
    """Run `vault` as alice with capped memory; exit code, stderr, seconds, peak RSS (KiB)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VAULT_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    command = [
        sys.executable, "-m", "vault", "--vault", str(test_vault.path), "--as", "alice",
        "--passphrase-file", str(test_vault.passphrase_file("alice")), *args,
    ]  # fmt: skip
    started = time.monotonic()
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        preexec_fn=_limit_memory,  # only setrlimit, before exec
    )
    watchdog = threading.Timer(TIMEOUT, process.kill)
    watchdog.start()
    try:
        assert process.stderr is not None
        stderr = process.stderr.read()
        process.stderr.close()
        # wait4, not Popen.wait: it also gives the child's own peak resident size.
        _, status, usage = os.wait4(process.pid, 0)
    finally:
        watchdog.cancel()
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, stderr, time.monotonic() - started, usage.ru_maxrss


def _huge(path: Path) -> None:
    path.unlink()
    with path.open("wb") as handle:
        handle.truncate(HUGE)


def _fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def _zero(path: Path) -> None:
    path.unlink()
    path.symlink_to("/dev/zero")


TARGETS = {
    "VAULT": "VAULT",
    "genesis statement": "roster/000001.json",
    "newest statement": "roster/000005.json",
    "own key file": "keys/members/alice.key",
    "another's key file": "keys/members/bob.key",
    "vault secret": "keys/vault.age",
    "collection secret": "keys/collections/*/v1.age",
}
DAMAGE: dict[str, Callable[[Path], None]] = {"8 GiB": _huge, "FIFO": _fifo, "/dev/zero": _zero}


def _target(test_vault: TestVault, pattern: str) -> Path:
    (path,) = test_vault.path.glob(pattern)
    return path


@pytest.mark.parametrize("damage", DAMAGE)
@pytest.mark.parametrize("what", TARGETS)
def test_a_huge_or_endless_file_read_at_unlock_is_damage(
    pristine: TestVault, tmp_path: Path, what: str, damage: str
) -> None:
    test_vault = _copy(pristine, tmp_path)
    DAMAGE[damage](_target(test_vault, TARGETS[what]))
    code, stderr, seconds, peak = _run_limited(test_vault, "check")
    assert code == 4, f"{what} as {damage}: exit {code}: {stderr[-600:]!r}"
    assert b"Traceback" not in stderr
    assert seconds < TIMEOUT
    assert peak < MAX_RSS_KIB, f"{what} as {damage}: peak RSS {peak} KiB"


def test_a_huge_checkpoint_given_to_verify_is_not_read(pristine: TestVault, tmp_path: Path) -> None:
    test_vault = _copy(pristine, tmp_path)
    checkpoint = tmp_path / "checkpoint.json"
    _huge(checkpoint)
    code, stderr, _, peak = _run_limited(
        test_vault, "audit", "verify", "--checkpoint", str(checkpoint)
    )
    assert code == 4, stderr[-600:]
    assert b"too large" in stderr
    assert peak < MAX_RSS_KIB
