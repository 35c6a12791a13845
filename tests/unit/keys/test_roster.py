"""The signed roster chain: replay, signer rules, and refusal of every rewrite of history."""

from __future__ import annotations

import hashlib
import itertools
import json
import multiprocessing
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from tests.unit.keys.builders import T0, VAULT_ID, Chain, record
from vault import canonical
from vault.errors import IntegrityError, VaultError
from vault.keys.member import MemberKeys
from vault.keys.roster import (
    GENESIS_PREV,
    Roster,
    RosterState,
    Statement,
    member_body,
    replay,
)


@pytest.fixture
def chain(tmp_path: Path) -> Chain:
    """alice (admin) founds the vault, adds bob (reporter) and carol (editor); bob opens a
    collection shared with alice."""
    chain = Chain.found(tmp_path)
    chain.add("alice", "bob", "reporter")
    chain.add("alice", "carol", "editor")
    chain.grant("bob", "c1", 1, "alice", "bob")
    return chain


def _refused_on_append(chain: Chain, signer: str, kind: str, body: dict[str, Any]) -> None:
    """`Roster.append` refuses the statement and writes nothing."""
    before = [p.read_bytes() for p in chain.files()]
    with pytest.raises(IntegrityError):
        chain.append(signer, kind, body)
    assert [p.read_bytes() for p in chain.files()] == before


def _refused_on_load(chain: Chain, statement: Statement) -> None:
    """The same statement, planted on disk by someone with write access, fails replay."""
    chain.plant(statement)
    with pytest.raises(IntegrityError):
        Roster(chain.roster.dir.parent).load()


# --- replay ------------------------------------------------------------------------------------


def test_replay_reproduces_the_state_built_by_append(chain: Chain) -> None:
    loaded = Roster(chain.roster.dir.parent).load()
    assert loaded == chain.state
    assert loaded.vault_id == VAULT_ID
    assert loaded.seq == 4
    assert [p.name for p in chain.files()] == [f"00000{i}.json" for i in range(1, 5)]
    files = chain.files()
    assert loaded.anchor == hashlib.sha256(files[0].read_bytes()).hexdigest()
    assert loaded.head == hashlib.sha256(files[-1].read_bytes()).hexdigest()
    assert sorted(loaded.members) == ["alice", "bob", "carol"]
    assert loaded.members["bob"] == record(chain.keys["bob"], "reporter")
    assert loaded.is_admin("alice")
    assert not loaded.is_admin("bob")
    assert list(loaded.collections) == ["c1"]
    grant = loaded.collections["c1"]
    assert (grant.cid, grant.version, grant.recipients) == ("c1", 1, frozenset({"alice", "bob"}))
    assert [m.name for m in loaded.recipients_of("c1")] == ["alice", "bob"]
    assert loaded.recipients_of("c2") == []


def test_each_statement_names_the_digest_of_the_one_before(chain: Chain) -> None:
    statements = chain.roster.statements()
    assert statements[0].prev == GENESIS_PREV
    for before, after in itertools.pairwise(statements):
        assert after.prev == before.digest()
    assert [s.kind for s in statements] == ["genesis", "add-member", "add-member", "collection"]


def test_public_keys_in_the_roster_are_the_members_own(chain: Chain) -> None:
    for name, keys in chain.keys.items():
        found = chain.state.members[name]
        assert found.age_recipient() == keys.identity.recipient
        assert found.public_key().public_bytes_raw() == keys.verify_key.public_bytes_raw()


def test_statement_files_are_canonical(chain: Chain) -> None:
    for path in chain.files():
        data = path.read_bytes()
        assert canonical.dumps(json.loads(data)) == data


def test_collection_versions_follow_each_other(chain: Chain) -> None:
    chain.grant("alice", "c1", 2, "alice")  # a recipient of v1 revokes bob
    chain.grant("alice", "c1", 3, "alice", "carol")
    grant = Roster(chain.roster.dir.parent).load().collections["c1"]
    assert (grant.version, grant.recipients) == (3, frozenset({"alice", "carol"}))
    assert grant.history == (
        frozenset({"alice", "bob"}),
        frozenset({"alice"}),
        frozenset({"alice", "carol"}),
    )
    assert grant.held_by("bob", 1)
    assert not grant.held_by("bob", 2)
    assert not grant.held_by("carol", 2)
    assert grant.held_by("carol", 3)
    assert not grant.held_by("alice", 0)
    assert not grant.held_by("alice", 4)


