"""Vault and collection secrets: encoding, rotation, and read access enforced by encryption."""

from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.unit.keys.builders import record
from vault import age, canonical
from vault.age import b64
from vault.errors import AccessDenied, IntegrityError
from vault.keys.member import MemberKeys
from vault.keys.roster import MemberRecord
from vault.keys.sealed import (
    CollectionSecret,
    collection_secret_path,
    derive,
    open_sealed,
    read_collection_secret,
    seal_to,
    vault_secret_path,
    write_collection_secret,
)
from vault.store.objects import ObjectStore


@pytest.fixture(scope="module")
def members() -> dict[str, MemberKeys]:
    return {name: MemberKeys.generate(name, bytes(32)) for name in ("alice", "bob", "carol")}


def _records(members: dict[str, MemberKeys], *names: str) -> list[MemberRecord]:
    return [record(members[n], "reporter") for n in names]


def _identities(secret: CollectionSecret) -> list[str]:
    return [str(i) for i in secret.identities]


# --- encoding ---------------------------------------------------------------------------------


def test_generated_secret_is_version_one_with_fresh_keys() -> None:
    a, b = CollectionSecret.generate("c1"), CollectionSecret.generate("c1")
    assert (a.cid, a.version, len(a.identities)) == ("c1", 1, 1)
    assert len(a.catalog_key) == len(a.id_key) == 32
    assert a.catalog_key != a.id_key
    assert {a.catalog_key, a.id_key}.isdisjoint({b.catalog_key, b.id_key})
    assert _identities(a) != _identities(b)
    assert a.current is a.identities[-1]


def test_encode_decode_round_trip() -> None:
    secret = CollectionSecret.generate("c1").rotated()
    data = secret.encode()
    assert canonical.dumps(json.loads(data)) == data
    again = CollectionSecret.decode(data, cid="c1", version=2)
    assert (again.cid, again.version) == ("c1", 2)
    assert _identities(again) == _identities(secret)
    assert again.catalog_key == secret.catalog_key
    assert again.id_key == secret.id_key
    assert again.encode() == data


def test_rotated_keeps_the_id_key_and_older_identities() -> None:
    first = CollectionSecret.generate("c1")
    second = first.rotated()
    third = second.rotated()
    assert (second.cid, second.version, third.version) == ("c1", 2, 3)
    assert second.id_key == third.id_key == first.id_key
    assert len({first.catalog_key, second.catalog_key, third.catalog_key}) == 3
    assert _identities(second)[:1] == _identities(first)
    assert _identities(third)[:2] == _identities(second)
    assert len(set(_identities(third))) == 3
    assert str(third.current) == _identities(third)[-1]
    assert first.version == 1  # frozen: rotation makes a new secret


def test_objects_of_every_version_read_after_rotation(tmp_path: Path) -> None:
    # New check-ins go to the current identity; remaining members keep reading old objects,
    # and the same document still has the same address (deduplication across versions).
    store = ObjectStore(tmp_path)
    first = CollectionSecret.generate("c1")
    old = store.stage(io.BytesIO(b"old"), id_key=first.id_key, recipient=first.current.recipient)
    store.commit([old])
    second = first.rotated()
    new = store.stage(io.BytesIO(b"new"), id_key=second.id_key, recipient=second.current.recipient)
    again = store.stage(
        io.BytesIO(b"old"), id_key=second.id_key, recipient=second.current.recipient
    )
    assert store.commit([new, again]) == [True, False]
    assert b"".join(store.read(old.oid, size=3, keys=second.object_keys)) == b"old"
    assert b"".join(store.read(new.oid, size=3, keys=second.object_keys)) == b"new"
    with pytest.raises(IntegrityError):
        store.verify(new.oid, size=3, keys=first.object_keys)


@pytest.mark.parametrize(
    ("cid", "version"), [("c2", 1), ("c1", 2), ("c1", 0), ("C1", 1), ("c1 ", 1)]
)
def test_decode_refuses_a_secret_found_in_the_wrong_place(cid: str, version: int) -> None:
    data = CollectionSecret.generate("c1").encode()
    with pytest.raises(IntegrityError, match="does not belong"):
        CollectionSecret.decode(data, cid=cid, version=version)


