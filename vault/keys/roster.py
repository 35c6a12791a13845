"""The roster: a chain of signed statements binding members to keys and roles.

    roster/<seq:06d>.json   {"seq", "prev", "at", "signer", "kind", "body", "signature"}

Statement 1 (`genesis`) names the vault and its founding admin and is signed by that admin. Its
digest is the *anchor* sealed inside every member's key file, so a roster rewritten by someone
with disk access does not match. Each later statement names the digest of the one before and
must be signed by a member the rules allow:

- `add-member`, `remove-member`, `set-roles`: an admin as of the previous statement;
- `collection` (a collection's recipients at key version N): for N = 1 a member among the
  recipients; afterwards a recipient of version N-1.

Replaying the chain gives the `RosterState`: every member ever added (removed ones are kept,
inactive, so their old signatures still verify) and every collection's current recipients. The
vault encrypts only to public keys found here. Truncating the chain is caught by the roster head
pinned in the encrypted `vault.db` and in audit checkpoints.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from vault import canonical
from vault.age import X25519Recipient
from vault.errors import IntegrityError, VaultError
from vault.keys.bounded import STATEMENT_LIMIT, read_bounded
from vault.store.atomic import is_temp_name, write_atomic

CONTEXT = b"embargo-vault roster statement v1\n"
GENESIS_PREV = "0" * 64
# Far past any newsroom's history (a statement per member, role change or key rotation); bounds
# what a roster planted by someone with the disk can make every unlock read and verify.
MAX_STATEMENTS = 100_000


@dataclass(frozen=True)
class MemberRecord:
    """A member as the roster knows them: public keys and roles."""

    name: str
    roles: frozenset[str]
    recipient: str
    verify_key: bytes
    active: bool = True

    def public_key(self) -> Ed25519PublicKey:
        """The member's Ed25519 verification key."""
        return Ed25519PublicKey.from_public_bytes(self.verify_key)

    def age_recipient(self) -> X25519Recipient:
        """The member's X25519 age recipient."""
        return X25519Recipient.parse(self.recipient)


@dataclass(frozen=True)
class CollectionGrant:
    """Who holds a collection's secret at its current key version."""

    cid: str
    version: int
    recipients: frozenset[str]
    history: tuple[frozenset[str], ...] = ()  # recipients of versions 1..version

    def held_by(self, name: str, version: int) -> bool:
        """Whether `name` was a recipient of a given key version."""
        return 1 <= version <= len(self.history) and name in self.history[version - 1]


@dataclass
class RosterState:
    """The result of replaying the roster chain."""

    vault_id: str = ""
    anchor: str = ""
    head: str = GENESIS_PREV
    seq: int = 0
    members: dict[str, MemberRecord] = field(default_factory=dict)
    collections: dict[str, CollectionGrant] = field(default_factory=dict)

    def member(self, name: str) -> MemberRecord | None:
        """An active member, or None."""
        record = self.members.get(name)
        return record if record is not None and record.active else None

    def active_members(self) -> list[MemberRecord]:
        """Active members, by name."""
        return sorted((m for m in self.members.values() if m.active), key=lambda m: m.name)

    def is_admin(self, name: str) -> bool:
        """Whether `name` is an active admin."""
        record = self.member(name)
        return record is not None and "admin" in record.roles

    def recipients_of(self, cid: str) -> list[MemberRecord]:
        """Active members holding a collection's current secret."""
        grant = self.collections.get(cid)
        if grant is None:
            return []
        return [m for m in self.active_members() if m.name in grant.recipients]


