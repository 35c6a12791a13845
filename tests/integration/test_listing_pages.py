"""A listing in pages: the first screenful before the rest, the same documents, one audit entry."""

from __future__ import annotations

from pathlib import Path

from tests.vaults import TestVault
from vault.service import Filter


def _fill(test_vault: TestVault, folder: Path, count: int) -> None:
    folder.mkdir()
    for i in range(count):
        (folder / f"doc-{i:02}.txt").write_text(f"document {i}\n")
    with test_vault.open() as vault:
        vault.check_in([folder], collection="leak", source="tests")


def test_pages_hold_the_listing_in_order_first_page_first(
    test_vault: TestVault, tmp_path: Path
) -> None:
    _fill(test_vault, tmp_path / "leak", 12)
    with test_vault.open() as vault:
        whole = vault.documents("leak")
        pages = list(vault.document_pages("leak", first=5))
        one = list(vault.document_pages("leak", first=50))
        everything = list(vault.document_pages("leak"))
        exact = list(vault.document_pages("leak", first=12))
    assert len(whole) == 12
    assert [len(page) for page in pages] == [5, 7]
    assert pages[0] + pages[1] == whole
    assert one == [whole]  # no more documents than the first page: one page
    assert everything == [whole]
    assert exact == [whole]  # no empty page after a first page that held everything


def test_a_filtered_first_page_counts_documents_that_pass(
    test_vault: TestVault, tmp_path: Path
) -> None:
    _fill(test_vault, tmp_path / "leak", 12)
    where = Filter(tag="ledger")
    with test_vault.open() as vault:
        for document in vault.documents("leak")[::3]:
            vault.tag(document.oid, ["ledger"])
        wanted = vault.documents("leak", where)
        first, rest = vault.document_pages("leak", where, first=2)
    assert len(wanted) == 4
    assert len(first) >= 2
    assert first + rest == wanted


def test_a_paged_listing_is_audited_once(test_vault: TestVault, tmp_path: Path) -> None:
    _fill(test_vault, tmp_path / "leak", 6)
    with test_vault.open() as vault:
        before = [e.action for e in vault.audit_entries()].count("list")
        pages = list(vault.document_pages("leak", first=2))
        after = [e.action for e in vault.audit_entries()].count("list")
    assert len(pages) == 2
    assert after == before + 1
