"""`vault release approve` through the real command: who sees a request, and when."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.vaults import TestVault

REASON = "source K confirmed the ledger"


def _request(test_vault: TestVault, tmp_path: Path) -> tuple[str, str]:
    """A release request by alice for one document; its id and the document's oid."""
    memo = tmp_path / "memo.txt"
    memo.write_bytes(b"transfer of 2 million to the offshore account\n")
    with test_vault.open() as alice:
        alice.check_in([memo], collection="leak", source="tests")
        (doc,) = alice.documents("leak")
        view = alice.request_release("leak", documents=[doc.oid], reason=REASON)
    return view.id, doc.oid


def test_a_member_who_may_not_approve_is_refused_before_seeing_the_request(
    test_vault: TestVault, tmp_path: Path
) -> None:
    request, oid = _request(test_vault, tmp_path)
    refused = test_vault.cli("release", "approve", request, "--yes", member="bob")  # reporter
    assert refused.returncode == 3, refused.stderr
    shown = refused.stdout + refused.stderr
    assert REASON.encode() not in shown
    assert oid.encode() not in shown
    assert b"documents" not in shown
    assert b"Traceback" not in shown


def test_an_approver_sees_the_request_and_signs_it(test_vault: TestVault, tmp_path: Path) -> None:
    request, oid = _request(test_vault, tmp_path)
    approved = test_vault.cli("release", "approve", request, "--yes", member="carol")  # legal
    assert approved.returncode == 0, approved.stderr
    assert REASON.encode() in approved.stderr
    assert oid.encode() in approved.stderr
    assert b"approvers so far: carol" in approved.stdout


def test_the_requester_is_refused_before_seeing_the_request_again(
    test_vault: TestVault, tmp_path: Path
) -> None:
    request, oid = _request(test_vault, tmp_path)
    refused = test_vault.cli("release", "approve", request, "--yes", member="alice")
    assert refused.returncode == 3, refused.stderr
    assert REASON.encode() not in refused.stderr
    assert oid.encode() not in refused.stderr


def test_release_list_counts_down_as_the_terminal_app_does(
    test_vault: TestVault, tmp_path: Path
) -> None:
    memo = tmp_path / "memo.txt"
    memo.write_bytes(b"the ledger\n")
    with test_vault.open() as alice:
        alice.check_in([memo], collection="leak", source="tests")
        later = alice.now() + timedelta(days=2, hours=3, minutes=30)
        view = alice.request_release("leak", reason=REASON, not_before=later)
    listed = test_vault.cli("release", "list", member="alice")
    assert listed.returncode == 0, listed.stderr
    (row,) = [line for line in listed.stdout.decode().splitlines() if line.startswith(view.id)]
    assert "in 2 d 3 h" in row  # the terminal app's queue says the same
