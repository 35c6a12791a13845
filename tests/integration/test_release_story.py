"""The release story with an injected clock: request → approvals → refused early → runs → verify."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.vaults import PASSPHRASES, TestVault, make_vault
from vault.clock import FixedClock
from vault.errors import AuditUnavailable, Refused
from vault.service import Vault, verify_bundle

DAVE = b"dave passphrase"


@pytest.fixture
def story(tmp_path: Path) -> tuple[TestVault, FixedClock, str]:
    """A vault with an editor (dave) who asks to release `leak`, embargoed for two days."""
    test_vault = make_vault(tmp_path)
    clock = FixedClock(datetime.now(UTC) + timedelta(minutes=1))
    source = tmp_path / "leak"
    source.mkdir()
    (source / "memo.txt").write_text("the memo\n")
    (source / "ledger.csv").write_text("a,b\n1,2\n")
    with Vault.open(test_vault.path, "alice", PASSPHRASES["alice"], clock=clock) as alice:
        alice.add_member("dave", ["editor"], DAVE)
        alice.grant("leak", "dave")
        alice.grant("leak", "carol")
        alice.check_in([source], collection="leak")
        alice.set_embargo(
            "leak", until=clock.now() + timedelta(days=2), zone="Europe/Paris", reason="polls close"
        )
    with Vault.open(test_vault.path, "dave", DAVE, clock=clock) as dave:
        request = dave.request_release("leak", reason="after the vote")
    return test_vault, clock, request.id


def _as(test_vault: TestVault, member: str, clock: FixedClock) -> Vault:
    secret = DAVE if member == "dave" else PASSPHRASES[member]
    return Vault.open(test_vault.path, member, secret, clock=clock)


def test_the_whole_story(story: tuple[TestVault, FixedClock, str], tmp_path: Path) -> None:
    test_vault, clock, request_id = story
    out = tmp_path / "out"
    with _as(test_vault, "alice", clock) as alice:
        assert alice.releases()[0].status == "pending approvals"
        alice.approve_release(request_id)
    with _as(test_vault, "carol", clock) as carol:
        view = carol.approve_release(request_id)
    assert view.approvers == ("alice", "carol")
    assert view.status == "waiting for embargo"
    with _as(test_vault, "dave", clock) as dave:
        with pytest.raises(Refused):
            dave.run_release(request_id, out)
        assert dave.due_releases() == []
    assert not out.exists() or not any(out.iterdir())
    clock.advance(timedelta(days=2, seconds=1))
    with _as(test_vault, "dave", clock) as dave:
        assert dave.due_releases() == [request_id]
        bundle = dave.run_release(request_id, out)
        with pytest.raises(Refused, match="already run"):
            dave.run_release(request_id, out)
        assert dave.releases()[0].status == "released"
    report = verify_bundle(bundle)
    assert report.ok, report.problems
    assert report.files == 2
    assert sorted(report.approvers) == ["alice", "carol"]
    assert sorted(p.read_bytes() for p in (bundle / "files").iterdir()) == [
        b"a,b\n1,2\n",
        b"the memo\n",
    ]
    if shutil.which("ssh-keygen"):
        manifest = (bundle / "MANIFEST.json").read_bytes()
        checked = subprocess.run(
            [
                "ssh-keygen",
                "-Y",
                "verify",
                "-f",
                str(bundle / "allowed_signers"),
                "-I",
                "dave",
                "-n",
                "embargo-vault-release",
                "-s",
                str(bundle / "MANIFEST.json.dave.sig"),
            ],
            input=manifest,
            capture_output=True,
            check=False,
        )
        assert checked.returncode == 0, checked.stderr


def test_approvals_that_do_not_count(story: tuple[TestVault, FixedClock, str]) -> None:
    test_vault, clock, request_id = story
    with _as(test_vault, "dave", clock) as dave, pytest.raises(Refused, match="own approval"):
        dave.approve_release(request_id)
    with _as(test_vault, "alice", clock) as alice:
        alice.approve_release(request_id)
        with pytest.raises(Refused, match="already approved"):
            alice.approve_release(request_id)
    with _as(test_vault, "bob", clock) as bob, pytest.raises(Refused):
        bob.approve_release(request_id)  # a reporter is not named by the policy
    clock.advance(timedelta(days=3))
    with _as(test_vault, "dave", clock) as dave:
        assert dave.releases()[0].status == "pending approvals"
        with pytest.raises(Refused):
            dave.run_release(request_id, test_vault.secrets_dir / "out")


def test_a_forged_approval_is_not_counted(story: tuple[TestVault, FixedClock, str]) -> None:
    test_vault, clock, request_id = story
    from sqlmodel import Session, select

    from vault.catalog.releases import ApprovalRow

    with _as(test_vault, "alice", clock) as alice:
        alice.approve_release(request_id)
    with _as(test_vault, "carol", clock) as carol:
        carol.approve_release(request_id)
        # An insider with the vault key rewrites carol's approval with another signature.
        with Session(carol._ctx.db) as session:
            row = session.exec(select(ApprovalRow).where(ApprovalRow.approver == "alice")).one()
            forged = session.exec(select(ApprovalRow).where(ApprovalRow.approver == "carol")).one()
            forged.signature = row.signature
            session.add(forged)
            session.commit()
    clock.advance(timedelta(days=3))
    with _as(test_vault, "dave", clock) as dave:
        assert dave.releases()[0].approvers == ("alice",)
        with pytest.raises(Refused):
            dave.run_release(request_id, test_vault.secrets_dir / "out")


def test_an_expired_request_is_refused(
    tmp_path: Path, story: tuple[TestVault, FixedClock, str]
) -> None:
    test_vault, clock, _ = story
    with _as(test_vault, "dave", clock) as dave:
        short = dave.request_release(
            "leak", reason="x", expires=clock.now() + timedelta(days=2, hours=1)
        )
    for member in ("alice", "carol"):
        with _as(test_vault, member, clock) as approver:
            approver.approve_release(short.id)
    clock.advance(timedelta(days=3))
    with _as(test_vault, "dave", clock) as dave:
        assert next(v for v in dave.releases() if v.id == short.id).status == "expired"
        with pytest.raises(Refused, match="expired"):
            dave.run_release(short.id, tmp_path / "out")


def test_nothing_is_released_when_the_audit_log_cannot_be_written(
    story: tuple[TestVault, FixedClock, str], tmp_path: Path
) -> None:
    test_vault, clock, request_id = story
    for member in ("alice", "carol"):
        with _as(test_vault, member, clock) as approver:
            approver.approve_release(request_id)
    clock.advance(timedelta(days=3))
    out = tmp_path / "out"
    with _as(test_vault, "dave", clock) as dave:
        log = test_vault.path / "log" / "audit.log"
        saved = log.read_bytes()
        log.unlink()
        log.mkdir()
        try:
            with pytest.raises(AuditUnavailable):
                dave.run_release(request_id, out)
        finally:
            log.rmdir()
            log.write_bytes(saved)
    assert not out.exists() or not any(out.iterdir())


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> tuple[TestVault, Path]:
    """One bundle, released once; each tampering case works on a copy."""
    root = tmp_path_factory.mktemp("released")
    test_vault = make_vault(root)
    clock = FixedClock(datetime.now(UTC) + timedelta(minutes=1))
    (root / "memo.txt").write_text("the memo\n")
    with Vault.open(test_vault.path, "alice", PASSPHRASES["alice"], clock=clock) as alice:
        alice.add_member("dave", ["editor"], DAVE)
        alice.grant("leak", "dave")
        alice.grant("leak", "carol")
        alice.check_in([root / "memo.txt"], collection="leak")
    with Vault.open(test_vault.path, "dave", DAVE, clock=clock) as dave:
        request_id = dave.request_release("leak", reason="after the vote").id
    for member in ("alice", "carol"):
        with _as(test_vault, member, clock) as approver:
            approver.approve_release(request_id)
    with _as(test_vault, "dave", clock) as dave:
        bundle = dave.run_release(request_id, root / "out")
    return test_vault, bundle


@pytest.mark.parametrize(
    "target",
    [
        "files",
        "MANIFEST.json",
        "request.json",
        "MANIFEST.json.dave.sig",
        "request.json.carol.sig",
        "roster.json",
        "allowed_signers",
    ],
)
def test_tampering_with_a_bundle_fails_verification(
    released: tuple[TestVault, Path], tmp_path: Path, target: str
) -> None:
    test_vault, original = released
    bundle = tmp_path / original.name
    shutil.copytree(original, bundle)
    assert verify_bundle(bundle).ok
    victim = sorted((bundle / "files").iterdir())[0] if target == "files" else bundle / target
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.write_bytes(bytes(data))
    result = test_vault.cli("release", "verify", str(bundle))
    assert result.returncode == 4, result.stdout
    assert b"Traceback" not in result.stderr


def test_a_bundle_with_a_self_made_roster_fails_against_the_published_fingerprint(
    released: tuple[TestVault, Path], tmp_path: Path
) -> None:
    test_vault, bundle = released
    published = verify_bundle(bundle).fingerprint
    ok = test_vault.cli("release", "verify", str(bundle), "--roster-fingerprint", published)
    assert ok.returncode == 0, ok.stdout
    wrong = test_vault.cli("release", "verify", str(bundle), "--roster-fingerprint", "SHA256:00")
    assert wrong.returncode == 4
    assert b"not the published" in wrong.stdout


def test_a_bundle_for_the_publishing_desk_is_one_age_file(
    story: tuple[TestVault, FixedClock, str], tmp_path: Path
) -> None:
    import io
    import tarfile

    from vault import age

    test_vault, clock, request_id = story
    for member in ("alice", "carol"):
        with _as(test_vault, member, clock) as approver:
            approver.approve_release(request_id)
    clock.advance(timedelta(days=3))
    desk = age.X25519Identity.generate()
    with _as(test_vault, "dave", clock) as dave:
        sealed = dave.run_release(request_id, tmp_path / "out", recipient=str(desk.recipient))
    assert sealed.name.endswith(".tar.age")
    assert [p.name for p in (tmp_path / "out").iterdir()] == [sealed.name]
    plain = age.decrypt(sealed.read_bytes(), [desk])
    with tarfile.open(fileobj=io.BytesIO(plain)) as archive:
        archive.extractall(tmp_path / "unpacked", filter="data")
    (bundle,) = (tmp_path / "unpacked").iterdir()
    report = verify_bundle(bundle)
    assert report.ok, report.problems
    assert report.files == 2
