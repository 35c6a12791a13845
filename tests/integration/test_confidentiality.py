"""Read access is enforced by cryptography, and nothing is stored in clear (DESIGN §2.1, §2.4)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from sqlmodel import Session, select

from tests.vaults import PASSPHRASES, TestVault
from vault import age
from vault.catalog.engine import open_engine
from vault.catalog.models import Document
from vault.errors import AccessDenied, IntegrityError
from vault.keys import sealed
from vault.keys.member import read_key_file
from vault.store.objects import ObjectStore

NAME = "Operation-Nightjar-ledger-7f3a.xlsx"
FOLDER = "Directory-Quetzal-9b1e"
CONTENT = b"Wire 2,000,000 EUR to account CH93-0076-2011-6238-5295-7 before the vote"


def _check_in(test_vault: TestVault, tmp_path: Path) -> str:
    folder = tmp_path / FOLDER
    folder.mkdir()
    (folder / NAME).write_bytes(CONTENT)
    with test_vault.open() as vault:
        receipt = vault.check_in([folder], collection="leak", source="Source-Heron-4c2d")
    oid = receipt.items[0].oid
    assert oid is not None
    return oid


def test_no_name_path_or_content_in_clear_anywhere(test_vault: TestVault, tmp_path: Path) -> None:
    _check_in(test_vault, tmp_path)
    needles = [
        NAME.encode(),
        FOLDER.encode(),
        CONTENT,
        CONTENT[:24],
        b"Source-Heron-4c2d",
        b"test material",
    ]
    needles += [n.decode().encode("utf-16-le") for n in needles[:2]]
    files = [p for p in test_vault.path.rglob("*") if p.is_file()]
    assert len(files) > 10
    for path in files:
        data = path.read_bytes()
        for needle in needles:
            assert needle not in data, f"{needle!r} in clear in {path.relative_to(test_vault.path)}"
        assert NAME.encode() not in path.name.encode()


def test_member_without_grant_cannot_decrypt_objects_or_catalog(
    test_vault: TestVault, tmp_path: Path
) -> None:
    """Carol holds no grant: her own keys open neither the collection secret nor the objects."""
    oid = _check_in(test_vault, tmp_path)
    carol = read_key_file(test_vault.path, "carol").unseal(PASSPHRASES["carol"])
    with test_vault.open("alice") as vault:
        cid = vault.collections()[0].cid
        version = vault.collections()[0].key_version
    with pytest.raises(AccessDenied):
        sealed.read_collection_secret(test_vault.path, cid, version, carol)
    ciphertext = ObjectStore(test_vault.path).path(oid).read_bytes()
    with pytest.raises(age.NoIdentityMatch):
        age.decrypt(ciphertext, [carol.identity])
    # Even with a guessed key the catalog does not open.
    catalog = test_vault.path / "collections" / cid / "catalog.db"
    with pytest.raises(IntegrityError):
        open_engine(catalog, bytes(32))
    # Bob, who holds it, can do all of it with his keys alone.
    bob = read_key_file(test_vault.path, "bob").unseal(PASSPHRASES["bob"])
    secret = sealed.read_collection_secret(test_vault.path, cid, version, bob)
    assert age.decrypt(ciphertext, list(secret.identities))[: len(CONTENT)] == CONTENT
    engine = open_engine(catalog, secret.catalog_key)
    with Session(engine) as session:
        assert session.exec(select(Document.name)).one() == NAME
    engine.dispose()


def test_revoked_member_cannot_read_new_check_ins(test_vault: TestVault, tmp_path: Path) -> None:
    _check_in(test_vault, tmp_path)
    bob = read_key_file(test_vault.path, "bob").unseal(PASSPHRASES["bob"])
    with test_vault.open() as vault:
        view = vault.revoke("leak", "bob")
        late = tmp_path / "late.txt"
        late.write_bytes(b"checked in after the revocation")
        oid = vault.check_in([late], collection="leak").items[0].oid
        assert oid is not None
    assert view.key_version >= 3
    assert "bob" not in view.members
    with pytest.raises(AccessDenied):
        sealed.read_collection_secret(test_vault.path, view.cid, view.key_version, bob)
    with pytest.raises(age.NoIdentityMatch):
        age.decrypt(ObjectStore(test_vault.path).path(oid).read_bytes(), [bob.identity])


def test_export_identity_recovers_an_object_with_the_age_tool(
    test_vault: TestVault, tmp_path: Path
) -> None:
    age_tool = shutil.which("age")
    if age_tool is None:
        pytest.fail("the `age` command is not installed (apt-get install age)")
    oid = _check_in(test_vault, tmp_path)
    identity = tmp_path / "identity.txt"
    result = test_vault.cli("collection", "export-identity", "leak", "--output", str(identity))
    assert result.returncode == 0, result.stderr
    assert identity.stat().st_mode & 0o077 == 0
    obj = ObjectStore(test_vault.path).path(oid)
    decrypted = subprocess.run(
        [age_tool, "-d", "-i", str(identity), str(obj)], capture_output=True, check=True
    ).stdout
    assert decrypted[: len(CONTENT)] == CONTENT
    assert set(decrypted[len(CONTENT) :]) <= {0}, "only Padmé zero padding follows"
    shown = test_vault.cli("audit", "show", "--json", check=True).stdout
    assert b"export-identity" in shown
