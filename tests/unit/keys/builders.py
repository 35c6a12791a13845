"""Building real roster chains for tests: real member keys, real signatures, real files."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from vault import canonical
from vault.keys.member import MemberKeys
from vault.keys.roster import MemberRecord, Roster, RosterState, Statement, member_body

T0 = datetime(2017, 5, 5, 18, 0, tzinfo=UTC)
VAULT_ID = "0123456789abcdef0123456789abcdef"


def record(keys: MemberKeys, *roles: str) -> MemberRecord:
    """The roster record of a member with these keys."""
    recipient = str(keys.identity.recipient)
    return MemberRecord(keys.name, frozenset(roles), recipient, keys.verify_key.public_bytes_raw())


@dataclass
class Chain:
    """A roster directory and the state its statements replay to."""

    roster: Roster
    state: RosterState
    keys: dict[str, MemberKeys] = field(default_factory=dict)
    minutes: int = 0

    @classmethod
    def found(cls, vault_dir: Path, admin: str = "alice", vault_id: str = VAULT_ID) -> Chain:
        """A new roster whose genesis names `admin` (admin + editor-in-chief)."""
        keys = MemberKeys.generate(admin, bytes(32))
        roster = Roster(vault_dir)
        state = roster.append(
            RosterState(),
            signer=admin,
            key=keys.signing_key,
            kind="genesis",
            body={"vault_id": vault_id, "admin": member_body(record(keys, "admin", "editor"))},
            at=T0,
        )
        return cls(roster, state, {admin: keys})

    def _at(self) -> datetime:
        self.minutes += 1
        return T0 + timedelta(minutes=self.minutes)

    def append(self, signer: str, kind: str, body: Mapping[str, Any]) -> RosterState:
        """Sign and append a statement through `Roster.append` (which checks it first)."""
        self.state = self.roster.append(
            self.state,
            signer=signer,
            key=self.keys[signer].signing_key,
            kind=kind,
            body=body,
            at=self._at(),
        )
        return self.state

    def add(self, signer: str, name: str, *roles: str) -> MemberKeys:
        """Add a new member with fresh keys."""
        keys = MemberKeys.generate(name, bytes(32))
        self.keys[name] = keys
        self.append(signer, "add-member", member_body(record(keys, *roles)))
        return keys

    def remove(self, signer: str, name: str) -> None:
        """Remove a member."""
        self.append(signer, "remove-member", {"name": name})

    def grant(self, signer: str, cid: str, version: int, *recipients: str) -> None:
        """State a collection's recipients at a key version."""
        body = {"cid": cid, "version": version, "recipients": sorted(recipients)}
        self.append(signer, "collection", body)

    def sign(
        self,
        signer: str,
        kind: str,
        body: Mapping[str, Any],
        *,
        key: MemberKeys | None = None,
        seq: int | None = None,
        prev: str | None = None,
    ) -> Statement:
        """A signed next statement built by hand, with none of `Roster.append`'s checks."""
        unsigned = Statement(
            self.state.seq + 1 if seq is None else seq,
            self.state.head if prev is None else prev,
            canonical.instant(self._at()),
            signer,
            kind,
            dict(body),
            b"",
        )
        signing = (key or self.keys[signer]).signing_key
        return replace(unsigned, signature=signing.sign(unsigned.signed_bytes()))

    def plant(self, statement: Statement) -> Path:
        """Write a statement file directly, as someone with disk access could."""
        path = self.roster.dir / f"{statement.seq:06d}.json"
        path.write_bytes(statement.encode())
        return path

    def files(self) -> list[Path]:
        """The statement files, in order."""
        return sorted(self.roster.dir.iterdir())
