"""The contestants: `vault checkin` and its peers, each into a fresh destination per run.

For every tool, `prepare` (not timed) makes an empty destination — a vault with a collection, a
restic repository, a borg `repokey` repository — and `command` is the timed command that stores
one data set into it. Each timed command runs after a `sync`, so no tool pays for writes another
left in the page cache; tools that never fsync (tar | age) may still have data in the page cache
when their timer stops, which the README points out.
"""

from __future__ import annotations

import compileall
import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.data import REPO, DataSet

PASSPHRASE = "benchmark passphrase, not a secret"  # noqa: S105 - throwaway benchmark vaults
MEMBER = "bench"
COLLECTION = "bench"


@dataclass(frozen=True)
class Command:
    """A timed command and what it needs."""

    argv: list[str]
    env: dict[str, str]
    stdout: Path | None = None


def base_env() -> dict[str, str]:
    """This environment without settings that would change any tool's behaviour."""
    prefixes = ("VAULT_", "RESTIC_", "BORG_", "AGE_")
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


def quiet(argv: list[str], env: Mapping[str, str], cwd: Path | None = None) -> str:
    """Run an untimed setup command; raise with its output if it fails."""
    done = subprocess.run(argv, env=dict(env), cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def disk_usage(path: Path) -> int:
    """Bytes a directory or file takes on disk (allocated blocks)."""
    if path.is_file():
        return path.stat().st_blocks * 512
    total = 0
    for root, _, names in os.walk(path):
        for name in names:
            total += os.lstat(os.path.join(root, name)).st_blocks * 512
    return total


@dataclass
class Tool:
    """One contestant. Subclasses fill in the commands."""

    name: str = ""
    binaries: tuple[str, ...] = ()
    package: str = ""  # the Debian package providing it
    notes: dict[str, object] = field(default_factory=dict)

    def missing(self) -> list[str]:
        """Programs this tool needs that are not on PATH."""
        return [b for b in self.binaries if shutil.which(b) is None]

    def version(self) -> str:
        """The tool's version line."""
        return ""

    def prepare(self, run_dir: Path) -> None:
        """Make an empty destination in `run_dir` (not timed)."""

    def command(self, data: DataSet, run_dir: Path) -> Command:
        """The timed command that stores `data`."""
        raise NotImplementedError

    def output(self, run_dir: Path) -> Path:
        """What the timed command wrote."""
        raise NotImplementedError

    def check(self, returncode: int, run_dir: Path) -> str | None:
        """None if the run did its job, else why not."""
        return None if returncode == 0 else f"exit {returncode}"


_CODE: list[Path] = []  # the snapshot of the vault's code in use, once taken


def _digest_tree(root: Path) -> str:
    digest = hashlib.sha256()
    for package in ("vault", "tui"):
        for path in sorted((root / package).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def use_code(snapshot: Path) -> Path:
    """Test the code of an earlier snapshot (a directory holding `vault/` and `tui/`)."""
    snapshot = snapshot.resolve()
    if not (snapshot / "vault" / "__init__.py").is_file():
        raise SystemExit(f"bench: error: {snapshot} holds no vault package")
    # Compiled as an installed package is (pip compiles on install), so that no command pays
    # for compiling the sources where the environment forbids writing bytecode
    # (PYTHONDONTWRITEBYTECODE): about 0.2 s of every start. Best effort: a read-only
    # snapshot is used as it is.
    for package in ("vault", "tui"):
        compileall.compile_dir(snapshot / package, quiet=2)
    _CODE[:] = [snapshot]
    sys.path.insert(0, str(snapshot))
    return snapshot


def snapshot_code(work: Path) -> Path:
    """Copy `vault/` and `tui/` as they are now to `<work>/code/<digest>/` and use the copy.

    The working tree may change while a long run goes on (others edit it; a schema change
    makes vaults made earlier in the run unreadable): every vault command and in-process call
    of one run uses this one snapshot, put first on `PYTHONPATH` / `sys.path`.
    """
    target = work / "code" / _digest_tree(REPO)
    if not target.is_dir():
        partial = target.with_name(target.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        for package in ("vault", "tui"):
            shutil.copytree(
                REPO / package, partial / package, ignore=shutil.ignore_patterns("__pycache__")
            )
        partial.rename(target)
    return use_code(target)


def source_digest() -> str:
    """A digest of the code under test, naming vaults built with it (formats may change)."""
    return _CODE[0].name if _CODE else _digest_tree(REPO)


def vault_env() -> dict[str, str]:
    """The environment of a `vault` command: the code snapshot first on the path."""
    env = base_env()
    if _CODE:
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(_CODE[0]), env.get("PYTHONPATH", "")) if p
        )
    return env


class Vault(Tool):
    """`vault checkin` into a fresh vault and collection.

    A fresh vault is a copy of a template made once with `vault init` and `vault collection
    create` (and kept in `<work>/vaults/` for these sources): creating one takes seconds of
    Argon2id and start-up that are no part of any measurement, and a copy is byte for byte the
    state those two commands leave.
    """

    def __init__(self, work: Path) -> None:
        super().__init__("vault", (), "")
        self.template = work / "vaults" / f"template-{source_digest()}"
        self.secret = work / "secrets" / "passphrase"
        self.secret.parent.mkdir(parents=True, exist_ok=True)
        if not self.secret.exists():
            self.secret.touch(mode=0o600)
            self.secret.write_text(PASSPHRASE)

    def cli(self, vault_dir: Path, *args: str) -> list[str]:
        """A `vault` command line acting as the benchmark member."""
        return [
            sys.executable,
            "-m",
            "vault",
            "--vault",
            str(vault_dir),
            "--as",
            MEMBER,
            "--passphrase-file",
            str(self.secret),
            *args,
        ]

    def version(self) -> str:
        return f"embargo-vault {importlib.metadata.version('embargo-vault')}"

    def create(self, vault_dir: Path) -> None:
        """A new vault with the benchmark member and collection (a copy of the template)."""
        if not self.template.is_dir():
            for old in self.template.parent.glob("template-*"):
                shutil.rmtree(old)
            partial = self.template.with_name(self.template.name + ".partial")
            shutil.rmtree(partial, ignore_errors=True)
            self._init(partial)
            partial.rename(self.template)
        shutil.copytree(self.template, vault_dir, symlinks=True)

    def _init(self, vault_dir: Path) -> None:
        env = vault_env()
        quiet(
            [
                sys.executable,
                "-m",
                "vault",
                "init",
                str(vault_dir),
                "--admin",
                MEMBER,
                "--new-passphrase-file",
                str(self.secret),
            ],
            env,
        )
        quiet(self.cli(vault_dir, "collection", "create", COLLECTION), env)

    def prepare(self, run_dir: Path) -> None:
        self.create(run_dir / "vault")

    def command(self, data: DataSet, run_dir: Path) -> Command:
        argv = self.cli(
            run_dir / "vault",
            "checkin",
            str(data.path),
            "--collection",
            COLLECTION,
            "--source",
            "benchmark",
            "--json",
        )
        return Command(argv, vault_env(), run_dir / "receipt.json")

    def output(self, run_dir: Path) -> Path:
        return run_dir / "vault"

    def check(self, returncode: int, run_dir: Path) -> str | None:
        """A check-in counts only when every item went in or was skipped by rule (exit 0).

        One whose items failed did less than the peers: timing it would flatter the vault (a
        4 GiB file refused for want of disk space took 3 s). Its receipt's counts are kept.
        """
        try:
            receipt = json.loads((run_dir / "receipt.json").read_text())
        except (OSError, ValueError):
            return f"exit {returncode}, no receipt"
        self.notes["receipt"] = receipt["counts"]
        if returncode == 0:
            return None
        return f"exit {returncode}, {receipt['counts'].get('failed', 0)} item(s) failed"


class Restic(Tool):
    """`restic backup` into a fresh repository (repository format 2: zstd compression)."""

    def __init__(self) -> None:
        super().__init__("restic", ("restic",), "restic")

    def env(self, run_dir: Path) -> dict[str, str]:
        return {
            **base_env(),
            "RESTIC_PASSWORD": PASSPHRASE,
            "RESTIC_REPOSITORY": str(run_dir / "restic"),
            "RESTIC_CACHE_DIR": str(run_dir / "restic-cache"),
        }

    def version(self) -> str:
        return quiet(["restic", "version"], base_env()).strip()

    def prepare(self, run_dir: Path) -> None:
        quiet(["restic", "init", "--quiet"], self.env(run_dir))

    def command(self, data: DataSet, run_dir: Path) -> Command:
        return Command(
            ["restic", "backup", "--quiet", "--host", "bench", str(data.path)], self.env(run_dir)
        )

    def output(self, run_dir: Path) -> Path:
        return run_dir / "restic"


class Borg(Tool):
    """`borg create` into a fresh `repokey` repository (default lz4 compression)."""

    def __init__(self) -> None:
        super().__init__("borg", ("borg",), "borgbackup")

    def env(self, run_dir: Path) -> dict[str, str]:
        return {
            **base_env(),
            "BORG_PASSPHRASE": PASSPHRASE,
            "BORG_REPO": str(run_dir / "borg"),
            "BORG_BASE_DIR": str(run_dir / "borg-base"),
            "BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK": "yes",
            "BORG_RELOCATED_REPO_ACCESS_IS_OK": "yes",
        }

    def version(self) -> str:
        return quiet(["borg", "--version"], base_env()).strip()

    def prepare(self, run_dir: Path) -> None:
        quiet(["borg", "init", "--encryption=repokey"], self.env(run_dir))

    def command(self, data: DataSet, run_dir: Path) -> Command:
        return Command(["borg", "create", "::bench", str(data.path)], self.env(run_dir))

    def output(self, run_dir: Path) -> Path:
        return run_dir / "borg"


class TarAge(Tool):
    """`tar -c | age -r RECIPIENT` into one file: no index, no deduplication, no fsync."""

    def __init__(self, work: Path) -> None:
        super().__init__("tar|age", ("tar", "age", "age-keygen", "bash"), "age")
        self.key = work / "secrets" / "age-identity.txt"

    def version(self) -> str:
        tar = quiet(["tar", "--version"], base_env()).splitlines()[0]
        return f"{tar}; age {quiet(['age', '--version'], base_env()).strip()}"

    def recipient(self) -> str:
        if not self.key.exists():
            self.key.parent.mkdir(parents=True, exist_ok=True)
            quiet(["age-keygen", "-o", str(self.key)], base_env())
        return quiet(["age-keygen", "-y", str(self.key)], base_env()).strip()

    def command(self, data: DataSet, run_dir: Path) -> Command:
        script = 'set -o pipefail; tar -cf - -C "$1" "$2" | age -r "$3" -o "$4"'
        argv = [
            "bash",
            "-c",
            script,
            "tar-age",
            str(data.path.parent),
            data.path.name,
            self.recipient(),
            str(run_dir / "out.tar.age"),
        ]
        return Command(argv, base_env())

    def output(self, run_dir: Path) -> Path:
        return run_dir / "out.tar.age"


def install(packages: list[str]) -> None:
    """Install Debian packages (as root, or with sudo when not)."""
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    for argv in (
        [*prefix, "apt-get", "update"],
        [*prefix, "apt-get", "install", "-y", *packages],
    ):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(argv, check=True, env=env)