def test_set_roles(chain: Chain) -> None:
    chain.append("alice", "set-roles", {"name": "bob", "roles": ["admin", "reporter"]})
    state = Roster(chain.roster.dir.parent).load()
    assert state.is_admin("bob")
    chain.add("bob", "dave", "legal")  # bob may now add members
    assert Roster(chain.roster.dir.parent).load().member("dave") is not None


def test_removed_members_stay_known_so_their_signatures_still_verify(chain: Chain) -> None:
    chain.grant("alice", "c1", 2, "alice")
    chain.remove("alice", "bob")
    state = Roster(chain.roster.dir.parent).load()  # bob's statement 4 still verifies
    bob = state.members["bob"]
    assert not bob.active
    assert bob.verify_key == chain.keys["bob"].verify_key.public_bytes_raw()
    assert state.member("bob") is None
    assert "bob" not in [m.name for m in state.active_members()]
    assert not state.is_admin("bob")
    signed_by_bob = chain.roster.statements()[3]
    assert signed_by_bob.signer == "bob"
    bob.public_key().verify(signed_by_bob.signature, signed_by_bob.signed_bytes())


def test_removed_member_is_not_a_recipient_even_if_still_named(chain: Chain) -> None:
    chain.remove("alice", "bob")
    state = Roster(chain.roster.dir.parent).load()
    assert state.collections["c1"].recipients == frozenset({"alice", "bob"})
    assert [m.name for m in state.recipients_of("c1")] == ["alice"]


def test_removed_member_can_no_longer_sign(chain: Chain) -> None:
    chain.remove("alice", "bob")
    body = {"cid": "c1", "version": 2, "recipients": ["bob"]}
    _refused_on_append(chain, "bob", "collection", body)
    _refused_on_load(chain, chain.sign("bob", "collection", body))


def test_removed_member_name_is_never_reused(chain: Chain) -> None:
    chain.remove("alice", "bob")
    impostor = MemberKeys.generate("bob", bytes(32))
    _refused_on_append(chain, "alice", "add-member", member_body(record(impostor, "reporter")))


# --- who may sign what ------------------------------------------------------------------------


def test_non_admin_cannot_add_a_member(chain: Chain) -> None:
    mallory = MemberKeys.generate("mallory", bytes(32))
    body = member_body(record(mallory, "admin"))
    _refused_on_append(chain, "bob", "add-member", body)
    _refused_on_load(chain, chain.sign("bob", "add-member", body))


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("remove-member", {"name": "carol"}),
        ("set-roles", {"name": "bob", "roles": ["admin"]}),
    ],
)
def test_non_admin_cannot_change_members(chain: Chain, kind: str, body: dict[str, Any]) -> None:
    _refused_on_append(chain, "bob", kind, body)
    _refused_on_load(chain, chain.sign("bob", kind, body))


def test_outsider_cannot_sign(chain: Chain) -> None:
    mallory = MemberKeys.generate("mallory", bytes(32))
    body = member_body(record(mallory, "admin"))
    _refused_on_load(chain, chain.sign("mallory", "add-member", body, key=mallory))


def test_statement_claiming_an_admin_but_signed_by_another_key_is_refused(chain: Chain) -> None:
    mallory = MemberKeys.generate("mallory", bytes(32))
    body = member_body(record(mallory, "admin"))
    _refused_on_load(chain, chain.sign("alice", "add-member", body, key=mallory))


def test_collection_v1_must_be_signed_by_one_of_its_recipients(chain: Chain) -> None:
    body = {"cid": "c2", "version": 1, "recipients": ["alice", "bob"]}
    _refused_on_append(chain, "carol", "collection", body)
    _refused_on_load(chain, chain.sign("carol", "collection", body))


def test_collection_rotation_must_be_signed_by_a_holder_of_the_previous_version(
    chain: Chain,
) -> None:
    # carol is an editor but never held c1: she cannot grant herself the next version.
    body = {"cid": "c1", "version": 2, "recipients": ["carol"]}
    _refused_on_append(chain, "carol", "collection", body)
    _refused_on_load(chain, chain.sign("carol", "collection", body))


