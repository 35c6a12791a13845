"""Results JSON to the Markdown tables of `benchmarks/README.md`.

    .venv/bin/python -m benchmarks.markdown WORK/results.json [MORE.json ...]

Later files add the data sets and extras the first lacks (a run split in parts).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

COLUMNS = [
    ("wall_s", "wall s", "{:.2f}"),
    ("mb_s", "MB/s", "{:.1f}"),
    ("files_s", "files/s", "{:.1f}"),
    ("max_rss_mib", "RSS max MiB", "{:.0f}"),
    ("tree_rss_mib", "RSS tree MiB", "{:.0f}"),
    ("cpu_s", "CPU s", "{:.2f}"),
    ("out_mb", "out MB", "{:.1f}"),
]


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def dataset(key: str, entry: dict[str, Any]) -> list[str]:
    """One data set's table and ratios."""
    data = entry["data"]
    lines = [
        f"**({key}) {data['title']}** — {data['bytes'] / 1e6:,.1f} MB in {data['files']:,} files",
        "",
        _row(["tool", *(title for _, title, _ in COLUMNS), "runs"]),
        _row(["---"] * (len(COLUMNS) + 2)),
    ]
    for tool in entry["tools"]:
        summary = tool["summary"]
        failed = f" ({len(tool['errors'])} failed)" if tool["errors"] else ""
        if summary is None:
            lines.append(_row([tool["tool"], *("–" for _ in COLUMNS), f"0{failed}"]))
            continue
        cells = [fmt.format(summary[k]) for k, _, fmt in COLUMNS]
        lines.append(
            _row([tool["tool"].replace("|", "\\|"), *cells, f"{len(tool['runs'])}{failed}"])
        )
    if entry["ratios"]:
        keys = ["wall_s", "mb_s", "files_s", "max_rss_mib", "tree_rss_mib"]
        lines += ["", _row(["ratio", *(t for k, t, _ in COLUMNS if k in keys)])]
        lines.append(_row(["---"] * (len(keys) + 1)))
        for peer, values in entry["ratios"].items():
            name = f"vault/{peer}".replace("|", "\\|")
            lines.append(_row([name, *(f"{values[k]:.2f}×" for k in keys)]))
    receipt = next(
        (t["notes"].get("receipt") for t in entry["tools"] if t["tool"] == "vault"), None
    )
    if receipt:
        lines += ["", f"vault receipt: {receipt}"]
    return [*lines, ""]


def main(argv: Sequence[str] | None = None) -> int:
    """Print the Markdown for one or more results files."""
    paths = [Path(p) for p in (argv if argv is not None else sys.argv[1:])]
    records = [json.loads(p.read_text()) for p in paths]
    first = records[0]
    datasets: dict[str, Any] = {}
    extras: dict[str, Any] = {}
    targets: dict[str, Any] = {}
    for record in records:
        for key, entry in record["datasets"].items():
            datasets.setdefault(key, entry)
            for target in entry["targets"]:
                targets.setdefault(target["label"], target)
        for extra in record["extras"]:
            extras.setdefault(extra["name"], extra)
            for target in extra["targets"]:
                targets.setdefault(target["label"], target)
    out = []
    m = first["machine"]
    out.append(
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB RAM, Linux "
        f"{m['kernel']}, {m['filesystem']}; Python {m['python']}; vault {m['commit']}."
    )
    out.append("Peers: " + "; ".join(f"{k}: {v}" for k, v in m["versions"].items()) + ".")
    for record in records:
        load = record["load"]
        out.append(
            f"Run started {record['started']} (scale {record['scale']}, {record['runs']} runs): "
            f"load average at start {' '.join(f'{x:.2f}' for x in load['start'])}"
            + (f", at end {' '.join(f'{x:.2f}' for x in load['end'])}" if "end" in load else "")
            + "."
        )
    out.append("")
    for key, entry in sorted(datasets.items()):
        out += dataset(key, entry)
    for extra in extras.values():
        status = "" if extra["status"] == "ok" else f" — {extra['status']}"
        out.append(f"- **{extra['name']}**{status}: " + " ".join(extra["lines"]))
    out += ["", _row(["target", "measured", "goal", "verdict"]), _row(["---"] * 4)]
    for target in targets.values():
        sign = "≥" if target["higher_is_better"] else "<"
        value = "–" if target["measured"] is None else f"{target['measured']:.3g} {target['unit']}"
        note = f" ({target['note']})" if target["note"] else ""
        goal = f"{sign} {target['limit']:g} {target['unit']}"
        out.append(_row([target["label"], value + note, goal, f"**{target['verdict']}**"]))
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
