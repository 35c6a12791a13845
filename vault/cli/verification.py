"""Proving the vault is intact: `check` and `audit`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from vault.audit import Checkpoint
from vault.audit.checkpoint import MAX_TEXT
from vault.cli.root import cli, json_option, open_vault, pass_state
from vault.errors import IntegrityError, UsageError
from vault.output import emit, escape


@cli.command()
@click.option("--read-data", is_flag=True, help="Also decrypt and verify every object.")
@json_option
@pass_state
def check(state: dict[str, Any], read_data: bool, as_json: bool) -> None:
    """Check the vault for damage and tampering; exit 4 if any is found.

    Orphans (objects no catalog names, leftovers of interrupted writes) are reported as
    warnings: nothing is deleted.
    """
    report = open_vault(state).check(read_data=read_data)
    data = {
        "ok": report.ok,
        "problems": report.problems,
        "warnings": report.warnings,
        "checked": report.checked,
    }

    def text() -> str:
        lines = [f"problem: {escape(p)}" for p in report.problems]
        counts = ", ".join(f"{n} {k}" for k, n in report.checked.items())
        lines.append(("ok: " if report.ok else "DAMAGED: ") + counts)
        return "\n".join(lines)

    emit(as_json, data, text)
    for warning in report.warnings:  # diagnostics, not data: also beside --json output
        click.echo(f"vault: warning: {escape(warning)}", err=True)
    if not report.ok:
        raise IntegrityError(
            f"{len(report.problems)} problem(s) found",
            hint="restore the damaged files from a backup and run check again",
        )


@cli.group()
def audit() -> None:
    """Show, verify and checkpoint the tamper-evident audit log."""


@audit.command("verify")
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(path_type=Path, exists=True),
    help="A checkpoint exported earlier: the log must still contain it.",
)
@json_option
@pass_state
def audit_verify(state: dict[str, Any], checkpoint_file: Path | None, as_json: bool) -> None:
    """Verify the audit chain and every entry's signature; exit 4 on any problem."""
    point = None
    if checkpoint_file is not None:
        try:
            with checkpoint_file.open("rb") as handle:
                raw = handle.read(MAX_TEXT + 1)  # an exported file may be anyone's: bound it
            if len(raw) > MAX_TEXT:
                raise IntegrityError(f"{checkpoint_file} is too large to be an audit checkpoint")
            text = raw.decode("utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read {checkpoint_file}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise IntegrityError(f"{checkpoint_file} is not an audit checkpoint") from None
        point = Checkpoint.from_json(text)
    report = open_vault(state).audit_verify(point)
    data = {
        "ok": report.ok,
        "entries": report.entries,
        "head_seq": report.head.seq,
        "head": report.head.digest.hex(),
        "problems": list(report.problems),
    }
    emit(
        as_json,
        data,
        lambda: "\n".join(
            [f"problem: {escape(p)}" for p in report.problems]
            + [
                f"{'ok' if report.ok else 'DAMAGED'}: {report.entries} entries, "
                f"head {report.head.seq} {report.head.digest.hex()[:16]}"
            ]
        ),
    )
    if not report.ok:
        raise IntegrityError("the audit log does not verify")


@audit.command("show")
@click.option("--last", type=click.IntRange(min=1), help="Only the last N entries.")
@json_option
@pass_state
def audit_show(state: dict[str, Any], last: int | None, as_json: bool) -> None:
    """Print the audit log's entries."""
    entries = list(open_vault(state).audit_entries())
    if last is not None:
        entries = entries[-last:]
    rows = [
        {
            "seq": e.seq,
            "at": e.at.isoformat(timespec="seconds"),
            "actor": e.actor,
            "action": e.action,
            "target": e.target,
            "details": dict(e.details),
        }
        for e in entries
    ]
    emit(
        as_json,
        rows,
        lambda: "\n".join(
            f"{r['seq']:>6} {r['at']} {escape(str(r['actor']))} {escape(str(r['action']))} "
            f"{escape(str(r['target']))} {escape(str(r['details'] or ''))}".rstrip()
            for r in rows
        ),
    )


@audit.command("checkpoint")
@click.option("--output", type=click.Path(path_type=Path), help="Also write it to this new file.")
@pass_state
def audit_checkpoint(state: dict[str, Any], output: Path | None) -> None:
    """Sign the log's current head; keep the printout on paper or a USB stick."""
    point = open_vault(state).audit_checkpoint()
    text = point.to_json()
    if output is not None:
        if output.exists():
            raise UsageError(f"{output} already exists")
        output.write_text(text + "\n")
    click.echo(text)