def _edited(change: Any) -> bytes:
    doc = json.loads(CollectionSecret.generate("c1").encode())
    change(doc)
    return canonical.dumps(doc)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"[]",
        b"not json",
        _edited(lambda d: d.pop("id_key")),
        _edited(lambda d: d.pop("identities")),
        _edited(lambda d: d.update(catalog_key="zz")),
        _edited(lambda d: d.update(id_key=5)),
        _edited(lambda d: d.update(identities=["AGE-SECRET-KEY-1NOTAKEY"])),
        _edited(lambda d: d.update(identities="AGE-SECRET-KEY-1")),
        _edited(lambda d: d.update(identities=[str(age.X25519Identity.generate().recipient)])),
        _edited(lambda d: d.update(identities=[])),  # version 1 needs exactly one identity
        _edited(
            lambda d: d.update(identities=[str(age.X25519Identity.generate()) for _ in range(2)])
        ),
    ],
)
def test_decode_refuses_malformed_secrets(data: bytes) -> None:
    with pytest.raises(IntegrityError):
        CollectionSecret.decode(data, cid="c1", version=1)


def test_repr_shows_no_secret() -> None:
    secret = CollectionSecret.generate("c1")
    text = repr(secret) + repr(secret.object_keys)
    assert "c1" in text
    for hidden in (secret.catalog_key.hex(), secret.id_key.hex(), str(secret.current)):
        assert hidden not in text


def test_derive_gives_independent_subkeys() -> None:
    secret = os.urandom(32)
    keys = {derive(secret, p) for p in ("vault.db", "audit", "catalog")}
    assert len(keys) == 3
    assert all(len(k) == 32 for k in keys)
    assert derive(secret, "audit") == derive(secret, "audit")
    assert derive(os.urandom(32), "audit") != derive(secret, "audit")
    assert secret not in keys


# --- sealing to members -------------------------------------------------------------------------


def test_sealed_secret_opens_for_every_recipient(members: dict[str, MemberKeys]) -> None:
    data = seal_to(_records(members, "alice", "bob"), b"vault secret")
    assert data.startswith(b"age-encryption.org/v1\n")
    assert b"vault secret" not in data
    for name in ("alice", "bob"):
        assert open_sealed(data, members[name], what="the vault") == b"vault secret"


def test_non_recipient_is_denied_by_cryptography(members: dict[str, MemberKeys]) -> None:
    data = seal_to(_records(members, "alice", "bob"), b"vault secret")
    with pytest.raises(AccessDenied) as caught:
        open_sealed(data, members["carol"], what="the vault")
    assert caught.value.exit_code == 3
    # The refusal is cryptographic: carol's identity unwraps no stanza at all.
    with pytest.raises(age.NoIdentityMatch):
        age.decrypt(data, [members["carol"].identity])


def test_member_with_the_same_name_but_other_keys_is_denied(
    members: dict[str, MemberKeys],
) -> None:
    data = seal_to(_records(members, "alice"), b"vault secret")
    impostor = MemberKeys.generate("alice", bytes(32))
    with pytest.raises(AccessDenied):
        open_sealed(data, impostor, what="the vault")


@pytest.mark.parametrize("where", ["header-mac", "payload", "truncated", "appended"])
def test_damaged_sealed_data_is_integrity_not_access(
    members: dict[str, MemberKeys], where: str
) -> None:
    data = bytearray(seal_to(_records(members, "alice"), b"vault secret"))
    end_of_header = data.index(b"\n---") + 49
    if where == "header-mac":
        data[end_of_header - 3] ^= 0x01
    elif where == "payload":
        data[-5] ^= 0x01
    elif where == "truncated":
        del data[-1]
    else:
        data += b"\x00"
    with pytest.raises(IntegrityError) as caught:
        open_sealed(bytes(data), members["alice"], what="the vault")
    assert not isinstance(caught.value, AccessDenied)