@dataclass(frozen=True)
class Statement:
    """One signed roster statement."""

    seq: int
    prev: str
    at: str
    signer: str
    kind: str
    body: Mapping[str, Any]
    signature: bytes

    def signed_bytes(self) -> bytes:
        """What the signature covers."""
        return CONTEXT + canonical.dumps(self._fields())

    def digest(self) -> str:
        """The statement's SHA-256, which the next statement names."""
        return hashlib.sha256(self.encode()).hexdigest()

    def encode(self) -> bytes:
        """The statement file's contents."""
        return canonical.dumps({**self._fields(), "signature": canonical.b64(self.signature)})

    def _fields(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "prev": self.prev,
            "at": self.at,
            "signer": self.signer,
            "kind": self.kind,
            "body": dict(self.body),
        }

    @classmethod
    def decode(cls, data: bytes, *, seq: int) -> Statement:
        """Parse a statement file strictly.

        Raises:
            IntegrityError: not a well-formed statement.
        """
        doc = canonical.loads(data, what=f"roster statement {seq}")
        expected = {"seq", "prev", "at", "signer", "kind", "body", "signature"}
        if set(doc) != expected or doc["seq"] != seq or not isinstance(doc["body"], dict):
            raise IntegrityError(f"roster statement {seq} is damaged")
        if not all(isinstance(doc[k], str) for k in ("prev", "at", "signer", "kind")):
            raise IntegrityError(f"roster statement {seq} is damaged")
        statement = cls(
            seq=seq,
            prev=doc["prev"],
            at=doc["at"],
            signer=doc["signer"],
            kind=doc["kind"],
            body=doc["body"],
            signature=canonical.unb64(doc["signature"], what=f"roster statement {seq}"),
        )
        if statement.encode() != data:
            raise IntegrityError(f"roster statement {seq} is not in canonical form")
        return statement


class Roster:
    """The `roster/` directory of a vault."""

    def __init__(self, vault_dir: Path) -> None:
        self.dir = vault_dir / "roster"

    def statements(self) -> list[Statement]:
        """Every statement, in order, parsed (signatures not yet checked).

        Raises:
            IntegrityError: a gap, a stray file or a damaged statement.
        """
        # A leftover of an interrupted write is not a statement: the write never happened.
        listing = self.dir.iterdir() if self.dir.is_dir() else iter(())
        names = sorted(p.name for p in listing if not is_temp_name(p.name))
        if not names:
            raise IntegrityError("the roster is missing")
        if len(names) > MAX_STATEMENTS:
            raise IntegrityError(
                f"the roster holds {len(names)} statements, more than a vault ever writes"
            )
        statements = []
        for seq, name in enumerate(names, start=1):
            if name != f"{seq:06d}.json":
                raise IntegrityError(f"roster has an unexpected or missing statement at {name}")
            data = read_bounded(self.dir / name, STATEMENT_LIMIT, what=f"roster statement {seq}")
            statements.append(Statement.decode(data, seq=seq))
        return statements

    def load(self) -> RosterState:
        """Replay and verify the whole chain.

        Raises:
            IntegrityError: any statement is damaged, unsigned or signed by someone not allowed.
        """
        return replay(self.statements())

    def append(
        self,
        state: RosterState,
        *,
        signer: str,
        key: Ed25519PrivateKey,
        kind: str,
        body: Mapping[str, Any],
        at: datetime,
    ) -> RosterState:
        """Sign, check and durably write a new statement; return the new state.

        Raises:
            IntegrityError: the statement would not be valid (e.g. signer not allowed).
            VaultError: the roster holds `MAX_STATEMENTS` already.
        """
        if state.seq >= MAX_STATEMENTS:
            raise VaultError(f"the roster is full: it holds {MAX_STATEMENTS} statements")
        unsigned = Statement(
            state.seq + 1, state.head, canonical.instant(at), signer, kind, dict(body), b""
        )
        statement = replace(unsigned, signature=key.sign(unsigned.signed_bytes()))
        new_state = apply(_copy(state), statement)
        self.dir.mkdir(parents=True, exist_ok=True)
        write_atomic(self.dir / f"{statement.seq:06d}.json", statement.encode())
        return new_state


def member_body(record: MemberRecord) -> dict[str, Any]:
    """The statement body describing a member."""
    return {
        "name": record.name,
        "roles": sorted(record.roles),
        "recipient": record.recipient,
        "verify_key": canonical.b64(record.verify_key),
    }


def replay(statements: Iterable[Statement]) -> RosterState:
    """Verify and apply statements from genesis on."""
    state = RosterState()
    for statement in statements:
        state = apply(state, statement)
    return state