def test_admin_who_does_not_hold_a_collection_cannot_rotate_it(tmp_path: Path) -> None:
    chain = Chain.found(tmp_path)
    chain.add("alice", "bob", "reporter")
    chain.grant("bob", "c1", 1, "bob")
    body = {"cid": "c1", "version": 2, "recipients": ["alice"]}
    _refused_on_append(chain, "alice", "collection", body)


@pytest.mark.parametrize(
    "body",
    [
        {"cid": "c1", "version": 3, "recipients": ["alice"]},  # skips v2
        {"cid": "c1", "version": 1, "recipients": ["alice"]},  # repeats v1
        {"cid": "c1", "version": "2", "recipients": ["alice"]},
        {"cid": "c1", "version": 2, "recipients": ["alice", "zoe"]},  # not a member
        {"cid": "c1", "version": 2, "recipients": "alice"},
        {"cid": "", "version": 2, "recipients": ["alice"]},
        {"version": 2, "recipients": ["alice"]},
    ],
)
def test_malformed_collection_statements_are_refused(chain: Chain, body: dict[str, Any]) -> None:
    _refused_on_append(chain, "alice", "collection", body)


def test_collection_recipient_must_be_active(chain: Chain) -> None:
    chain.remove("alice", "carol")
    body = {"cid": "c2", "version": 1, "recipients": ["alice", "carol"]}
    _refused_on_append(chain, "alice", "collection", body)


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("frobnicate", {}),
        ("remove-member", {"name": "zoe"}),
        ("set-roles", {"name": "zoe", "roles": ["admin"]}),
        ("set-roles", {"name": "bob", "roles": "admin"}),
        ("add-member", {"name": "dave"}),
        ("add-member", {**member_body(record(MemberKeys.generate("x", bytes(32)))), "name": ""}),
        (
            "add-member",
            {
                **member_body(record(MemberKeys.generate("y", bytes(32)))),
                "recipient": "age1notakey",
            },
        ),
        (
            "add-member",
            {
                **member_body(record(MemberKeys.generate("z", bytes(32)))),
                "verify_key": canonical.b64(bytes(31)),
            },
        ),
    ],
)
def test_malformed_member_statements_are_refused(
    chain: Chain, kind: str, body: dict[str, Any]
) -> None:
    _refused_on_append(chain, "alice", kind, body)


# --- genesis and anchors ------------------------------------------------------------------------


def test_second_genesis_is_refused(chain: Chain) -> None:
    alice = chain.keys["alice"]
    body = {"vault_id": VAULT_ID, "admin": member_body(record(alice, "admin"))}
    _refused_on_append(chain, "alice", "genesis", body)
    _refused_on_load(chain, chain.sign("alice", "genesis", body))


def test_roster_must_start_with_genesis(tmp_path: Path) -> None:
    alice = MemberKeys.generate("alice", bytes(32))
    chain = Chain(Roster(tmp_path), RosterState(), {"alice": alice})
    with pytest.raises(IntegrityError):
        chain.append("alice", "add-member", member_body(record(alice, "admin")))
    chain.roster.dir.mkdir()
    _refused_on_load(chain, chain.sign("alice", "add-member", member_body(record(alice, "admin"))))


def test_founder_must_be_an_admin(tmp_path: Path) -> None:
    alice = MemberKeys.generate("alice", bytes(32))
    body = {"vault_id": VAULT_ID, "admin": member_body(record(alice, "editor"))}
    with pytest.raises(IntegrityError):
        Roster(tmp_path).append(
            RosterState(), signer="alice", key=alice.signing_key, kind="genesis", body=body, at=T0
        )
    assert not (tmp_path / "roster").exists()


def test_genesis_must_be_signed_by_the_founder(tmp_path: Path) -> None:
    alice = MemberKeys.generate("alice", bytes(32))
    mallory = MemberKeys.generate("mallory", bytes(32))
    chain = Chain(Roster(tmp_path), RosterState(), {"alice": alice})
    body = {"vault_id": VAULT_ID, "admin": member_body(record(alice, "admin"))}
    chain.roster.dir.mkdir()
    _refused_on_load(chain, chain.sign("alice", "genesis", body, key=mallory))


