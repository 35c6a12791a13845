"""Confirming the acting member's passphrase again, as the terminal app does before approving."""

from __future__ import annotations

import pytest

from tests.vaults import PASSPHRASES, TestVault
from vault.errors import BadCredentials
from vault.keys.member import KdfParams, MemberKeys, key_file_path


def test_the_right_passphrase_is_confirmed_and_nothing_is_logged(test_vault: TestVault) -> None:
    with test_vault.open("carol") as carol:
        first = len(list(carol.audit_entries()))
        reading = len(list(carol.audit_entries())) - first  # reading the log is itself logged
        before = first + reading
        carol.confirm_passphrase(PASSPHRASES["carol"])
        assert len(list(carol.audit_entries())) == before + reading
        assert [m.name for m in carol.members()] == ["alice", "bob", "carol"]  # still unlocked


@pytest.mark.parametrize(
    "typed", [b"carol passphrase ", b"", PASSPHRASES["bob"]], ids=["typo", "empty", "another's"]
)
def test_a_wrong_passphrase_is_bad_credentials(test_vault: TestVault, typed: bytes) -> None:
    with test_vault.open("carol") as carol:
        with pytest.raises(BadCredentials, match="wrong passphrase") as caught:
            carol.confirm_passphrase(typed)
        assert caught.value.exit_code == 5
        carol.confirm_passphrase(PASSPHRASES["carol"])  # a wrong try changes nothing


def test_a_key_file_resealed_with_other_keys_is_refused(test_vault: TestVault) -> None:
    with test_vault.open("carol") as carol:
        anchor = bytes(32)
        impostor = MemberKeys.generate("carol", anchor).seal(b"new passphrase", KdfParams())
        key_file_path(test_vault.path, "carol").write_bytes(impostor)
        with pytest.raises(BadCredentials, match="no longer holds the keys"):
            carol.confirm_passphrase(b"new passphrase")
