"""`vault release`: request, approve, list, run and verify releases."""

from __future__ import annotations

import sys
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from vault.cli.root import cli, json_option, open_vault, pass_state
from vault.errors import IntegrityError, Refused, UsageError
from vault.output import emit, escape, table
from vault.policy import parse_local
from vault.service import verify_bundle


@cli.group()
def release() -> None:
    """Release material when its embargo lifts, with the approvals policy demands."""


def _when(text: str | None, zone: str) -> datetime | None:
    return parse_local(text, zone) if text else None


@release.command("request")
@click.option("--collection", required=True, help="The collection to release from.")
@click.option("--doc", "docs", multiple=True, help="A document (repeatable); default: all.")
@click.option("--reason", required=True, help="Why this material is released.")
@click.option("--not-before", help="Earliest release time, e.g. '2017-05-07 20:00'.")
@click.option("--expires", help="The request lapses at this time.")
@click.option("--tz", default="UTC", show_default=True, help="IANA zone of the times given.")
@json_option
@pass_state
def release_request(
    state: dict[str, Any],
    collection: str,
    docs: tuple[str, ...],
    reason: str,
    not_before: str | None,
    expires: str | None,
    tz: str,
    as_json: bool,
) -> None:
    """Ask for a release; it runs only after every embargo and with the approvals needed."""
    view = open_vault(state).request_release(
        collection,
        documents=list(docs),
        reason=reason,
        not_before=_when(not_before, tz),
        expires=_when(expires, tz),
    )
    emit(
        as_json,
        asdict(view),
        lambda: (
            f"release request {view.id}: {view.documents} document(s)"
            f", not before {view.not_before.isoformat(timespec='minutes')}; {view.status}"
        ),
    )


@release.command("approve")
@click.argument("request_id", metavar="REQUEST")
@click.option("--yes", is_flag=True, help="Approve without asking (scripts).")
@pass_state
def release_approve(state: dict[str, Any], request_id: str, yes: bool) -> None:
    """Show a request in full and sign it as an approver."""
    vault = open_vault(state)
    # Permission first: a member who may not approve is refused before seeing the request.
    view, request = vault.release_to_approve(request_id)
    click.echo(
        f"request    {view.id} by {view.requester}\n"
        f"collection {escape(view.collection)}\nreason     {escape(request.reason)}\n"
        f"not before {request.not_before.isoformat()}\n"
        f"expires    {request.expires.isoformat() if request.expires else 'never'}\n"
        f"documents  {len(request.documents)}:",
        err=True,
    )
    for oid in request.documents:
        click.echo(f"  {oid}", err=True)
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError("approving needs confirmation", hint="add --yes in scripts")
        click.confirm("approve this release?", abort=True, err=True)
    approved = vault.approve_release(request_id)
    click.echo(
        f"approved {approved.id}; approvers so far: {', '.join(approved.approvers)}; "
        f"{approved.status}"
    )


@release.command("list")
@json_option
@pass_state
def release_list(state: dict[str, Any], as_json: bool) -> None:
    """List requests with their status and a countdown."""
    vault = open_vault(state)
    views = vault.releases()
    now = vault.now()
    emit(
        as_json,
        [asdict(v) for v in views],
        lambda: table(
            [
                "request",
                "status",
                "not before (UTC)",
                "countdown",
                "docs",
                "requester",
                "approvers",
            ],
            [
                [
                    v.id,
                    v.status,
                    v.not_before.isoformat(timespec="minutes"),
                    v.countdown(now),
                    str(v.documents),
                    v.requester,
                    ",".join(v.approvers) or "-",
                ]
                for v in views
            ],
        ),
    )


@release.command("run")
@click.argument("request_id", metavar="[REQUEST]", required=False)
@click.option("--due", is_flag=True, help="Run every approved request whose time has come.")
@click.option(
    "--to",
    "destination",
    required=True,
    type=click.Path(path_type=Path),
    help="The folder the bundle is written into.",
)
@click.option("--to-recipient", help="Write the bundle as one age file to this age1… recipient.")
@pass_state
def release_run(
    state: dict[str, Any],
    request_id: str | None,
    due: bool,
    destination: Path,
    to_recipient: str | None,
) -> None:
    """Run a release (or every due one, from a timer): verify all, then write the bundle."""
    if due == (request_id is not None):
        raise UsageError("give either a REQUEST or --due")
    vault = open_vault(state)
    ids = vault.due_releases() if due else [request_id or ""]
    failures = 0
    for ident in ids:
        try:
            path = vault.run_release(ident, destination, recipient=to_recipient)
        except Refused as exc:
            if not due:
                raise
            failures += 1
            click.echo(f"vault: error: {ident}: {escape(exc.message)}", err=True)
            continue
        click.echo(f"released {ident}: {path}")
    if due and not ids:
        click.echo("nothing is due", err=True)
    if failures:
        raise Refused(f"{failures} due release(s) refused")


@release.command("verify")
@click.argument("bundle", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--roster-fingerprint", help="The fingerprint the newsroom published.")
@json_option
def release_verify(bundle: Path, roster_fingerprint: str | None, as_json: bool) -> None:
    """Check a bundle with only what is in it: signatures, approvals, hashes, manifest."""
    report = verify_bundle(bundle, roster_fingerprint=roster_fingerprint)
    emit(
        as_json,
        {**asdict(report), "ok": report.ok},
        lambda: "\n".join(
            [
                f"roster fingerprint {report.fingerprint}",
                f"requested by {report.requester}; approved by "
                f"{', '.join(report.approvers) or 'nobody'}; released by {report.released_by}; "
                f"{report.files} file(s)",
            ]
            + [f"problem: {escape(p)}" for p in report.problems]
            + ["ok" if report.ok else "NOT VALID"]
        ),
    )
    if not report.ok:
        raise IntegrityError("the bundle does not verify")
