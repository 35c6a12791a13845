"""The vault's active policy set: signed versions in `vault.db`, verified before every decision.

Version 1 is the shipped policy set, installed by `vault init`; `vault policy apply` adds the next.
Each version stores the texts (file name → text), their digest, the member who applied it, the
roster statement their roles are read at, the time, and their Ed25519 signature over all of it and
the vault id (domain-separated, so it cannot be replayed as another kind of signed record or in
another vault).

Every member holds `vault.db`'s key, so a member could write a row directly. Loading therefore
verifies the whole history, not only the newest row:

- versions are numbered 1..n without gaps; each file set hashes to its digest;
- each signature verifies against the signer's key in the verified roster;
- the signer was an active member at the roster statement named, and either an admin there (the
  roster's own root of trust, who could give themselves any role anyway) or allowed
  `change-policy` by the version before, evaluated at the version's time;
- the newest version parses and validates against its schema (`PolicySet.from_texts`).

Anything else is a `PolicyUnavailable` refusal (exit 3) naming the version and, for an invalid set,
file, line and problem: every governed action is then refused. The vault never falls back to a
default or an older version. Verified histories are cached per process by a digest of everything
verification read, so a command that asks many questions verifies once.

Not caught here: deleting the newest rows, which rolls the policy back to an older, validly signed
version. The audit log records every application (`policy-apply`), so `vault audit show` reveals it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from sqlmodel import Session, col, select

from vault import canonical
from vault.catalog.governance import PolicyVersion
from vault.errors import IntegrityError, Refused, VaultError
from vault.keys.roster import MemberRecord, Roster, RosterState, apply
from vault.policy import (
    Engine,
    PolicyError,
    PolicySet,
    Principal,
    Request,
    Resource,
    shipped_policy_dir,
)
from vault.policy.policyset import digest_texts
from vault.service.context import Context

POLICY_DOMAIN = b"embargo-vault policy version v1\n"
_CACHE_LIMIT = 32
_VERIFIED: dict[str, ActivePolicy] = {}
_LOADED: dict[str, PolicySet] = {}
_RECOVERY_HINT = (
    "an admin can apply a corrected set: `vault policy check DIR`, then `vault policy apply DIR`"
)


class PolicyUnavailable(Refused):
    """The vault has no valid, verified active policy set: every governed action is refused."""


@dataclass(frozen=True)
class ActivePolicy:
    """The verified, loaded active version."""

    version: int
    digest: str
    signer: str
    at: datetime
    policies: PolicySet
    engine: Engine

    @property
    def files(self) -> tuple[str, ...]:
        """The file names of the set, sorted."""
        return tuple(self.policies.text_by_file)


@dataclass(frozen=True)
class VersionInfo:
    """One version of the history, as `vault policy show` lists it."""

    version: int
    digest: str
    signer: str
    at: str
    files: tuple[str, ...]


def sign_record(ctx: Context, domain: bytes, payload: Mapping[str, Any]) -> str:
    """The acting member's signature (base64) over a governance record bound to this vault."""
    message = domain + canonical.dumps({**payload, "vault_id": ctx.vault_id})
    return canonical.b64(ctx.keys.signing_key.sign(message))


def record_verifies(
    ctx: Context, domain: bytes, payload: Mapping[str, Any], signer: str, signature: str
) -> bool:
    """Whether `signature` is `signer`'s (any member ever in the roster) over the record."""
    record = ctx.roster.members.get(signer)
    if record is None:
        return False
    try:
        raw = canonical.unb64(signature, what="a signature")
        record.public_key().verify(
            raw, domain + canonical.dumps({**payload, "vault_id": ctx.vault_id})
        )
    except (IntegrityError, InvalidSignature, ValueError):
        return False
    return True


def install_shipped(ctx: Context) -> int:
    """Make the shipped policies version 1 of a new vault (the founding admin signs it)."""
    shipped = PolicySet.load(shipped_policy_dir())
    with ctx.lock:
        ctx.audit("policy-apply", "v1", {"digest": shipped.digest, "source": "shipped"})
        return record_version(ctx, shipped.text_by_file, version=1)


def record_version(ctx: Context, texts: Mapping[str, str], *, version: int) -> int:
    """Store and sign a version. Callers validate the texts and audit first, under the lock."""
    files = dict(sorted(texts.items()))
    row = PolicyVersion(
        version=version,
        digest=digest_texts(files),
        files_json=json.dumps(files, sort_keys=True, ensure_ascii=False),
        signer=ctx.member,
        roster_seq=ctx.roster.seq,
        at=ctx.clock.now().astimezone(UTC).isoformat(),
        signature="",
    )
    row.signature = sign_record(ctx, POLICY_DOMAIN, _payload(row))
    with Session(ctx.db) as session:
        session.add(row)
        session.commit()
    return version


def latest_version(ctx: Context) -> int:
    """The number of the newest stored version, 0 if there is none (verified or not)."""
    with Session(ctx.db) as session:
        rows = session.exec(select(PolicyVersion.version).order_by(col(PolicyVersion.version)))
        return max(rows, default=0)


def history(ctx: Context) -> list[VersionInfo]:
    """Every stored version, oldest first (as stored: `active_policy` says whether it verifies)."""
    return [
        VersionInfo(row.version, row.digest, row.signer, row.at, tuple(sorted(_files(row))))
        for row in _rows(ctx)
    ]


def stored_texts(ctx: Context, version: int) -> dict[str, str]:
    """The texts of a stored version, for diffs (empty if there is no such version)."""
    for row in _rows(ctx):
        if row.version == version:
            return _files(row)
    return {}