def test_damaged_stanza_is_refused(members: dict[str, MemberKeys]) -> None:
    # An X25519 stanza does not say whom it is for, so a damaged wrap of alice's file key looks
    # exactly like a stanza for someone else: refused, as access denied.
    lines = seal_to(_records(members, "alice"), b"vault secret").split(b"\n")
    body = bytearray(b64.decode(lines[2].decode()) or b"")
    assert len(body) == 32
    body[5] ^= 0x01
    lines[2] = b64.encode(bytes(body)).encode()
    data = b"\n".join(lines)
    with pytest.raises(AccessDenied):
        open_sealed(bytes(data), members["alice"], what="the vault")


def test_seal_to_nobody_is_refused() -> None:
    with pytest.raises(ValueError, match="no recipients"):
        seal_to([], b"secret")


# --- collection secret files --------------------------------------------------------------------


def test_collection_secret_file_round_trip(tmp_path: Path, members: dict[str, MemberKeys]) -> None:
    secret = CollectionSecret.generate("c1")
    write_collection_secret(tmp_path, secret, _records(members, "alice", "bob"))
    path = collection_secret_path(tmp_path, "c1", 1)
    assert path == tmp_path / "keys" / "collections" / "c1" / "v1.age"
    assert secret.catalog_key.hex().encode() not in path.read_bytes()
    for name in ("alice", "bob"):
        opened = read_collection_secret(tmp_path, "c1", 1, members[name])
        assert opened.encode() == secret.encode()


def test_member_outside_the_collection_cannot_open_its_secret(
    tmp_path: Path, members: dict[str, MemberKeys]
) -> None:
    write_collection_secret(tmp_path, CollectionSecret.generate("c1"), _records(members, "alice"))
    with pytest.raises(AccessDenied):
        read_collection_secret(tmp_path, "c1", 1, members["carol"])


def test_revoked_member_cannot_open_the_rotated_secret(
    tmp_path: Path, members: dict[str, MemberKeys]
) -> None:
    first = CollectionSecret.generate("c1")
    write_collection_secret(tmp_path, first, _records(members, "alice", "bob"))
    second = first.rotated()
    write_collection_secret(tmp_path, second, _records(members, "alice"))
    assert read_collection_secret(tmp_path, "c1", 1, members["bob"]).encode() == first.encode()
    with pytest.raises(AccessDenied):
        read_collection_secret(tmp_path, "c1", 2, members["bob"])
    opened = read_collection_secret(tmp_path, "c1", 2, members["alice"])
    assert opened.encode() == second.encode()


def test_secret_file_moved_to_another_collection_is_refused(
    tmp_path: Path, members: dict[str, MemberKeys]
) -> None:
    # Someone with disk access copies c1's secret over c2's: a member of both must notice,
    # or c2's new material would be encrypted under keys of c1's members.
    recipients = _records(members, "alice")
    write_collection_secret(tmp_path, CollectionSecret.generate("c1"), recipients)
    write_collection_secret(tmp_path, CollectionSecret.generate("c2"), recipients)
    shutil.copyfile(
        collection_secret_path(tmp_path, "c1", 1), collection_secret_path(tmp_path, "c2", 1)
    )
    with pytest.raises(IntegrityError, match="does not belong"):
        read_collection_secret(tmp_path, "c2", 1, members["alice"])


def test_secret_file_moved_to_another_version_is_refused(
    tmp_path: Path, members: dict[str, MemberKeys]
) -> None:
    recipients = _records(members, "alice")
    first = CollectionSecret.generate("c1")
    write_collection_secret(tmp_path, first, recipients)
    write_collection_secret(tmp_path, first.rotated(), recipients)
    shutil.copyfile(
        collection_secret_path(tmp_path, "c1", 1), collection_secret_path(tmp_path, "c1", 2)
    )
    with pytest.raises(IntegrityError, match="does not belong"):
        read_collection_secret(tmp_path, "c1", 2, members["alice"])


def test_missing_collection_secret_is_an_integrity_error(
    tmp_path: Path, members: dict[str, MemberKeys]
) -> None:
    with pytest.raises(IntegrityError, match="missing"):
        read_collection_secret(tmp_path, "c1", 1, members["alice"])


def test_vault_secret_path() -> None:
    assert vault_secret_path(Path("/v")) == Path("/v/keys/vault.age")
