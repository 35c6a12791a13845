"""Reading, verifying and checkpointing the audit log as a member."""

from __future__ import annotations

from collections.abc import Iterator

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from vault.audit import Checkpoint, Entry, VerifyReport
from vault.service.context import Context
from vault.store.atomic import write_atomic


def entries(ctx: Context) -> Iterator[Entry]:
    """Every entry, decrypted. Reading the log is itself logged."""
    ctx.audit("audit-show")
    return ctx.audit_log.entries()


def verify(ctx: Context, checkpoint: Checkpoint | None = None) -> VerifyReport:
    """The chain, every signature against the roster, and optionally a checkpoint."""
    if checkpoint is not None:
        signer = ctx.roster.members.get(checkpoint.signer)
        if signer is None:
            return VerifyReport(False, 0, ctx.audit_log.head(), ("checkpoint signer is unknown",))
        checkpoint.verify_signature(signer.public_key())
    return ctx.audit_log.verify(lambda name: _key(ctx, name), checkpoint=checkpoint)


def checkpoint(ctx: Context) -> Checkpoint:
    """Sign the current head and keep a copy in `log/checkpoints/`."""
    ctx.audit("audit-checkpoint")
    point = Checkpoint.sign(
        ctx.audit_log.head(),
        vault_id=ctx.vault_id,
        at=ctx.clock.now(),
        signer=ctx.member,
        key=ctx.keys.signing_key,
    )
    write_atomic(
        ctx.dir / "log" / "checkpoints" / f"{point.seq:012d}.json", point.to_json().encode()
    )
    return point


def _key(ctx: Context, name: str) -> Ed25519PublicKey | None:
    record = ctx.roster.members.get(name)
    return record.public_key() if record else None
