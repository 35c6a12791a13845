"""Run the benchmarks: the vault and its peers side by side on the same data, in one run.

    .venv/bin/python -m benchmarks.run [--scale 1] [--runs 3] [--work DIR] [--json FILE]

Generates (or reuses) the data sets of `benchmarks.data`, stores each with `vault checkin`,
`restic backup`, `borg create` and `tar | age` — every run into a fresh destination, the tools'
order rotating from run to run — and prints, per data set, the median wall time, MB/s, files/s,
peak memory and CPU of each tool and the vault/peer ratios; then `vault check --read-data`,
`vault audit verify`, search and the collection browser (each only if this build has it); then
the issue's targets with PASS or MISS. Targets are reported, never asserted: the exit status is
0 when every command ran, 1 when one failed, 2 when the benchmark could not start.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from benchmarks import browser, extras, measure
from benchmarks.data import REPO, DataSet, corpus, generated, scale_tag
from benchmarks.peers import (
    Borg,
    Restic,
    TarAge,
    Tool,
    Vault,
    disk_usage,
    install,
    snapshot_code,
    use_code,
)
from benchmarks.report import Target, ToolResult, dataset_table, ratios

DATASETS = ["a", "b", "c", "d"]
EXTRAS = ["check", "audit", "listing", "search", "browser"]
TOOLS = ["vault", "restic", "borg", "age"]


def log(message: str) -> None:
    """Progress, on standard error."""
    print(f"bench: {message}", file=sys.stderr, flush=True)


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n")[0])
    p.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="multiply data set sizes by this (default 1: the issue's sizes)",
    )
    p.add_argument("--runs", type=int, default=3, help="timed runs per tool and data set")
    p.add_argument(
        "--work",
        type=Path,
        default=Path(tempfile.gettempdir()) / "embargo-vault-bench",
        help="where data, repositories and vaults go (data is reused)",
    )
    p.add_argument(
        "--json", type=Path, help="also write the results here (default WORK/results.json)"
    )
    p.add_argument("--datasets", default=",".join(DATASETS), help="which of a,b,c,d")
    p.add_argument("--tools", default=",".join(TOOLS), help="which of vault,restic,borg,age")
    p.add_argument("--extras", default=",".join(EXTRAS), help=f"which of {','.join(EXTRAS)}")
    p.add_argument(
        "--missing-peers",
        choices=["install", "skip", "fail"],
        default="install",
        help="a peer not installed: apt-get install it (default), skip it, or stop",
    )
    p.add_argument(
        "--code",
        type=Path,
        help="test this earlier snapshot (WORK/code/DIGEST) instead of copying the working tree",
    )
    p.add_argument("--queries", type=int, default=40, help="search queries to time")
    p.add_argument("--timeout", type=float, default=7200, help="seconds one command may take")
    args = p.parse_args(argv)
    if args.runs < 1 or args.scale <= 0:
        p.error("--runs must be at least 1 and --scale above 0")
    for name, allowed in (("datasets", DATASETS), ("tools", TOOLS), ("extras", EXTRAS)):
        chosen = [x for x in getattr(args, name).split(",") if x]
        if any(x not in allowed for x in chosen):
            p.error(f"--{name}: choose from {','.join(allowed)}")
        setattr(args, name, chosen)
    return args


def select_tools(args: argparse.Namespace, vault: Vault) -> tuple[list[Tool], list[str]]:
    """The tools to run and notes on those left out; installs missing peers when asked."""
    peers: list[Tool] = []
    for name, make in (("restic", Restic), ("borg", Borg), ("age", lambda: TarAge(args.work))):
        if name in args.tools:
            peers.append(make())
    missing = [t for t in peers if t.missing()]
    if missing and args.missing_peers == "install":
        packages = sorted({t.package for t in missing})
        log(f"installing {' '.join(packages)} with apt-get")
        try:
            install(packages)
        except (OSError, subprocess.CalledProcessError) as exc:
            raise SystemExit(
                f"bench: error: cannot install {' '.join(packages)}: {exc}; "
                "install them or pass --missing-peers skip"
            ) from None
        missing = [t for t in peers if t.missing()]
    if missing and args.missing_peers != "skip":
        names = ", ".join(f"{t.name} (needs {' '.join(t.missing())})" for t in missing)
        raise SystemExit(f"bench: error: not installed: {names}")
    notes = [f"{t.name}: not installed ({' '.join(t.missing())}), skipped" for t in missing]
    chosen: list[Tool] = [vault] if "vault" in args.tools else []
    return chosen + [t for t in peers if t not in missing], notes


def machine(work: Path, tools: Sequence[Tool]) -> dict[str, object]:
    """What the numbers were measured on."""
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    mount = ("?", "?", "?")
    for line in Path("/proc/mounts").read_text().splitlines():
        device, point, fstype = line.split()[:3]
        inside = work == Path(point) or Path(point) in work.parents
        if inside and (mount[1] == "?" or len(point) > len(mount[1])):
            mount = (device, point, fstype)
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(REPO), "status", "--porcelain", "vault"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
        "filesystem": f"{mount[2]} on {mount[0]} ({mount[1]})",
        "python": platform.python_version(),
        "commit": commit + (" with uncommitted changes in vault/" if dirty else ""),
        "versions": {t.name: t.version() for t in tools},
    }


class Bench:
    """One benchmark run."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work: Path = args.work.resolve()
        self.failures: list[str] = []
        self.kept: dict[str, Path] = {}  # data set key -> the last vault it was checked into
        # Run outputs wait here until their data set is done: see `dataset`.
        self.trash = self.work / "runs" / "trash"
        shutil.rmtree(self.trash, ignore_errors=True)  # an interrupted run's

    def dataset(self, data: DataSet, tools: Sequence[Tool]) -> list[ToolResult]:
        """Every run of every tool on one data set, the tools' order rotating per run.

        The runs' outputs are deleted only once the data set is done. ext4 without a journal
        (this machine's root) will not reuse an inode freed in the last minute or more, and
        scans past each one for every new file: a run that followed the deletion of the 22,000
        objects of (b) paid about 1 ms per file it created. That is a cost of benchmarking back
        to back, and only a tool that writes one file per document pays it.
        """
        results = {t.name: ToolResult(t.name) for t in tools}
        for i in range(self.args.runs):
            order = [*tools[i % len(tools) :], *tools[: i % len(tools)]]
            for tool in order:
                self.one(data, tool, results[tool.name], last=i == self.args.runs - 1)
        shutil.rmtree(self.trash, ignore_errors=True)
        return [results[t.name] for t in tools]

    def one(self, data: DataSet, tool: Tool, result: ToolResult, *, last: bool) -> None:
        """One timed run of one tool into a fresh destination."""
        run_dir = self.work / "runs" / f"{data.key}-{tool.name.replace('|', '-')}"
        shutil.rmtree(run_dir, ignore_errors=True)
        run_dir.mkdir(parents=True)
        tool.notes.clear()
        try:
            tool.prepare(run_dir)
            command = tool.command(data, run_dir)
        except RuntimeError as exc:
            result.errors.append(f"setup failed: {exc}")
            self.failures.append(f"({data.key}) {tool.name}: setup failed: {exc}")
            return
        os.sync()  # nobody pays for the page cache another tool left dirty
        stderr = run_dir / "stderr.txt"
        sample = measure.run(
            command.argv,
            env=command.env,
            stdout=command.stdout,
            stderr=stderr,
            timeout=self.args.timeout,
        )
        problem = tool.check(sample.returncode, run_dir)
        result.notes.update(tool.notes)
        if problem is None:
            result.samples.append(sample)
            result.output_bytes.append(disk_usage(tool.output(run_dir)))
            log(
                f"({data.key}) {tool.name}: {sample.wall:.2f} s, "
                f"{data.bytes / sample.wall / 1e6:.1f} MB/s, RSS {sample.max_rss_kib // 1024} MiB"
            )
        else:
            tail = stderr.read_text(errors="replace").strip()[-400:]
            result.errors.append(f"{problem}: {tail}")
            self.failures.append(f"({data.key}) {tool.name}: {problem}: {tail}")
            log(f"({data.key}) {tool.name}: FAILED {problem}: {tail}")
        if last and isinstance(tool, Vault) and problem is None:
            kept = self.work / "runs" / f"{data.key}-vault-kept"
            shutil.rmtree(kept, ignore_errors=True)
            (run_dir / "vault").rename(kept)
            self.kept[data.key] = kept
        self.trash.mkdir(parents=True, exist_ok=True)
        run_dir.rename(self.trash / f"{run_dir.name}-{len(list(self.trash.iterdir()))}")