def active_policy(ctx: Context) -> ActivePolicy:
    """The verified, loaded active policy set.

    Raises:
        PolicyUnavailable: no version, a gap, a bad digest or signature, a signer who was not
            allowed to apply it, or an invalid newest set (named by file, line and problem).
    """
    rows = _rows(ctx)
    if not rows:
        raise PolicyUnavailable(
            "this vault has no policy set, so every governed action is refused",
            hint="an admin installs one: `vault policy apply DIR` (the shipped set is policies/)",
        )
    key = _cache_key(ctx, rows)
    cached = _VERIFIED.get(key)
    if cached is not None:
        return cached
    active = _verify_history(ctx, rows)
    if len(_VERIFIED) >= _CACHE_LIMIT:
        _VERIFIED.clear()
    _VERIFIED[key] = active
    return active


def load_texts(texts: Mapping[str, str], origin: str) -> PolicySet:
    """`PolicySet.from_texts`, cached by digest (a set is immutable once loaded).

    Raises:
        PolicyError: the texts do not load.
    """
    digest = digest_texts(texts)
    found = _LOADED.get(digest)
    if found is None:
        found = PolicySet.from_texts(texts, origin=origin)
        if len(_LOADED) >= _CACHE_LIMIT:
            _LOADED.clear()
        _LOADED[digest] = found
    return found


def _verify_history(ctx: Context, rows: Sequence[PolicyVersion]) -> ActivePolicy:
    signers = _signers_at(ctx, rows)
    previous: PolicyVersion | None = None
    for expected, row in enumerate(rows, start=1):
        where = f"policy version {row.version}"
        if row.version != expected:
            raise _tampered(f"policy version {expected} is missing from vault.db")
        files = _files(row)
        if digest_texts(files) != row.digest:
            raise _tampered(f"{where} does not match its digest")
        if not record_verifies(ctx, POLICY_DOMAIN, _payload(row), row.signer, row.signature):
            raise _tampered(f"{where}'s signature does not verify against the roster")
        signer = signers.get((row.roster_seq, row.signer))
        if signer is None:
            raise _tampered(f"{where} names a signer who was not a member at the time")
        if "admin" not in signer.roles and not _allowed_by(ctx, previous, signer, row):
            raise _tampered(
                f"{where} was applied by {row.signer}, whom neither the roster (as an admin) "
                f"nor version {row.version - 1} allowed to change-policy"
            )
        previous = row
    last = rows[-1]
    try:
        policies = load_texts(_files(last), f"policy version {last.version}")
    except PolicyError as exc:
        first = exc.problems[0] if exc.problems else exc.message
        more = f" (and {len(exc.problems) - 1} more)" if len(exc.problems) > 1 else ""
        raise PolicyUnavailable(
            f"the active policy set (version {last.version}) is invalid: {first}{more}; "
            "every governed action is refused",
            hint=_RECOVERY_HINT,
        ) from None
    return ActivePolicy(
        last.version, last.digest, last.signer, _instant(last.at), policies, Engine(policies)
    )


def _allowed_by(
    ctx: Context, previous: PolicyVersion | None, signer: MemberRecord, row: PolicyVersion
) -> bool:
    if previous is None:
        return False
    try:
        policies = load_texts(_files(previous), f"policy version {previous.version}")
        request = Request(
            Principal(signer.name, signer.roles),
            "change-policy",
            Resource.vault(ctx.vault_id),
            _instant(row.at),
        )
        return Engine(policies).decide(request).allowed
    except (VaultError, ValueError):
        return False


def _signers_at(ctx: Context, rows: Iterable[PolicyVersion]) -> dict[tuple[int, str], MemberRecord]:
    """Each version's signer as the roster stood at the statement the version names."""
    wanted: dict[int, set[str]] = {}
    for row in rows:
        wanted.setdefault(row.roster_seq, set()).add(row.signer)
    found: dict[tuple[int, str], MemberRecord] = {}
    state = RosterState()
    for statement in Roster(ctx.dir).statements()[: ctx.roster.seq]:
        state = apply(state, statement)
        for name in wanted.get(statement.seq, ()):
            record = state.member(name)
            if record is not None:
                found[(statement.seq, name)] = record
    return found


def _payload(row: PolicyVersion) -> dict[str, Any]:
    return {
        "version": row.version,
        "digest": row.digest,
        "files": row.files_json,
        "signer": row.signer,
        "roster_seq": row.roster_seq,
        "at": row.at,
    }


def _rows(ctx: Context) -> list[PolicyVersion]:
    with Session(ctx.db) as session:
        return list(session.exec(select(PolicyVersion).order_by(col(PolicyVersion.version))))


def _files(row: PolicyVersion) -> dict[str, str]:
    try:
        files = json.loads(row.files_json)
    except (json.JSONDecodeError, RecursionError):
        files = None
    if not isinstance(files, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in files.items()
    ):
        raise _tampered(f"policy version {row.version}'s files are damaged")
    return dict(files)


def _instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise _tampered("a policy version's time is damaged") from None
    if value.tzinfo is None:
        raise _tampered("a policy version's time is damaged")
    return value.astimezone(UTC)


def _cache_key(ctx: Context, rows: Sequence[PolicyVersion]) -> str:
    h = hashlib.sha256(ctx.vault_id.encode() + b"\n" + ctx.roster.head.encode())
    for row in rows:
        h.update(canonical.dumps({**_payload(row), "signature": row.signature}))
    return h.hexdigest()


def _tampered(message: str) -> PolicyUnavailable:
    return PolicyUnavailable(
        f"{message}; the active policy set cannot be trusted, so every governed action is refused",
        hint=_RECOVERY_HINT,
    )
