"""Members: adding, listing and removing, each a signed roster statement; confirming a passphrase.

Changing members needs `manage-members` from the policies, and only an admin may sign the roster
statement (the roster refuses anything else, whatever this module or the policies say). Adding
re-seals the vault secret to the new member; removing re-seals it without them and revokes them
from every collection they held, rotating those collections' keys (as part of `manage-members`,
not a separate `revoke`). Removal cannot un-read what the member already read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from vault.errors import AccessDenied, BadCredentials, UsageError
from vault.keys import sealed
from vault.keys.member import (
    KdfParams,
    MemberKeys,
    check_member_name,
    read_key_file,
    write_key_file,
)
from vault.keys.roster import MemberRecord, Roster, member_body
from vault.service.authorize import authorize
from vault.service.context import Context
from vault.store.atomic import write_atomic

ROLES = frozenset({"admin", "editor-in-chief", "editor", "legal", "reporter", "intake"})


@dataclass(frozen=True)
class MemberView:
    """A member as listings show them."""

    name: str
    roles: tuple[str, ...]
    recipient: str
    active: bool


def check_roles(roles: Iterable[str]) -> frozenset[str]:
    """Validate role names.

    Raises:
        UsageError: an unknown role or none at all.
    """
    chosen = frozenset(roles)
    unknown = chosen - ROLES
    if unknown or not chosen:
        raise UsageError(
            f"unknown role {sorted(unknown)[0]!r}" if unknown else "a member needs a role",
            hint="roles: " + ", ".join(sorted(ROLES)),
        )
    return chosen


def add_member(
    ctx: Context, name: str, roles: Iterable[str], passphrase: bytes, *, kdf: KdfParams
) -> MemberView:
    """Add a member with a first passphrase.

    Raises:
        AccessDenied: the policies refuse `manage-members`, or the member is not an admin.
        UsageError: bad name or roles, or the member exists.
    """
    check_member_name(name)
    chosen = check_roles(roles)
    authorize(ctx, "manage-members")
    _require_admin(ctx)
    if name in ctx.roster.members:
        raise UsageError(f"member {name!r} already exists (names are never reused)")
    with ctx.lock:
        ctx.audit("member-add", name, {"roles": ",".join(sorted(chosen))})
        keys = MemberKeys.generate(name, ctx.keys.anchor)
        record = MemberRecord(
            name, chosen, str(keys.identity.recipient), keys.verify_key.public_bytes_raw()
        )
        write_key_file(ctx.dir, keys, passphrase, kdf)
        ctx.roster = Roster(ctx.dir).append(
            ctx.roster,
            signer=ctx.member,
            key=ctx.keys.signing_key,
            kind="add-member",
            body=member_body(record),
            at=ctx.clock.now(),
        )
        _reseal_vault_secret(ctx)
    return _view(record)


def remove_member(ctx: Context, name: str) -> None:
    """Remove a member: no more vault secret, revoked from every collection.

    Raises:
        AccessDenied: the policies refuse `manage-members`, or the member is not an admin.
        UsageError: removing oneself, or the last admin.
    """
    from vault.service.collections import revoke

    record = ctx.record(name)
    authorize(ctx, "manage-members")
    _require_admin(ctx)
    if name == ctx.member:
        raise UsageError("you cannot remove yourself", hint="ask another admin")
    with ctx.lock:
        ctx.audit("member-remove", name)
        for cid, grant in list(ctx.roster.collections.items()):
            if name in grant.recipients and ctx.member in grant.recipients:
                revoke(ctx, ctx.open_collection(cid).name, name, audited=False)
        ctx.roster = Roster(ctx.dir).append(
            ctx.roster,
            signer=ctx.member,
            key=ctx.keys.signing_key,
            kind="remove-member",
            body={"name": record.name},
            at=ctx.clock.now(),
        )
        _reseal_vault_secret(ctx)
        (ctx.dir / "keys" / "members" / f"{name}.key").unlink(missing_ok=True)


def confirm_passphrase(ctx: Context, passphrase: bytes) -> None:
    """Check the acting member's passphrase again, before a signature that needs consent.

    The member's own key file is unsealed as `unlock` does; the keys it holds must be the ones
    this vault was unlocked with. Nothing is logged or kept.

    Raises:
        BadCredentials: wrong passphrase (or a key file that no longer holds these keys).
        IntegrityError: the key file is damaged.
    """
    keys = read_key_file(ctx.dir, ctx.member).unseal(passphrase)
    if keys.verify_key.public_bytes_raw() != ctx.keys.verify_key.public_bytes_raw():
        raise BadCredentials(
            f"the key file of member {ctx.member!r} no longer holds the keys this vault was "
            "unlocked with",
            hint="lock the vault and unlock it again",
        )


def list_members(ctx: Context) -> list[MemberView]:
    """Every member, active and removed."""
    return [_view(m) for m in sorted(ctx.roster.members.values(), key=lambda m: m.name)]


def _reseal_vault_secret(ctx: Context) -> None:
    write_atomic(
        sealed.vault_secret_path(ctx.dir),
        sealed.seal_to(ctx.roster.active_members(), ctx.vault_secret),
    )


def _require_admin(ctx: Context) -> None:
    if not ctx.roster.is_admin(ctx.member):
        raise AccessDenied("only an admin may change members")


def _view(record: MemberRecord) -> MemberView:
    return MemberView(record.name, tuple(sorted(record.roles)), record.recipient, record.active)
