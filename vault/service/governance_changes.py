"""Policy management: check a directory, apply it as the next version, show the active one.

`apply` needs `change-policy` under the active set. When the active set cannot be used at all (it
is invalid or does not verify, so every governed action is refused), a roster admin may still
apply a valid set: admins are the roster's root of trust, and without this a damaged policy
version would lock the newsroom out of its own vault. Such an application is logged with
`recovery: true`.

A set under which no active member could change the policy again is refused: applying it would
freeze the policy for good.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from vault.errors import AccessDenied, UsageError
from vault.policy import Engine, PolicySet, Principal, Problem, Request, Resource
from vault.service.authorize import authorize
from vault.service.context import Context
from vault.service.governance import (
    ActivePolicy,
    PolicyUnavailable,
    VersionInfo,
    active_policy,
    history,
    latest_version,
    record_version,
    stored_texts,
)


@dataclass(frozen=True)
class PolicyChange:
    """The outcome of `vault policy apply`."""

    version: int
    digest: str
    previous_version: int
    changed: bool
    diff: str
    recovery: bool


@dataclass(frozen=True)
class PolicyView:
    """The active policy set and the history behind it, for `vault policy show`."""

    version: int
    digest: str
    signer: str
    at: str
    files: tuple[str, ...]
    policies: tuple[str, ...]
    history: tuple[VersionInfo, ...]


def check(directory: Path) -> list[Problem]:
    """Every problem of a policy directory (no vault needed)."""
    return PolicySet.check(directory)


def apply(ctx: Context, directory: Path) -> PolicyChange:
    """Validate a policy directory and make it the vault's next, signed policy version.

    Raises:
        PolicyError: the directory does not validate (exit 1; `check` lists every problem).
        PolicyDenied: `change-policy` refused by the active set.
        PolicyUnavailable: the active set is unusable and the member is not a roster admin.
        UsageError: the new set would let nobody change the policy again.
    """
    new = PolicySet.load(directory)
    active, recovery = _authorize_change(ctx)
    previous = active.version if active else latest_version(ctx)
    old_texts = _texts_or_nothing(ctx, previous)
    if active is not None and active.digest == new.digest:
        return PolicyChange(active.version, active.digest, active.version, False, "", False)
    _refuse_lockout(ctx, new)
    diff = unified_diff(old_texts, new.text_by_file, previous)
    with ctx.lock:
        version = latest_version(ctx) + 1
        ctx.audit(
            "policy-apply",
            f"v{version}",
            {
                "digest": new.digest,
                "previous": previous,
                "files": ",".join(sorted(new.text_by_file)),
                "recovery": recovery,
            },
        )
        record_version(ctx, new.text_by_file, version=version)
    return PolicyChange(version, new.digest, previous, True, diff, recovery)


def show(ctx: Context) -> PolicyView:
    """The active, verified policy set.

    Raises:
        PolicyUnavailable: it is missing, invalid or does not verify.
    """
    active = active_policy(ctx)
    return PolicyView(
        active.version,
        active.digest,
        active.signer,
        active.at.isoformat(),
        active.files,
        tuple(p.id for p in active.policies.policies),
        tuple(history(ctx)),
    )


def unified_diff(old: Mapping[str, str], new: Mapping[str, str], old_version: int) -> str:
    """A unified diff of two sets of policy files, file by file."""
    label = f"v{old_version}" if old_version else "none"
    chunks: list[str] = []
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name), new.get(name)
        if before == after:
            continue
        chunks.extend(
            difflib.unified_diff(
                (before or "").splitlines(keepends=True),
                (after or "").splitlines(keepends=True),
                fromfile=f"{label}/{name}" if before is not None else "/dev/null",
                tofile=f"new/{name}" if after is not None else "/dev/null",
            )
        )
    return "".join(line if line.endswith("\n") else line + "\n" for line in chunks)


def _authorize_change(ctx: Context) -> tuple[ActivePolicy | None, bool]:
    try:
        active = active_policy(ctx)
    except PolicyUnavailable:
        if not ctx.roster.is_admin(ctx.member):
            authorize(ctx, "change-policy")  # logs the refusal and raises it
            raise
        return None, True
    authorize(ctx, "change-policy")
    return active, False


def _texts_or_nothing(ctx: Context, version: int) -> dict[str, str]:
    """The texts of a version for the diff; nothing when there is none or it is damaged."""
    try:
        return stored_texts(ctx, version) if version else {}
    except PolicyUnavailable:
        return {}


def _refuse_lockout(ctx: Context, new: PolicySet) -> None:
    now, engine = ctx.clock.now(), Engine(new)
    for record in ctx.roster.active_members():
        request = Request(
            Principal(record.name, record.roles),
            "change-policy",
            Resource.vault(ctx.vault_id),
            now,
        )
        try:
            if engine.decide(request).allowed:
                return
        except (UsageError, AccessDenied):
            continue
    raise UsageError(
        "under these policies no active member could change the policy again",
        hint="keep a `permit` for `change-policy` that a current member's role meets",
    )
