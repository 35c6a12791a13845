"""Turning samples into the printed tables, the vault/peer ratios and the targets.

Per tool and data set: the median wall time over the runs, and MB/s and files/s from it (MB is
10^6 bytes of input; files are the input's regular files); peak memory is the *largest* over
the runs (a memory budget is a worst case); CPU seconds and output size are medians.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from benchmarks.data import DataSet
from benchmarks.measure import Sample

MIB = 1024 * 1024


@dataclass(frozen=True)
class Target:
    """A goal from the issue: reported next to its result, never asserted."""

    label: str
    measured: float | None  # None: could not be measured in this build
    limit: float
    unit: str
    higher_is_better: bool
    note: str = ""

    @property
    def verdict(self) -> str:
        """PASS, MISS, or n/a when there is nothing to judge."""
        if self.measured is None:
            return "n/a"
        ok = self.measured >= self.limit if self.higher_is_better else self.measured < self.limit
        return "PASS" if ok else "MISS"

    def line(self) -> str:
        """One printed line: goal, measured value, verdict."""
        sign = "≥" if self.higher_is_better else "<"
        value = "-" if self.measured is None else f"{self.measured:.3g} {self.unit}"
        note = f"  ({self.note})" if self.note else ""
        goal = f"target {sign} {self.limit:g} {self.unit}"
        return f"  {self.verdict:4}  {self.label}: {value} ({goal}){note}"

    def to_json(self) -> dict[str, object]:
        """A JSON form for the results file."""
        return {
            "label": self.label,
            "measured": self.measured,
            "limit": self.limit,
            "unit": self.unit,
            "higher_is_better": self.higher_is_better,
            "verdict": self.verdict,
            "note": self.note,
        }


@dataclass
class ToolResult:
    """Every run of one tool on one data set."""

    tool: str
    samples: list[Sample] = field(default_factory=list)
    output_bytes: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: dict[str, object] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether at least one run succeeded and none failed."""
        return bool(self.samples) and not self.errors

    @property
    def wall(self) -> float:
        """Median wall time, seconds."""
        return statistics.median(s.wall for s in self.samples)

    def summary(self, data: DataSet) -> dict[str, float]:
        """The medians and peaks that the tables print."""
        wall = self.wall
        return {
            "wall_s": wall,
            "mb_s": data.bytes / wall / 1e6,
            "files_s": data.files / wall,
            "max_rss_mib": max(s.max_rss_kib for s in self.samples) / 1024,
            "tree_rss_mib": max(s.tree_rss_kib for s in self.samples) / 1024,
            "cpu_s": statistics.median(s.cpu for s in self.samples),
            "out_mb": statistics.median(self.output_bytes) / 1e6 if self.output_bytes else 0.0,
        }

    def to_json(self, data: DataSet) -> dict[str, object]:
        """A JSON form for the results file."""
        return {
            "tool": self.tool,
            "summary": self.summary(data) if self.samples else None,
            "runs": [vars(s) for s in self.samples],
            "output_bytes": self.output_bytes,
            "errors": self.errors,
            "notes": self.notes,
        }


COLUMNS = [
    ("wall_s", "wall s", "{:.2f}"),
    ("mb_s", "MB/s", "{:.1f}"),
    ("files_s", "files/s", "{:.1f}"),
    ("max_rss_mib", "RSS max MiB", "{:.0f}"),
    ("tree_rss_mib", "RSS tree MiB", "{:.0f}"),
    ("cpu_s", "CPU s", "{:.2f}"),
    ("out_mb", "out MB", "{:.1f}"),
]
RATIO_KEYS = ["wall_s", "mb_s", "files_s", "max_rss_mib", "tree_rss_mib"]


def render(rows: Sequence[Sequence[str]]) -> str:
    """A plain text table, first column left-aligned, the rest right-aligned."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def dataset_table(data: DataSet, results: Sequence[ToolResult]) -> str:
    """The results of every tool on one data set, then the vault/peer ratios."""
    rows = [["tool", *(title for _, title, _ in COLUMNS), "runs"]]
    for result in results:
        if not result.samples:
            rows.append([result.tool, *("-" for _ in COLUMNS), f"0 ({len(result.errors)} failed)"])
            continue
        summary = result.summary(data)
        failed = f" ({len(result.errors)} failed)" if result.errors else ""
        runs = f"{len(result.samples)}{failed}"
        rows.append([result.tool, *(fmt.format(summary[k]) for k, _, fmt in COLUMNS), runs])
    text = render(rows)
    for result in results:
        for error in dict.fromkeys(result.errors):  # each distinct error once
            first = " ".join(error.split())[:200]
            text += f"\n  {result.tool} failed: {first}"
    ratios = ratio_rows(data, results)
    if ratios:
        header = ["ratio", *(title for key, title, _ in COLUMNS if key in RATIO_KEYS)]
        text += "\n\n" + render([header, *ratios])
    return text


def ratios(data: DataSet, results: Sequence[ToolResult]) -> dict[str, dict[str, float]]:
    """vault/peer for every metric and every peer that ran."""
    by_name = {r.tool: r for r in results if r.samples}
    if "vault" not in by_name:
        return {}
    mine = by_name["vault"].summary(data)
    out = {}
    for name, result in by_name.items():
        if name == "vault":
            continue
        theirs = result.summary(data)
        out[name] = {k: mine[k] / theirs[k] if theirs[k] else float("nan") for k in RATIO_KEYS}
    return out


def ratio_rows(data: DataSet, results: Sequence[ToolResult]) -> list[list[str]]:
    """Printed rows of `ratios`: `vault/restic  1.52×  0.66× …`."""
    return [
        [f"vault/{peer}", *(f"{values[k]:.2f}×" for k in RATIO_KEYS)]
        for peer, values in ratios(data, results).items()
    ]


def percentile(values: Sequence[float], share: float) -> float:
    """The `share` quantile (0..1) by the nearest-rank method."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(share * len(ordered))))
    return ordered[rank - 1]
