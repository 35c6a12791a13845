"""Policies: `vault policy check|apply|show|explain`."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from vault.cli.root import cli, json_option, open_vault, pass_state
from vault.errors import VaultError
from vault.output import emit, escape
from vault.service import Vault


@cli.group()
def policy() -> None:
    """Check, apply, show and explain the vault's Cedar policies.

    The vault keeps its active policy set as signed versions; `apply` makes a directory of
    policies (schema.cedarschema and *.cedar files) the next version.
    """


@policy.command("check")
@click.argument("directory", type=click.Path(path_type=Path))
@json_option
def policy_check(directory: Path, as_json: bool) -> None:
    """Validate a policy DIRECTORY; list every problem as file:line:column (exit 1 if any).

    Needs no vault.
    """
    problems = Vault.check_policies(directory)
    data = {"ok": not problems, "problems": [asdict(p) for p in problems]}
    emit(
        as_json,
        data,
        lambda: "\n".join(escape(str(p)) for p in problems) or f"ok: {directory} is valid",
    )
    if problems:
        raise VaultError(f"{len(problems)} problem(s) in {directory}")


@policy.command("apply")
@click.argument("directory", type=click.Path(path_type=Path))
@json_option
@pass_state
def policy_apply(state: dict[str, Any], directory: Path, as_json: bool) -> None:
    """Make DIRECTORY the vault's next policy version (needs change-policy).

    Prints a unified diff of the old and new policy files; the new version is signed by you and
    logged.
    """
    change = open_vault(state).apply_policies(directory)

    def text() -> str:
        if not change.changed:
            return f"unchanged: the vault already runs these policies (version {change.version})"
        lines = [change.diff.rstrip("\n")] if change.diff else []
        lines.append(
            f"applied as policy version {change.version} (digest {change.digest[:16]}…), "
            f"replacing version {change.previous_version}"
            + (" (recovery by an admin)" if change.recovery else "")
        )
        return "\n".join(lines)

    emit(as_json, asdict(change), text)


@policy.command("show")
@json_option
@pass_state
def policy_show(state: dict[str, Any], as_json: bool) -> None:
    """Show the active policy version: digest, signer, files and rules."""
    view = open_vault(state).policy()

    def text() -> str:
        lines = [
            f"policy version {view.version}",
            f"digest   {view.digest}",
            f"signed   by {view.signer} at {view.at}",
            f"files    {', '.join(view.files)}",
            f"rules    {', '.join(view.policies)}",
            "history:",
        ]
        lines += [f"  v{v.version}  {v.at}  {v.signer:10} {v.digest[:16]}…" for v in view.history]
        return "\n".join(lines)

    emit(as_json, asdict(view), text)


@policy.command("explain")
@click.argument("action")
@click.option("--for", "member", help="The member to ask about (default: you).")
@click.option("--on", "target", help="A collection (name) or document (id) you hold.")
@json_option
@pass_state
def policy_explain(
    state: dict[str, Any], action: str, member: str | None, target: str | None, as_json: bool
) -> None:
    """Say whether the policies allow ACTION now, and which rules decided it.

    Without --on the question is about the vault itself (members, policy, time).
    """
    decision = open_vault(state).explain(action, member=member, on=target)
    emit(as_json, asdict(decision), decision.explain)
