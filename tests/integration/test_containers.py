"""Containers through the service: an archive's members name it, loose files name no container."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tests.vaults import TestVault
from vault.errors import NotFound


def test_members_of_an_archive_name_it_and_loose_files_name_none(
    test_vault: TestVault, tmp_path: Path
) -> None:
    dump = tmp_path / "dump"
    dump.mkdir()
    (dump / "memo.txt").write_text("a memo\n")
    with zipfile.ZipFile(dump / "box.zip", "w") as archive:
        archive.writestr("inner/a.txt", "alpha\n")
        archive.writestr("memo.txt", "a memo\n")  # the same bytes as the loose memo
    with test_vault.open() as vault:
        vault.check_in([dump], collection="leak", source="tests")
        by_name = {d.name: d.oid for d in vault.documents("leak")}
        placed = vault.containers("leak")
    box = by_name["box.zip"]
    assert placed[box] == (None,)
    assert placed[by_name["a.txt"]] == (box,)
    assert set(placed[by_name["memo.txt"]]) == {None, box}  # found loose and in the archive
    assert set(placed) == set(by_name.values())


def test_containers_of_a_collection_one_does_not_hold(test_vault: TestVault) -> None:
    with test_vault.open("carol") as vault, pytest.raises(NotFound):
        vault.containers("leak")