def test_roster_forged_from_scratch_has_another_anchor(chain: Chain, tmp_path: Path) -> None:
    # An attacker with disk access rebuilds the roster with themselves as "alice" and copies
    # every public detail (vault id, names, roles, even bob's and carol's public keys). The
    # anchor sealed in the real members' key files tells the two apart.
    forged = Chain.found(tmp_path / "forged")
    for name in ("bob", "carol"):
        forged.append("alice", "add-member", member_body(chain.state.members[name]))
    forged.grant("alice", "c1", 1, "alice", "bob")
    state = Roster(tmp_path / "forged").load()
    assert state.vault_id == chain.state.vault_id
    assert sorted(state.members) == sorted(chain.state.members)
    assert state.anchor != chain.state.anchor
    assert state.head != chain.state.head


def test_forger_cannot_reuse_the_real_genesis(chain: Chain) -> None:
    # Keeping the real genesis (and so the real anchor) leaves the forger unable to sign.
    mallory = MemberKeys.generate("mallory", bytes(32))
    real = chain.files()[0].read_bytes()
    for path in chain.files()[1:]:
        path.unlink()
    chain.state = replay([Statement.decode(real, seq=1)])
    body = member_body(record(mallory, "admin"))
    _refused_on_load(chain, chain.sign("alice", "add-member", body, key=mallory))


# --- rewriting history ------------------------------------------------------------------------


def test_reordered_statements_are_refused(chain: Chain) -> None:
    files = chain.files()
    second, third = files[1].read_bytes(), files[2].read_bytes()
    files[1].write_bytes(third)
    files[2].write_bytes(second)
    with pytest.raises(IntegrityError):
        chain.roster.load()


@pytest.mark.parametrize("index", [0, 1, 2])
def test_deleted_statement_leaves_a_gap_that_is_refused(chain: Chain, index: int) -> None:
    chain.files()[index].unlink()
    with pytest.raises(IntegrityError):
        chain.roster.load()


def test_renumbered_statements_are_refused(chain: Chain) -> None:
    # Closing the gap by renaming files does not help: the number is inside the signed text.
    files = chain.files()
    files[1].unlink()
    for path in files[2:]:
        path.rename(path.with_name(f"{int(path.stem) - 1:06d}.json"))
    with pytest.raises(IntegrityError):
        chain.roster.load()


def test_rewritten_statement_breaks_the_chain_after_it(chain: Chain) -> None:
    # Even the admin cannot quietly replace history: a validly signed alternative statement 2
    # no longer matches the digest statement 3 names.
    dave = MemberKeys.generate("dave", bytes(32))
    genesis_state = replay(chain.roster.statements()[:1])
    alternative = chain.sign(
        "alice",
        "add-member",
        member_body(record(dave, "admin")),
        seq=2,
        prev=genesis_state.head,
    )
    replay([*chain.roster.statements()[:1], alternative])  # valid on its own
    chain.plant(alternative)
    with pytest.raises(IntegrityError, match="statement 3"):
        chain.roster.load()


@pytest.mark.parametrize("name", ["README", "000005.json.bak", "000005.json", "000001.JSON"])
def test_stray_files_are_refused(chain: Chain, name: str) -> None:
    (chain.roster.dir / name).write_bytes(b"{}")
    with pytest.raises(IntegrityError):
        chain.roster.load()


def test_missing_roster_is_refused(tmp_path: Path) -> None:
    with pytest.raises(IntegrityError, match="missing"):
        Roster(tmp_path).load()
    (tmp_path / "roster").mkdir()
    with pytest.raises(IntegrityError, match="missing"):
        Roster(tmp_path).load()


def test_every_single_bit_flip_in_any_statement_is_refused(chain: Chain) -> None:
    chain.grant("alice", "c1", 2, "alice")
    chain.remove("alice", "bob")
    originals = [p.read_bytes() for p in chain.files()]
    statements = [Statement.decode(d, seq=i) for i, d in enumerate(originals, start=1)]
    replay(statements)
    flips = 0
    for index, data in enumerate(originals):
        seq = index + 1
        for position in range(len(data)):
            for mask in (0x01, 0x20, 0x80):
                damaged = bytearray(data)
                damaged[position] ^= mask
                flips += 1
                try:
                    statement = Statement.decode(bytes(damaged), seq=seq)
                    replay([*statements[:index], statement, *statements[index + 1 :]])
                except IntegrityError:
                    continue
                except Exception as error:  # any other exception is the failure
                    pytest.fail(f"statement {seq}, byte {position} ^ {mask:#x}: {error!r}")
                pytest.fail(f"statement {seq}, byte {position} ^ {mask:#x} was accepted")
    assert flips > 3 * 6 * 200


