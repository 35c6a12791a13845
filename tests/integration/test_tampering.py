"""Tampering with any byte of any object, catalog, key file or audit record is detected (§2.3)."""

from __future__ import annotations

import base64
import json
import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlmodel import Session

from tests.vaults import PASSPHRASES, TestVault, make_vault
from vault.catalog.models import Setting
from vault.errors import AuditUnavailable, BadCredentials, IntegrityError
from vault.keys.member import KdfParams, MemberKeys, write_key_file
from vault.service import Vault


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> TestVault:
    """One vault with material in it, copied for each tampering case."""
    root = tmp_path_factory.mktemp("pristine")
    test_vault = make_vault(root)
    source = root / "dump"
    source.mkdir()
    for index in range(6):
        (source / f"doc{index}.txt").write_bytes(os.urandom(100 + 5000 * index))
    with test_vault.open() as vault:
        vault.check_in([source], collection="leak", source="tests")
    return test_vault


def _copy(pristine: TestVault, tmp_path: Path) -> TestVault:
    target = tmp_path / "vault"
    shutil.copytree(pristine.path, target)
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir()
    return TestVault(target, secrets_dir)


def _files(root: Path) -> Iterator[tuple[str, Path]]:
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.name == "lock":
            continue
        relative = path.relative_to(root).as_posix()
        kind = relative.split("/")[0]
        if relative.startswith("keys/members/"):
            kind = "member key"
        elif relative.startswith("keys/collections/"):
            kind = "collection key"
        elif relative == "keys/vault.age":
            kind = "vault key"
        elif relative.endswith("catalog.db"):
            kind = "catalog"
        yield kind, path


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset % len(data)] ^= 0x01 << (offset % 8)
    path.write_bytes(bytes(data))


def _cases(seed: int) -> list[tuple[str, int]]:
    return [
        ("objects", seed),
        ("catalog", seed),
        ("vault.db", seed),
        ("log", seed),
        ("roster", seed),
        ("member key", seed),
        ("collection key", seed),
        ("vault key", seed),
        ("VAULT", seed),
    ]


@pytest.mark.parametrize(("kind", "seed"), [c for s in (7, 1234, 99991) for c in _cases(s)])
def test_a_flipped_byte_in_any_kind_of_file_is_reported(
    pristine: TestVault, tmp_path: Path, kind: str, seed: int
) -> None:
    test_vault = _copy(pristine, tmp_path)
    candidates = [p for k, p in _files(test_vault.path) if k == kind]
    assert candidates, kind
    target = candidates[seed % len(candidates)]
    size = target.stat().st_size
    # Pick an offset that lands in content SQLCipher authenticates: pages after the first
    # 16-byte salt; for other files anywhere.
    offset = (seed * 7919) % size
    _flip(target, offset)
    result = test_vault.cli("check", "--read-data", "--json")
    if result.returncode in (4, 5):
        # Unlock itself refused the damaged vault (exit 4), or a damaged key file made the
        # passphrase check fail (exit 5): detected either way, with no traceback.
        assert b"Traceback" not in result.stderr
        if result.returncode == 5:
            assert kind == "member key"
        return
    pytest.fail(
        f"flip in {target.relative_to(test_vault.path)} at {offset} went unnoticed: "
        f"{result.returncode} {result.stdout[-400:]!r} {result.stderr[-400:]!r}"
    )


