"""Embargoes and the clock: `vault embargo set|extend|lift|show`, `vault time confirm|status`."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import click

from vault.cli.root import cli, json_option, open_vault, pass_state
from vault.output import emit, escape
from vault.service import ClockStatus, EmbargoView, Vault

_UNTIL = click.option(
    "--until",
    required=True,
    help="Local date and time the embargo lifts: 'YYYY-MM-DD HH:MM[:SS]'.",
)
_TZ = click.option(
    "--tz",
    "zone",
    required=True,
    help="The IANA zone --until is in, e.g. Europe/Paris (or UTC).",
)


@cli.group()
def embargo() -> None:
    """Set, extend, lift and show embargoes on collections and documents.

    An embargo is entered as a local time in a zone and stored as a UTC instant with that zone;
    both are shown. A local time the clocks skip or repeat (a DST change) is refused. A
    document's embargo can only be later than its collection's.
    """


def _describe(view: EmbargoView) -> str:
    what = (
        f"collection {escape(view.name)}"
        if view.kind == "collection"
        else f"document {view.target_id[:12]} {escape(view.name)} in {escape(view.collection)}"
    )
    lines = [what, f"  {view.rendering}", f"  reason: {escape(view.reason)}"]
    lines.append(f"  set by {view.set_by} at {view.set_at}")
    if view.effective_until != view.until_utc:
        lines.append(f"  held longer by its collection: {view.countdown}")
    return "\n".join(lines)


@embargo.command("set")
@click.argument("target")
@_UNTIL
@_TZ
@click.option("--reason", required=True, help="Why it is held, e.g. 'polls close'.")
@json_option
@pass_state
def embargo_set(
    state: dict[str, Any], target: str, until: str, zone: str, reason: str, as_json: bool
) -> None:
    """Embargo TARGET (a collection name or a document id) until a local time.

    Needs set-embargo; moving an existing embargo earlier is a partial lift and needs
    lift-embargo. Refused while the clock guard is tripped.
    """
    instant = Vault.local_instant(until, zone)  # a wrong time is refused before unlocking
    view = open_vault(state).set_embargo(target, instant, zone=zone, reason=reason)
    emit(as_json, asdict(view), lambda: "embargoed " + _describe(view))


@embargo.command("extend")
@click.argument("target")
@_UNTIL
@_TZ
@click.option("--reason", help="A new reason (default: keep the current one).")
@json_option
@pass_state
def embargo_extend(
    state: dict[str, Any], target: str, until: str, zone: str, reason: str | None, as_json: bool
) -> None:
    """Move TARGET's embargo later (needs set-embargo)."""
    instant = Vault.local_instant(until, zone)
    view = open_vault(state).extend_embargo(target, instant, zone=zone, reason=reason)
    emit(as_json, asdict(view), lambda: "extended " + _describe(view))


@embargo.command("lift")
@click.argument("target")
@json_option
@pass_state
def embargo_lift(state: dict[str, Any], target: str, as_json: bool) -> None:
    """Lift TARGET's own embargo now (needs lift-embargo)."""
    view = open_vault(state).lift_embargo(target)
    emit(as_json, asdict(view), lambda: "lifted the embargo on " + _describe(view))


@embargo.command("show")
@click.argument("target", required=False)
@json_option
@pass_state
def embargo_show(state: dict[str, Any], target: str | None, as_json: bool) -> None:
    """Show embargoes (on TARGET, or on everything you hold) in UTC and local time, with a
    countdown."""
    views = open_vault(state).embargoes(target)
    emit(
        as_json,
        [asdict(v) for v in views],
        lambda: "\n".join(_describe(v) for v in views) or "(no embargoes)",
    )


@cli.group("time")
def time_group() -> None:
    """Confirm the clock when the clock guard refuses time-dependent actions.

    The guard trips when the clock reads earlier than an audit entry (it was set back, or was
    ahead when that entry was written). It clears when enough distinct members allowed to
    confirm-time (admin and editor-in-chief by default) have run `vault time confirm` since:
    two by default (`vault time quorum`).
    """


def _status(status: ClockStatus) -> dict[str, Any]:
    return {
        "clear": status.clear,
        "now": status.now.isoformat(),
        "newest_entry": status.newest.isoformat() if status.newest else None,
        "behind_entry": status.ahead_seq or None,
        "confirmed_by": list(status.confirmed_by),
        "quorum": status.quorum,
    }


@time_group.command("confirm")
@json_option
@pass_state
def time_confirm(state: dict[str, Any], as_json: bool) -> None:
    """Sign and log that the clock reads right now (needs confirm-time).

    The guard clears once the quorum of distinct members (2 by default) has confirmed after the
    newest audit entry the clock is behind.
    """
    status = open_vault(state).confirm_time()
    emit(as_json, _status(status), status.describe)


@time_group.command("status")
@json_option
@pass_state
def time_status(state: dict[str, Any], as_json: bool) -> None:
    """Whether the clock guard is clear, and who has confirmed the time."""
    status = open_vault(state).clock_status()
    emit(as_json, _status(status), status.describe)


@time_group.command("quorum")
@click.argument("count", type=click.IntRange(min=1))
@pass_state
def time_quorum(state: dict[str, Any], count: int) -> None:
    """Set how many distinct members must confirm the time (needs change-policy; default 2)."""
    open_vault(state).set_time_quorum(count)
    click.echo(f"time confirmations now need {count} distinct member(s)")