def test_flipped_byte_on_disk_is_refused(chain: Chain) -> None:
    path = chain.files()[1]
    data = bytearray(path.read_bytes())
    data[data.index(b'"reporter"') + 1] ^= 0x20  # reporter -> Reporter
    path.write_bytes(bytes(data))
    with pytest.raises(IntegrityError):
        chain.roster.load()


@pytest.mark.parametrize(
    "rewrite",
    [
        lambda doc: json.dumps(doc).encode(),  # spaces after separators
        lambda doc: json.dumps(doc, sort_keys=True, indent=1).encode(),
        lambda doc: json.dumps(dict(reversed(list(doc.items()))), separators=(",", ":")).encode(),
        lambda doc: canonical.dumps(doc) + b"\n",
        lambda doc: b" " + canonical.dumps(doc),
        lambda doc: canonical.dumps(doc).replace(b'"seq":2', b'"seq":2.0'),
        lambda doc: canonical.dumps(doc).replace(b'"kind"', b'"\\u006bind"'),
        lambda doc: canonical.dumps(doc).replace(b'"seq":2,', b'"seq":2,"seq":2,'),
    ],
    ids=["spaces", "indent", "key-order", "newline", "leading-space", "float", "escape", "dup"],
)
def test_non_canonical_json_is_refused(chain: Chain, rewrite: Any) -> None:
    # The same statement in other JSON spelling would still carry a valid signature over its
    # canonical form; it is refused anyway, so every statement has exactly one digest.
    path = chain.files()[1]
    doc = json.loads(path.read_bytes())
    other = rewrite(doc)
    assert other != path.read_bytes()
    path.write_bytes(other)
    with pytest.raises(IntegrityError):
        chain.roster.load()


def test_truncated_statement_is_refused(chain: Chain) -> None:
    path = chain.files()[-1]
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(IntegrityError):
        chain.roster.load()


# --- crash safety ----------------------------------------------------------------------------


def _append_and_die(vault_dir: str, founder: MemberKeys) -> None:
    """Append a statement, dying (SIGKILL) after the temp file is written, before the rename."""

    def crash(src: object, dst: object) -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    roster = Roster(Path(vault_dir))
    state = roster.load()
    extra = MemberKeys.generate("erin", bytes(32))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("vault.store.atomic.os.replace", crash)
        roster.append(
            state,
            signer=founder.name,
            key=founder.signing_key,
            kind="add-member",
            body=member_body(record(extra, "reporter")),
            at=T0,
        )


def test_crash_during_append_leaves_a_loadable_roster(chain: Chain) -> None:
    # DESIGN §2.2: a crash at any point leaves the vault consistent. A writer killed between
    # writing its temp file and renaming it must not make the roster unreadable.
    before = chain.roster.load()
    child = multiprocessing.get_context("fork").Process(
        target=_append_and_die, args=(str(chain.roster.dir.parent), chain.keys["alice"])
    )
    child.start()
    child.join(30)
    assert child.exitcode == -signal.SIGKILL
    assert chain.roster.load() == before


def test_a_roster_past_the_statement_bound_is_refused_unread(
    chain: Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    count = len(chain.files())
    monkeypatch.setattr("vault.keys.roster.MAX_STATEMENTS", count - 1)
    with pytest.raises(IntegrityError, match="more than a vault ever writes"):
        Roster(chain.roster.dir.parent).load()


def test_a_full_roster_takes_no_statement_more(
    chain: Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("vault.keys.roster.MAX_STATEMENTS", len(chain.files()))
    before = [p.read_bytes() for p in chain.files()]
    with pytest.raises(VaultError, match="the roster is full"):
        chain.add("alice", "dave", "editor")
    assert [p.read_bytes() for p in chain.files()] == before
    assert Roster(chain.roster.dir.parent).load().seq == len(before)  # still opens