def dataset_targets(key: str, data: DataSet, results: list[ToolResult]) -> list[Target]:
    """The issue's check-in targets that this data set measures."""
    found = ratios(data, results)
    vault = next((r for r in results if r.tool == "vault" and r.samples), None)
    restic = found.get("restic", {})
    missing = "" if restic else "restic did not run"
    if key == "a":
        return [
            Target("(a) check-in MB/s vs restic", restic.get("mb_s"), 2, "× restic", True, missing)
        ]
    if key == "b":
        return [
            Target(
                "(b) check-in files/s vs restic",
                restic.get("files_s"),
                1,
                "× restic",
                True,
                missing,
            )
        ]
    if key == "c" and vault is not None:
        summary = vault.summary(data)
        return [
            Target(
                "(c) check-in peak RSS (largest process)",
                summary["max_rss_mib"],
                100,
                "MiB",
                False,
                f"whole tree, sampled: {summary['tree_rss_mib']:.0f} MiB",
            )
        ]
    return []


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks; see the module docstring."""
    args = parse(argv)
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)  # progress shows as it happens in a log
    work: Path = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    args.work = work
    code = use_code(args.code) if args.code else snapshot_code(work)
    vault = Vault(work)
    tools, skipped = select_tools(args, vault)
    started = datetime.datetime.now(datetime.UTC)
    info = machine(work, tools)
    load_start = measure.load_average()
    print(
        f"Embargo Vault benchmarks: scale {scale_tag(args.scale)}, {args.runs} run(s) each, "
        f"work {work}"
    )
    print(
        f"machine: {info['cpu']}, {info['cores']} cores, {info['memory_gib']} GiB RAM, "
        f"Linux {info['kernel']}, {info['filesystem']}; Python {info['python']}"
    )
    print(f"vault commit {info['commit']}; code under test: {code}")
    for name, version in dict(info["versions"]).items():  # type: ignore[call-overload]
        print(f"  {name}: {version}")
    for note in skipped:
        print(f"  {note}")
    print("load average at start: " + " ".join(f"{x:.2f}" for x in load_start))
    bench = Bench(args)
    out: dict[str, object] = {}
    targets: list[Target] = []
    results_file: Path = args.json or work / "results.json"
    record: dict[str, object] = {
        "command": ["python", "-m", "benchmarks.run", *(argv or sys.argv[1:])],
        "started": started.isoformat(timespec="seconds"),
        "scale": args.scale,
        "runs": args.runs,
        "machine": info,
        "load": {"start": load_start},
        "skipped": skipped,
        "datasets": out,
        "extras": [],
        "targets": [],
        "failures": bench.failures,
        "complete": False,
    }

    def save() -> None:
        """Write what is known so far: a long run that is cut short still leaves its numbers."""
        results_file.write_text(json.dumps(record, indent=2, default=str) + "\n")

    for key in args.datasets:
        data = corpus() if key == "d" else generated(key, work, args.scale, log)
        if data is None:
            message = "(d) the shared corpus is absent (set VAULT_SHARED_DIR)"
            if os.environ.get("CI"):
                bench.failures.append(message)
            print(f"\n{message}: skipped")
            continue
        results = bench.dataset(data, tools)
        print(
            f"\n({key}) {data.title}: {data.bytes / 1e6:.1f} MB in {data.files} files, "
            f"load {' '.join(f'{x:.2f}' for x in measure.load_average())}"
        )
        print(dataset_table(data, results))
        for result in results:
            if "receipt" in result.notes:
                print(f"  vault receipt: {result.notes['receipt']}")
        found = dataset_targets(key, data, results)
        targets += found
        out[key] = {
            "data": data.to_json(),
            "tools": [r.to_json(data) for r in results],
            "ratios": ratios(data, results),
            "targets": [t.to_json() for t in found],
        }
        save()
    done_extras = run_extras(args, bench, vault, record, save)
    for extra in done_extras:
        targets += extra.targets
        if extra.status == "failed":
            bench.failures.append(f"{extra.name}: {'; '.join(extra.lines)}")
    if args.scale != 1:
        # The targets are set for the full sizes; fixed costs dominate small data.
        scaled = f"scale ×{scale_tag(args.scale)}: indicative only"
        targets = [replace(t, note=f"{t.note}; {scaled}" if t.note else scaled) for t in targets]
    load_end = measure.load_average()
    print("\ntargets (reported, never asserted):")
    for target in targets:
        print(target.line())
    print("load average at end: " + " ".join(f"{x:.2f}" for x in load_end))
    if max(*load_start, *load_end) > (os.cpu_count() or 1) * 0.5:
        print("note: the machine was busy (load above half its cores): numbers are noisy")
    record.update(
        load={"start": load_start, "end": load_end},
        extras=[e.to_json() for e in done_extras],
        targets=[t.to_json() for t in targets],
        complete=True,
    )
    save()
    print(f"results written to {results_file}")
    for failure in bench.failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    for kept in bench.kept.values():
        shutil.rmtree(kept, ignore_errors=True)
    return 1 if bench.failures else 0


def run_extras(
    args: argparse.Namespace,
    bench: Bench,
    vault: Vault,
    record: dict[str, object],
    save: Callable[[], None],
) -> list[extras.Extra]:
    """The benchmarks beyond check-in, each printed (and saved) as it finishes."""
    setting = extras.Setting(bench.work, args.scale, args.runs, args.timeout, vault, log)
    done: list[extras.Extra] = []

    def show(extra: extras.Extra) -> None:
        print("\n" + extra.text())
        done.append(extra)
        record["extras"] = [e.to_json() for e in done]
        save()

    if "check" in args.extras:
        if "a" in bench.kept:
            data = generated("a", bench.work, args.scale, log)
            show(extras.check_read_data(setting, bench.kept["a"], data))
        else:
            show(
                extras.Extra(
                    "vault check --read-data",
                    "skipped",
                    ["needs a successful vault run on data set (a)"],
                )
            )
    if "audit" in args.extras:
        show(extras.audit_verify(setting))
    if {"listing", "search", "browser"} & set(args.extras):
        docs = extras.DocsVault(setting, generated("e", bench.work, args.scale, log))
        if "listing" in args.extras:
            listing = extras.listing(setting, docs)
            show(docs.checkin_extra())
            show(listing)
        if "search" in args.extras:
            show(extras.search(setting, docs, args.queries))
        if "browser" in args.extras:
            show(browser.browser(setting, docs))
    return done


if __name__ == "__main__":
    sys.exit(main())
