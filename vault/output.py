"""Printing for the command line: JSON or aligned text, with every vault string escaped.

Names and text from the vault come from hostile material: they are escaped before they reach a
terminal, so an escape sequence in a file name cannot clear the screen or retitle the window.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import click

from vault.ingest import names

__all__ = ["emit", "escape", "human_size", "table"]


def escape(text: str) -> str:
    """Text safe for a terminal. Names the vault stored are escaped already (their backslashes
    doubled once); printable text is shown as it is, anything else escaped."""
    return text if text.isprintable() else names.escape(text)


def emit(as_json: bool, data: Any, text: Callable[[], str]) -> None:
    """Print `data` as one JSON document, or the human text `text()` builds."""
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    else:
        click.echo(text())


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Rows aligned in columns under a header line (cells must already be escaped)."""
    if not rows:
        return "(none)"
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def human_size(size: int) -> str:
    """A byte count for people: 1.5 MiB."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"
