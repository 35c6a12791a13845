"""Fuzzing release-bundle verification: an edited bundle never verifies, and never crashes it.

`vault release verify` is what outsiders run on a bundle they were handed, so the bundle is
hostile input. One real bundle (two documents, two approvals) is edited — any file, any of the
byte edits of `tests.security.mutations`, files deleted, added, replaced by symlinks or by JSON
of the wrong shape — and checked with `vault.service.verify_bundle`. Properties:

- it never raises: every problem is a line of the report;
- after an edit of any signed or checked byte it is never ok. The only edits that may leave it
  ok are to a signature file's armor that leave the signature itself unchanged (whitespace).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.security.invoke import run
from tests.security.mutations import FUZZ, Mutation, edit_lists, mutate
from tests.security.shared import built_once
from tests.vaults import PASSPHRASES, make_vault
from vault.clock import FixedClock
from vault.errors import IntegrityError
from vault.release import sshsig
from vault.service import Vault, verify_bundle

DAVE = b"dave passphrase"


def _build(root: Path) -> None:
    test_vault = make_vault(root)
    clock = FixedClock(datetime.now(UTC) + timedelta(minutes=1))
    (root / "memo.txt").write_text("the memo\n")
    (root / "ledger.csv").write_bytes(os.urandom(3000))
    with Vault.open(test_vault.path, "alice", PASSPHRASES["alice"], clock=clock) as alice:
        alice.add_member("dave", ["editor"], DAVE)
        alice.grant("leak", "dave")
        alice.grant("leak", "carol")
        alice.check_in([root / "memo.txt", root / "ledger.csv"], collection="leak")
    with Vault.open(test_vault.path, "dave", DAVE, clock=clock) as dave:
        request = dave.request_release("leak", reason="after the vote").id
    for approver in ("alice", "carol"):
        with Vault.open(test_vault.path, approver, PASSPHRASES[approver], clock=clock) as member:
            member.approve_release(request)
    with Vault.open(test_vault.path, "dave", DAVE, clock=clock) as dave:
        bundle = dave.run_release(request, root / "out")
    bundle.rename(root / "bundle")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    made = built_once(tmp_path_factory, "fuzz-bundle", _build) / "bundle"
    assert verify_bundle(made).ok
    return made


def _members(bundle: Path) -> list[str]:
    return sorted(p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file())


@contextmanager
def edited_copy(bundle: Path) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / bundle.name
        shutil.copytree(bundle, copy)
        yield copy


def _same_signature(original: bytes, edited: bytes) -> bool:
    try:
        return sshsig._dearmor(edited.decode()) == sshsig._dearmor(original.decode())
    except (IntegrityError, UnicodeDecodeError):
        return False


@FUZZ
@given(which=st.integers(0, 100), edits=edit_lists)
def test_an_edited_file_never_verifies(bundle: Path, which: int, edits: list[Mutation]) -> None:
    members = _members(bundle)
    rel = members[which % len(members)]
    original = (bundle / rel).read_bytes()
    edited = mutate(original, edits)
    with edited_copy(bundle) as copy:
        (copy / rel).write_bytes(edited)
        report = verify_bundle(copy)
    if report.ok:
        assert edited == original or (rel.endswith(".sig") and _same_signature(original, edited)), (
            f"{rel} edited, and the bundle still verifies"
        )


SHAPES = ["[]", "{}", "null", "1", '"text"', '{"format": []}', "[" * 5000]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("rel", ["MANIFEST.json", "request.json", "roster.json"])
def test_json_of_the_wrong_shape_is_a_problem_not_a_crash(
    bundle: Path, rel: str, shape: str
) -> None:
    with edited_copy(bundle) as copy:
        (copy / rel).write_text(shape)
        report = verify_bundle(copy)
    assert not report.ok


STRUCTURE = ["delete", "extra file", "symlink to /dev/zero", "directory", "fifo"]


@pytest.mark.parametrize("how", STRUCTURE)
def test_files_removed_added_or_replaced_never_verify(bundle: Path, how: str) -> None:
    """Every member of the bundle in turn (an extra file goes beside the released ones)."""
    for rel in _members(bundle):
        with edited_copy(bundle) as copy:
            target = copy / rel
            if how == "extra file":
                (copy / "files" / "9999-planted.txt").write_text("planted\n")
            else:
                target.unlink()
            if how == "symlink to /dev/zero":
                target.symlink_to("/dev/zero")
            elif how == "directory":
                target.mkdir()
            elif how == "fifo":
                os.mkfifo(target)
            report = verify_bundle(copy)
        assert not report.ok, f"{rel}: {how}"


def test_the_command_reports_a_hostile_bundle_without_a_traceback(bundle: Path) -> None:
    with edited_copy(bundle) as copy:
        (copy / "roster.json").write_text("[]")
        (copy / "allowed_signers").unlink()
        (copy / "allowed_signers").symlink_to("/dev/zero")
        result = run("release", "verify", copy)
    assert result.code == 4, result.describe()
    assert not result.traceback
