"""The benchmarks beyond check-in: `check --read-data`, audit, listing and search (the browser is
in `benchmarks.browser`).

Each runs only against what this build has: a command or screen that does not exist yet is
reported as "not available in this build", never given a number.

Two vaults are built once and kept in `<work>/vaults/`, named by the scale and by the digest of
the code snapshot under test (new code builds them again, since formats may change):

- **docs**: data set (e) checked in with `vault checkin` (timed and reported, for information),
  for `vault search` and the browser;
- **audit**: a vault whose log holds 100,000 entries (× scale). Writing them through commands
  would take hours, so this benchmark — and only this benchmark — opens the vault in-process,
  takes the unlocked service context (`Vault._ctx`, an internal) and appends entries with the
  member's own keys through `Context.audit`, the call every command uses. `os.fsync` is made a
  no-op while it does: durability of generated entries is beside the point, and one fsync per
  entry would dominate. The entries are real, signed and chained; only their making is cheap.
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

from benchmarks import measure
from benchmarks.data import DataSet, Keystream, scale_tag, search_queries
from benchmarks.peers import COLLECTION, MEMBER, PASSPHRASE, Vault, source_digest, vault_env
from benchmarks.report import Target, percentile

Log = Callable[[str], None]
NOT_AVAILABLE = "not available in this build"


@dataclass
class Extra:
    """The outcome of one extra benchmark."""

    name: str
    status: str = "ok"  # ok, not available, failed
    lines: list[str] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    targets: list[Target] = field(default_factory=list)

    def text(self) -> str:
        """The printed form."""
        head = f"{self.name}: {self.status}" if self.status != "ok" else f"{self.name}:"
        return "\n".join([head, *(f"  {line}" for line in self.lines)])

    def to_json(self) -> dict[str, object]:
        """A JSON form for the results file."""
        return {
            "name": self.name,
            "status": self.status,
            "lines": self.lines,
            "metrics": self.metrics,
            "targets": [t.to_json() for t in self.targets],
        }


@dataclass
class Setting:
    """What every extra needs."""

    work: Path
    scale: float
    runs: int
    timeout: float
    tool: Vault
    log: Log


def _runs(s: Setting, argv: list[str], out: Path, count: int) -> list[measure.Sample]:
    samples = []
    for _ in range(count):
        sample = measure.run(
            argv, env=vault_env(), stdout=out, stderr=out.with_suffix(".err"), timeout=s.timeout
        )
        if sample.returncode != 0:
            detail = out.with_suffix(".err").read_text(errors="replace").strip()[-300:]
            raise RuntimeError(f"exit {sample.returncode}: {detail}")
        samples.append(sample)
    return samples


def check_read_data(s: Setting, vault_dir: Path, data: DataSet) -> Extra:
    """`vault check --read-data` on a vault holding data set (a)."""
    extra = Extra(f"vault check --read-data on ({data.key})")
    out = vault_dir.parent / "check.json"
    try:
        samples = _runs(s, s.tool.cli(vault_dir, "check", "--read-data", "--json"), out, s.runs)
    except RuntimeError as exc:
        extra.status, extra.lines = "failed", [str(exc)]
        return extra
    wall = statistics.median(x.wall for x in samples)
    rate = data.bytes / wall / 1e6
    checked = json.loads(out.read_text()).get("checked", {})
    extra.metrics = {
        "wall_s": wall,
        "mb_s": rate,
        "max_rss_mib": max(x.max_rss_kib for x in samples) / 1024,
    }
    extra.lines = [
        f"{data.bytes / 1e6:.1f} MB, {checked}: median {wall:.2f} s = {rate:.1f} MB/s "
        f"(whole command: start, unlock, every check), peak RSS "
        f"{extra.metrics['max_rss_mib']:.0f} MiB"
    ]
    extra.targets = [Target("check --read-data", rate, 500, "MB/s", True)]
    return extra


class DocsVault:
    """The vault of data set (e), built once per scale and source digest."""

    def __init__(self, s: Setting, data: DataSet) -> None:
        self.s = s
        self.data = data
        self.path = s.work / "vaults" / f"docs-s{scale_tag(s.scale)}-{source_digest()}"
        self.record = _beside(self.path, ".json")
        self.built: dict[str, Any] = {}

    def ensure(self) -> None:
        """Build the vault unless an earlier run left it complete."""
        if self.built:
            return
        if self.record.is_file() and self.path.is_dir():
            self.built = {**json.loads(self.record.read_text()), "reused": True}
            return
        _clear_older(self.path)
        self.s.log(f"building the docs vault: checking in {self.data.files} documents")
        self.s.tool.create(self.path)
        receipt = self.path.parent / f"{self.path.name}.receipt.json"
        argv = self.s.tool.cli(
            self.path, "checkin", str(self.data.path), "--collection", COLLECTION, "--json"
        )
        sample = measure.run(argv, env=vault_env(), stdout=receipt, timeout=None)
        if sample.returncode != 0:
            raise RuntimeError(f"checking in data set (e) failed: exit {sample.returncode}")
        counts = json.loads(receipt.read_text())["counts"]
        receipt.unlink()
        self.built = {
            "checkin": vars(sample),
            "counts": counts,
            "files": self.data.files,
            "bytes": self.data.bytes,
            "reused": False,
        }
        self.record.write_text(json.dumps(self.built, indent=2) + "\n")

    def checkin_extra(self) -> Extra:
        """The one timed check-in of data set (e), reported for information."""
        sample = self.built["checkin"]
        wall = float(sample["wall"])
        extra = Extra(f"vault checkin of ({self.data.key}) {self.data.files} small documents")
        extra.metrics = {
            "wall_s": wall,
            "files_s": self.data.files / wall,
            "max_rss_mib": sample["max_rss_kib"] / 1024,
        }
        extra.lines = [
            f"{wall:.1f} s = {self.data.files / wall:.1f} files/s, "
            f"peak RSS {sample['max_rss_kib'] / 1024:.0f} MiB, one run"
            + (
                " (built by an earlier run with the same sources)"
                if self.built.get("reused")
                else ""
            )
        ]
        return extra


def _beside(path: Path, suffix: str) -> Path:
    """`path` with `suffix` appended (names here hold dots: `docs-s0.25-…`)."""
    return path.with_name(path.name + suffix)


def _clear_older(path: Path) -> None:
    """Remove vaults of the same kind and scale built from other sources."""
    stem = path.name.rsplit("-", 1)[0]
    for old in path.parent.glob(f"{stem}-*"):
        if old not in (path, _beside(path, ".json")):
            if old.is_dir():
                shutil.rmtree(old)
            else:
                old.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)


def _available(s: Setting, *command: str) -> bool:
    """Whether `vault COMMAND --help` succeeds in this build."""
    done = measure.run([sys.executable, "-m", "vault", *command, "--help"], env=vault_env())
    return done.returncode == 0


def search(s: Setting, docs: DocsVault, queries: int) -> Extra:
    """`vault search` latency over data set (e)."""
    extra = Extra(f"vault search over {docs.data.files} documents")
    if not _available(s, "search"):
        extra.status = NOT_AVAILABLE
        extra.lines = ["search: not available in this build (`vault search --help` fails)"]
        extra.targets = [Target("search p50", None, 50, "ms", False, "not available")]
        return extra
    docs.ensure()
    words = list(search_queries(queries))
    out = s.work / "search.json"
    walls = []
    try:
        for query in words:
            argv = s.tool.cli(docs.path, "search", query, "--collection", COLLECTION, "--json")
            walls += [x.wall * 1000 for x in _runs(s, argv, out, 1)]
        base = _runs(s, s.tool.cli(docs.path, "collection", "list", "--json"), out, s.runs)
    except RuntimeError as exc:
        extra.status, extra.lines = "failed", [str(exc)]
        return extra
    fixed = statistics.median(x.wall for x in base) * 1000
    extra.metrics = {
        "cli_p50_ms": percentile(walls, 0.5),
        "cli_p95_ms": percentile(walls, 0.95),
        "cli_fixed_ms": fixed,
    }
    extra.lines = [
        f"command line, {len(walls)} queries: p50 {percentile(walls, 0.5):.0f} ms, "
        f"p95 {percentile(walls, 0.95):.0f} ms (each includes start-up and unlock; "
        f"`vault collection list` alone takes {fixed:.0f} ms)"
    ]
    inproc = _search_in_process(s, docs.path, words)
    if isinstance(inproc, str):
        extra.lines.append(f"in-process: {inproc}")
        judged, note = percentile(walls, 0.5), "command line, start-up and unlock included"
    else:
        p50, p95 = percentile(inproc, 0.5), percentile(inproc, 0.95)
        extra.metrics |= {"p50_ms": p50, "p95_ms": p95}
        extra.lines.append(
            f"in-process `Vault.search`, vault unlocked once: p50 {p50:.1f} ms, p95 {p95:.1f} ms"
        )
        judged, note = p50, "in-process query, as the terminal app sees it"
    extra.targets = [Target("search p50", judged, 50, "ms", False, note)]
    return extra


def _search_in_process(s: Setting, path: Path, words: Iterable[str]) -> list[float] | str:
    from vault.service import Vault as Service

    with Service.open(path, MEMBER, PASSPHRASE.encode()) as vault:
        find = getattr(vault, "search", None)
        if find is None:
            return "no `Vault.search` method"
        times = []
        for query in words:
            start = time.perf_counter()
            try:
                found = find(query, collection=COLLECTION)
            except TypeError:
                found = find(query)
            if isinstance(found, Iterable):
                list(found)
            times.append((time.perf_counter() - start) * 1000)
        return times


def listing(s: Setting, docs: DocsVault) -> Extra:
    """What a browser must at least do: list every document, in-process and with `vault ls`."""
    docs.ensure()
    extra = Extra(f"listing {docs.data.files} documents")
    from vault.service import Vault as Service

    with Service.open(docs.path, MEMBER, PASSPHRASE.encode()) as vault:
        times = []
        for _ in range(s.runs):
            start = time.perf_counter()
            count = len(vault.documents(COLLECTION))
            times.append(time.perf_counter() - start)
    inproc = statistics.median(times)
    out = s.work / "ls.json"
    try:
        samples = _runs(
            s, s.tool.cli(docs.path, "ls", "--collection", COLLECTION, "--json"), out, s.runs
        )
    except RuntimeError as exc:
        extra.status, extra.lines = "failed", [str(exc)]
        return extra
    cli = statistics.median(x.wall for x in samples)
    extra.metrics = {"service_s": inproc, "cli_s": cli, "documents": count}
    extra.lines = [
        f"`Vault.documents` in-process: {inproc:.2f} s for {count} documents; "
        f"`vault ls --json`: {cli:.2f} s (informational: the browser's data load)"
    ]
    return extra


class AuditVault:
    """A vault whose audit log holds `entries` entries, built once per scale and digest."""

    def __init__(self, s: Setting) -> None:
        self.s = s
        self.entries = max(10, round(100_000 * s.scale))
        self.path = s.work / "vaults" / f"audit-s{scale_tag(s.scale)}-{source_digest()}"

    def ensure(self) -> float | None:
        """Build it unless it exists; the seconds building took, or None if reused."""
        done = _beside(self.path, ".json")
        if done.is_file() and self.path.is_dir():
            return None
        _clear_older(self.path)
        self.s.log(f"building the audit vault: {self.entries} entries")
        self.s.tool.create(self.path)
        from vault.service import Vault as Service

        start = time.perf_counter()
        stream = Keystream("audit")
        actions = ["list", "show", "cat", "mark", "search", "checkin"]
        with Service.open(self.path, MEMBER, PASSPHRASE.encode()) as vault, mock.patch("os.fsync"):
            ctx = vault._ctx  # internal, benchmark only: see the module docstring
            seq = ctx.audit_log.head().seq
            for i in range(seq, self.entries):
                ctx.audit(actions[i % len(actions)], stream.read(32).hex(), {"n": i})
        took = time.perf_counter() - start
        done.write_text(json.dumps({"entries": self.entries, "seconds": took}) + "\n")
        return took


def audit_verify(s: Setting) -> Extra:
    """`vault audit verify` over 100,000 entries (× scale)."""
    target = AuditVault(s)
    extra = Extra(f"vault audit verify over {target.entries} entries")
    took = target.ensure()
    out = s.work / "audit.json"
    try:
        samples = _runs(s, s.tool.cli(target.path, "audit", "verify", "--json"), out, s.runs)
    except RuntimeError as exc:
        extra.status, extra.lines = "failed", [str(exc)]
        return extra
    report = json.loads(out.read_text())
    wall = statistics.median(x.wall for x in samples)
    extra.metrics = {
        "wall_s": wall,
        "entries": report["entries"],
        "cpu_s": statistics.median(x.cpu for x in samples),
    }
    extra.lines = [
        f"{report['entries']} entries, ok={report['ok']}: median {wall:.2f} s "
        f"(CPU {extra.metrics['cpu_s']:.2f} s; whole command)"
        + (f"; entries generated in {took:.0f} s" if took is not None else "")
    ]
    extra.targets = [Target(f"audit verify of {target.entries} entries", wall, 10, "s", False)]
    return extra
