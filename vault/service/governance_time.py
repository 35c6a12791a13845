"""The clock guard in the vault: refuse time-dependent actions on a clock that went back.

`require_clock(ctx)` runs before every time-dependent action (embargo set, extend and lift; later,
releases) and *before* that action is audited: `ctx.audit` stamps entries with the (possibly
rolled-back) clock, so the check must come first. A refusal is then logged (`clock-refused`).

The check reads the whole audit log once:

- an entry is *ahead* when its time is more than the tolerance after the clock's `now`;
- if none is ahead, the guard is clear;
- otherwise the guard clears only when `quorum` distinct members have confirmed the time
  (`vault time confirm`, a `time-confirm` entry) *after the last entry that is ahead, in log
  order* — a confirmation covers only what its signer could see, and a confirmation stamped
  later than `now` is itself ahead, so a clock that goes back behind a confirmation trips again;
- a confirmation counts only if its signature verifies (the whole log is verified when
  confirmations are counted) and the policy allows its signer `confirm-time` at its time.

The last entry by time is not enough: after a rollback, any logged view appends an entry stamped
with the rolled-back time and would hide the entry that is ahead.

The quorum is the vault setting `time_confirm_quorum` (default 2, at least 1). Every member
holds the vault key and could write it; so it must be what the last `time-quorum` audit entry
set (`vault.service.freshness`), or it is an `IntegrityError`; a change logged but interrupted
before `vault.db` held it counts at the stricter of the two values. When confirmations are
weighed (the log's signatures verified), a quorum set by a member the policy does not allow
`change-policy` never counts below the default.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlmodel import Session

from vault.audit import Entry
from vault.catalog.models import Setting
from vault.errors import IntegrityError, UsageError, VaultError
from vault.policy import ClockRolledBack, Principal, Request, Resource, check_clock
from vault.policy.embargo import utc_rendering
from vault.service import freshness
from vault.service.context import Context
from vault.service.governance import ActivePolicy, active_policy

TOLERANCE = timedelta(minutes=5)
QUORUM_SETTING = freshness.QUORUM_SETTING
DEFAULT_QUORUM = 2


@dataclass(frozen=True)
class ClockStatus:
    """What the guard sees: the clock, the newest entry, and the confirmations that count."""

    now: datetime
    newest: datetime | None
    ahead_seq: int
    confirmed_by: tuple[str, ...]
    quorum: int
    confirmed_after: datetime | None = None

    @property
    def clear(self) -> bool:
        """Whether time-dependent actions may run."""
        return self.ahead_seq == 0 or self.confirmed_after is not None

    def describe(self) -> str:
        """One or two lines for people."""
        if self.ahead_seq == 0:
            return f"the clock reads {utc_rendering(self.now)}; the clock guard is clear"
        have = ", ".join(self.confirmed_by) or "none yet"
        state = "cleared" if self.clear else "refusing time-dependent actions"
        return (
            f"the clock reads {utc_rendering(self.now)}, behind audit entry {self.ahead_seq} "
            f"(newest entry {utc_rendering(self.newest or self.now)}); the guard is {state}: "
            f"{len(self.confirmed_by)} of {self.quorum} confirmations since then ({have})"
        )


def quorum(ctx: Context, changes: freshness.LoggedChanges | None = None) -> int:
    """How many distinct members must confirm the time (the vault setting, default 2).

    Args:
        ctx: the unlocked vault.
        changes: the audit log's changes, if the caller has read it (else it is read here).

    Raises:
        IntegrityError: the setting is not the one the audit log last set.
    """
    with Session(ctx.db) as session:
        row = session.get(Setting, QUORUM_SETTING)
    stored = None if row is None else row.value
    changes = changes or freshness.scan(ctx)
    found = freshness.quorum_disagreement(stored, changes)
    if found is None:
        return _count(stored)
    if found.rolled_back or changes.quorum is None:
        raise IntegrityError(f"{found.where} {found.message}")
    # A change logged but interrupted before vault.db held it: the stricter value holds.
    return max(_count(stored), _count(changes.quorum.value))


def _count(text: str | None) -> int:
    try:
        return max(1, int(text)) if text is not None else DEFAULT_QUORUM
    except ValueError:
        raise IntegrityError("vault.db: the clock guard's quorum is damaged") from None


def set_quorum(ctx: Context, value: int) -> int:
    """Change the quorum (needs `change-policy`: it is part of how the vault is governed)."""
    from vault.service.authorize import authorize

    if value < 1:
        raise UsageError("the quorum is at least one member")
    authorize(ctx, "change-policy")
    with ctx.lock:
        intent = ctx.audit("time-quorum", "", {"quorum": value, "previous": quorum(ctx)})
        with Session(ctx.db) as session:
            session.merge(Setting(key=QUORUM_SETTING, value=str(value)))
            session.commit()
        freshness.confirm(ctx, "time-quorum", "", intent)
    return value


def clock_status(ctx: Context) -> ClockStatus:
    """Read the audit log and say whether the clock guard is clear.

    Raises:
        IntegrityError: the audit log is damaged.
        PolicyUnavailable: confirmations must be weighed and the policy set is unusable.
    """
    return _read_clock(ctx)[0]


def _read_clock(ctx: Context) -> tuple[ClockStatus, freshness.LoggedChanges]:
    """The clock guard's state, and the log's changes as the same pass read them."""
    now = ctx.clock.now()
    newest: datetime | None = None
    ahead_seq = 0
    confirmations: list[Entry] = []
    changes = freshness.LoggedChanges()
    quorum_change: Entry | None = None
    for entry in ctx.audit_log.entries():
        changes.see(entry)
        if entry.action == "time-quorum":
            quorum_change = entry
        if newest is None or entry.at > newest:
            newest = entry.at
        if entry.at > now + TOLERANCE:
            ahead_seq = entry.seq
        if entry.action == "time-confirm":
            confirmations.append(entry)
    needed = quorum(ctx, changes)
    counted: list[str] = []
    completed: datetime | None = None
    after = [c for c in confirmations if c.seq > ahead_seq] if ahead_seq else []
    if after and ctx.audit_log.verify(lambda name: _public_key(ctx, name)).ok:
        policy = active_policy(ctx)
        if quorum_change is not None and not _may(ctx, policy, quorum_change, "change-policy"):
            # Set by someone the policy does not allow to govern: never let it lower the bar.
            needed = max(needed, DEFAULT_QUORUM)
        for confirmation in after:
            if confirmation.actor not in counted and _may(
                ctx, policy, confirmation, "confirm-time"
            ):
                counted.append(confirmation.actor)
                if len(counted) == needed:
                    completed = confirmation.at
    return ClockStatus(now, newest, ahead_seq, tuple(sorted(counted)), needed, completed), changes


def require_clock(ctx: Context, *, action: str, target: str = "") -> freshness.LoggedChanges:
    """Refuse a time-dependent action when the clock has gone back behind the audit log.

    Call it before authorizing and auditing the action. The refusal is logged after it is decided.

    Returns:
        The log's changes as this check's pass read them, so a caller that cross-checks the
        databases against the log (`freshness.require_fresh`) need not read it again.

    Raises:
        ClockRolledBack: (exit 3) the clock is behind an audit entry and too few members the
            policy allows to `confirm-time` have confirmed it since.
    """
    status, changes = _read_clock(ctx)
    try:
        check_clock(
            status.now, status.newest, tolerance=TOLERANCE, confirmed_after=status.confirmed_after
        )
    except ClockRolledBack as exc:
        missing = status.quorum - len(status.confirmed_by)
        with suppress(VaultError, OSError):
            ctx.audit(
                "clock-refused",
                target,
                {
                    "action": action,
                    "behind_entry": status.ahead_seq,
                    "clock": status.now.isoformat(),
                },
            )
        raise ClockRolledBack(
            exc.message,
            now=exc.now,
            newest=exc.newest,
            hint=(
                "correct the system clock; if it is right, "
                f"{missing} more member(s) allowed to confirm-time must run `vault time confirm` "
                f"({status.quorum} distinct members needed; so far: "
                f"{', '.join(status.confirmed_by) or 'none'})"
            ),
        ) from None
    return changes


def confirm_time(ctx: Context) -> ClockStatus:
    """Sign and log that the clock reads right (`time-confirm`); needs `confirm-time`.

    Raises:
        PolicyDenied: the member may not confirm the time.
    """
    from vault.service.authorize import authorize

    authorize(ctx, "confirm-time")
    now = ctx.clock.now()
    ctx.audit("time-confirm", "", {"confirmed": now.astimezone(UTC).isoformat()})
    return clock_status(ctx)


def _may(ctx: Context, policy: ActivePolicy, entry: Entry, action: str) -> bool:
    """Whether the policy allows the entry's actor `action` at the entry's time."""
    record = ctx.roster.members.get(entry.actor)
    if record is None or not record.active:
        return False
    request = Request(
        Principal(record.name, record.roles),
        action,
        Resource.vault(ctx.vault_id),
        entry.at,
    )
    try:
        return policy.engine.decide(request).allowed
    except VaultError:
        return False


def _public_key(ctx: Context, name: str) -> Ed25519PublicKey | None:
    record = ctx.roster.members.get(name)
    return record.public_key() if record else None