def test_check_reports_but_never_deletes_orphans(pristine: TestVault, tmp_path: Path) -> None:
    test_vault = _copy(pristine, tmp_path)
    stray = test_vault.path / "tmp" / "0123.obj"
    stray.write_bytes(b"half-written")
    result = test_vault.cli("check", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert any("tmp/0123.obj" in w for w in report["warnings"])
    assert stray.exists()


def test_swapped_objects_are_detected(pristine: TestVault, tmp_path: Path) -> None:
    test_vault = _copy(pristine, tmp_path)
    objects = sorted((test_vault.path / "objects").rglob("*"))
    first, second = [p for p in objects if p.is_file()][:2]
    a, b = first.read_bytes(), second.read_bytes()
    first.write_bytes(b)
    second.write_bytes(a)
    result = test_vault.cli("check", "--read-data", "--json")
    assert result.returncode == 4
    problems = json.loads(result.stdout)["problems"]
    assert sum("not the document it should be" in p or "damaged" in p for p in problems) == 2


def test_key_file_replaced_by_an_attackers_is_refused(pristine: TestVault, tmp_path: Path) -> None:
    """Mallory writes a key file of her own for bob: it opens with her passphrase, but its
    anchor and keys do not match the signed roster."""
    test_vault = _copy(pristine, tmp_path)
    forged = MemberKeys.generate("bob", os.urandom(32))
    write_key_file(test_vault.path, forged, b"mallory", KdfParams())
    with pytest.raises(IntegrityError):
        Vault.open(test_vault.path, "bob", b"mallory")
    with pytest.raises(BadCredentials):
        Vault.open(test_vault.path, "bob", PASSPHRASES["bob"])
    result = test_vault.cli("check")
    assert result.returncode == 4
    assert b"keys/members/bob.key" in result.stdout


def test_roster_cut_back_is_refused(pristine: TestVault, tmp_path: Path) -> None:
    test_vault = _copy(pristine, tmp_path)
    statements = sorted((test_vault.path / "roster").iterdir())
    statements[-1].unlink()  # hide the newest statement (e.g. a revocation)
    with pytest.raises(IntegrityError, match="cut back"):
        Vault.open(test_vault.path, "alice", PASSPHRASES["alice"])


def test_roster_rewritten_from_scratch_is_refused(pristine: TestVault, tmp_path: Path) -> None:
    test_vault = _copy(pristine, tmp_path)
    other = make_vault(tmp_path / "attacker", with_collection=False)
    shutil.rmtree(test_vault.path / "roster")
    shutil.copytree(other.path / "roster", test_vault.path / "roster")
    with pytest.raises(IntegrityError):
        Vault.open(test_vault.path, "alice", PASSPHRASES["alice"])


def test_an_action_whose_audit_entry_cannot_be_written_does_not_happen(
    pristine: TestVault, tmp_path: Path
) -> None:
    """Fail closed (§10): replace the log with a directory, which no one can append to."""
    test_vault = _copy(pristine, tmp_path)
    log = test_vault.path / "log" / "audit.log"
    saved = log.read_bytes()
    log.unlink()
    log.mkdir()
    extra = tmp_path / "extra.txt"
    extra.write_bytes(b"must not be stored")
    with pytest.raises(AuditUnavailable), test_vault.open() as vault:
        vault.check_in([extra], collection="leak")
    log.rmdir()
    log.write_bytes(saved)
    with test_vault.open() as vault:
        names = [d.name for d in vault.documents()]
    assert "extra.txt" not in names
    assert not any((test_vault.path / "tmp").iterdir())
    result = test_vault.cli("cat", "0" * 64)
    assert result.returncode == 2


def _leak_id(test_vault: TestVault) -> str:
    with test_vault.open() as vault:
        (leak,) = [c for c in vault.collections() if c.name == "leak"]
    return leak.cid


def _request_all(test_vault: TestVault) -> str:
    with test_vault.open() as vault:
        return vault.request_release("leak", reason="after the vote").id


def test_vault_db_rolled_back_past_an_embargo_extension_is_reported(
    pristine: TestVault, tmp_path: Path
) -> None:
    """SQLCipher authenticates pages, not freshness: the log's confirmed extension must win."""
    test_vault = _copy(pristine, tmp_path)
    cid = _leak_id(test_vault)
    request = _request_all(test_vault)
    with test_vault.open() as vault:
        vault.set_embargo("leak", until=_in_days(30), zone="UTC", reason="polls close")
    saved = (test_vault.path / "vault.db").read_bytes()
    with test_vault.open() as vault:
        vault.extend_embargo("leak", until=_in_days(60), zone="UTC")
    (test_vault.path / "vault.db").write_bytes(saved)

    result = test_vault.cli("check", "--json")
    assert result.returncode == 4, result.stderr
    problems = json.loads(result.stdout)["problems"]
    assert any(f"collection {cid}" in p and "rolled back" in p for p in problems), problems
    ran = test_vault.cli("release", "run", request, "--to", str(tmp_path / "out"))
    assert ran.returncode == 4, ran.stderr
    assert cid.encode() in ran.stderr
    assert not (tmp_path / "out").exists()


def test_a_catalog_rolled_back_past_a_forged_verdict_is_reported(
    pristine: TestVault, tmp_path: Path
) -> None:
    test_vault = _copy(pristine, tmp_path)
    cid = _leak_id(test_vault)
    with test_vault.open() as vault:
        oid = sorted(d.oid for d in vault.documents("leak"))[0]
        vault.mark(oid, "in-review")
    catalog = test_vault.path / "collections" / cid / "catalog.db"
    saved = catalog.read_bytes()
    with test_vault.open() as vault:
        vault.mark(oid, "forged", note="metadata dates impossible")
    request = _request_all(test_vault)
    catalog.write_bytes(saved)

    result = test_vault.cli("check", "--json")
    assert result.returncode == 4, result.stderr
    problems = json.loads(result.stdout)["problems"]
    assert any(oid in p and "forged" in p and "rolled back" in p for p in problems), problems
    ran = test_vault.cli("release", "run", request, "--to", str(tmp_path / "out"))
    assert ran.returncode == 4, ran.stderr
    assert oid.encode() in ran.stderr


def test_an_embargo_change_interrupted_before_vault_db_held_it_is_a_warning(
    pristine: TestVault, tmp_path: Path
) -> None:
    """What a crash between the audit entry and the write leaves: reported in words saying
    so, not as damage; release refuses until the change is made again."""
    test_vault = _copy(pristine, tmp_path)
    cid = _leak_id(test_vault)
    request = _request_all(test_vault)
    until = _in_days(30).isoformat()
    with test_vault.open() as vault:
        # The intent entry `set_embargo` writes first, and then nothing: the process died.
        vault._ctx.audit("embargo-set", cid, {"kind": "collection", "until": until})

    result = test_vault.cli("check", "--json")
    assert result.returncode == 0, result.stdout
    warnings = json.loads(result.stdout)["warnings"]
    assert any(cid in w and "interrupted" in w for w in warnings), warnings
    ran = test_vault.cli("release", "run", request, "--to", str(tmp_path / "out"))
    assert ran.returncode == 3, ran.stderr
    assert b"interrupted" in ran.stderr

    with test_vault.open() as vault:
        vault.set_embargo("leak", until=_in_days(40), zone="UTC", reason="polls close")
    assert test_vault.cli("check").returncode == 0


def _in_days(days: int) -> datetime:
    return datetime.now(UTC) + timedelta(days=days)


def _cut_final_record(test_vault: TestVault) -> None:
    log = test_vault.path / "log" / "audit.log"
    os.truncate(log, log.stat().st_size - 10)


def test_a_torn_tail_cut_after_the_newest_checkpoint_is_a_warning(
    pristine: TestVault, tmp_path: Path
) -> None:
    """Cutting into the final record looks exactly like a crash mid-append: the repair is
    logged, and `vault check` says to compare with a checkpoint exported elsewhere."""
    test_vault = _copy(pristine, tmp_path)
    with test_vault.open() as vault:
        stored = vault.audit_checkpoint().seq
        vault.documents("leak")
    _cut_final_record(test_vault)

    result = test_vault.cli("check", "--json")
    assert result.returncode == 0, result.stderr
    warnings = json.loads(result.stdout)["warnings"]
    (warned,) = [w for w in warnings if "torn final record" in w]
    assert f"after the newest checkpoint (seq {stored})" in warned
    assert b"vault: warning: audit log: a torn final record" in result.stderr


def test_a_torn_tail_repaired_before_a_checkpoint_is_not_warned_of(
    pristine: TestVault, tmp_path: Path
) -> None:
    test_vault = _copy(pristine, tmp_path)
    _cut_final_record(test_vault)
    with test_vault.open() as vault:
        assert any(e.action == "audit-repair" for e in vault.audit_entries())
        vault.audit_checkpoint()
    result = test_vault.cli("check", "--json")
    assert result.returncode == 0, result.stderr
    assert not [w for w in json.loads(result.stdout)["warnings"] if "torn" in w]


def _write_quorum(test_vault: TestVault, value: str) -> None:
    """What any member holding the vault key can do: write vault.db directly."""
    with test_vault.open() as vault, Session(vault._ctx.db) as session:
        session.merge(Setting(key="time_confirm_quorum", value=value))
        session.commit()


def test_a_clock_guard_quorum_written_into_vault_db_directly_is_refused(
    pristine: TestVault, tmp_path: Path
) -> None:
    test_vault = _copy(pristine, tmp_path)
    with test_vault.open() as vault:
        assert vault.set_time_quorum(3) == 3
    assert test_vault.cli("time", "status").returncode == 0
    _write_quorum(test_vault, "1")

    status = test_vault.cli("time", "status")
    assert status.returncode == 4, status.stderr
    assert b"quorum" in status.stderr
    result = test_vault.cli("check", "--json")
    assert result.returncode == 4, result.stderr
    problems = json.loads(result.stdout)["problems"]
    assert any("quorum is 1, but the audit log says 3" in p for p in problems), problems


def test_a_clock_guard_quorum_never_logged_is_refused(pristine: TestVault, tmp_path: Path) -> None:
    test_vault = _copy(pristine, tmp_path)
    _write_quorum(test_vault, "1")
    with pytest.raises(IntegrityError, match="quorum"), test_vault.open() as vault:
        vault.clock_status()


def _archived_key() -> str:
    public = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return f"s2017._domainkey.example.org v=DKIM1; k=rsa; p={base64.b64encode(der).decode()}\n"


def test_a_dkim_archive_written_into_vault_db_directly_is_refused(
    pristine: TestVault, tmp_path: Path
) -> None:
    """Whoever controls the archive decides what "pass" means: it must be the one imported."""
    test_vault = _copy(pristine, tmp_path)
    archived = _archived_key()
    with test_vault.open() as vault:
        vault.import_dkim_keys(archived)
        vault.check_mail()
    forged = archived.replace("example.org", "campaign.example")
    with test_vault.open() as vault, Session(vault._ctx.db) as session:
        session.merge(Setting(key="dkim_keys", value=forged))
        session.commit()

    result = test_vault.cli("check", "--json")
    assert result.returncode == 4, result.stderr
    problems = json.loads(result.stdout)["problems"]
    assert any("DKIM key archive is not the archive the last import logged" in p for p in problems)
    rechecked = test_vault.cli("dkim", "check")
    assert rechecked.returncode == 4, rechecked.stderr


def test_a_vault_of_the_earlier_format_is_refused_not_misread(
    pristine: TestVault, tmp_path: Path
) -> None:
    # Format 1 addressed an object by the HMAC of its bytes: its addresses would all fail to
    # verify under format 2, so it must be refused as a whole, before anything is read.
    target = _copy(pristine, tmp_path)
    vault_file = target.path / "VAULT"
    vault_file.write_text(vault_file.read_text().replace("format = 2\n", "format = 1\n"))
    with pytest.raises(IntegrityError, match="unknown format"):
        target.open()