def apply(state: RosterState, statement: Statement) -> RosterState:
    """Check one statement against the state before it and apply it.

    Raises:
        IntegrityError: wrong position, bad signature, or a signer the rules do not allow.
    """
    where = f"roster statement {statement.seq}"
    if statement.seq != state.seq + 1 or statement.prev != state.head:
        raise IntegrityError(f"{where} does not follow the one before it")
    body = statement.body
    if statement.kind == "genesis":
        if statement.seq != 1:
            raise IntegrityError(f"{where}: a second genesis")
        admin = _member_from(body.get("admin"), where)
        _verify(statement, admin.public_key(), where)
        state.vault_id = _text(body.get("vault_id"), where)
        state.members[admin.name] = admin
        if "admin" not in admin.roles:
            raise IntegrityError(f"{where}: the founding member is not an admin")
    else:
        if statement.seq == 1:
            raise IntegrityError("the roster does not start with a genesis statement")
        signer = state.member(statement.signer)
        if signer is None:
            raise IntegrityError(f"{where} is signed by someone who is not a member")
        _verify(statement, signer.public_key(), where)
        _apply_change(state, statement, where)
    state.seq = statement.seq
    state.head = statement.digest()
    if statement.seq == 1:
        state.anchor = state.head
    return state


def _apply_change(state: RosterState, statement: Statement, where: str) -> None:
    body, kind = statement.body, statement.kind
    member_change = kind in ("add-member", "remove-member", "set-roles")
    if member_change and not state.is_admin(statement.signer):
        raise IntegrityError(f"{where}: only an admin may change members")
    if kind == "add-member":
        record = _member_from(body, where)
        if record.name in state.members:
            raise IntegrityError(f"{where}: member {record.name!r} already exists")
        state.members[record.name] = record
    elif kind == "remove-member":
        name = _text(body.get("name"), where)
        current = state.member(name)
        if current is None:
            raise IntegrityError(f"{where}: no active member {name!r}")
        state.members[name] = replace(current, active=False)
    elif kind == "set-roles":
        name = _text(body.get("name"), where)
        current = state.member(name)
        if current is None:
            raise IntegrityError(f"{where}: no active member {name!r}")
        state.members[name] = replace(current, roles=_roles(body.get("roles"), where))
    elif kind == "collection":
        cid = _text(body.get("cid"), where)
        version = body.get("version")
        recipients = frozenset(_names(body.get("recipients"), where))
        previous = state.collections.get(cid)
        expected = 1 if previous is None else previous.version + 1
        if version != expected:
            raise IntegrityError(f"{where}: collection key version out of order")
        allowed = recipients if previous is None else previous.recipients
        if statement.signer not in allowed:
            raise IntegrityError(f"{where}: signer does not hold this collection")
        if any(state.member(name) is None for name in recipients):
            raise IntegrityError(f"{where}: a recipient is not an active member")
        history = (*(previous.history if previous else ()), recipients)
        state.collections[cid] = CollectionGrant(cid, expected, recipients, history)
    else:
        raise IntegrityError(f"{where} has an unknown kind")


def _verify(statement: Statement, key: Ed25519PublicKey, where: str) -> None:
    try:
        key.verify(statement.signature, statement.signed_bytes())
    except InvalidSignature:
        raise IntegrityError(f"{where} has an invalid signature") from None


def _member_from(value: object, where: str) -> MemberRecord:
    if not isinstance(value, dict):
        raise IntegrityError(f"{where} is damaged")
    recipient = _text(value.get("recipient"), where)
    try:
        X25519Recipient.parse(recipient)
    except (ValueError, IntegrityError):
        raise IntegrityError(f"{where} names an invalid public key") from None
    verify_key = canonical.unb64(value.get("verify_key"), what=where)
    if len(verify_key) != 32:
        raise IntegrityError(f"{where} names an invalid public key")
    return MemberRecord(
        name=_text(value.get("name"), where),
        roles=_roles(value.get("roles"), where),
        recipient=recipient,
        verify_key=verify_key,
    )


def _roles(value: object, where: str) -> frozenset[str]:
    return frozenset(_names(value, where))


def _names(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise IntegrityError(f"{where} is damaged")
    return list(value)


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise IntegrityError(f"{where} is damaged")
    return value


def _copy(state: RosterState) -> RosterState:
    return replace(state, members=dict(state.members), collections=dict(state.collections))
