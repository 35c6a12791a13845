"""Check-in indexes committed batches' text on a writer thread while the next batches are
committed: every batch ends up searchable, and a batch that cannot be written fails the run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.vaults import TestVault
from vault.service import checkin, indexing

WORDS = [f"zeugma{index:02d}" for index in range(11)]


def _folder(tmp_path: Path) -> Path:
    """Memos with a word of their own each, and unsigned mails between them."""
    root = tmp_path / "leak"
    root.mkdir()
    for index, word in enumerate(WORDS):
        (root / f"memo-{index:02d}.txt").write_text(f"memo {index} mentions {word}\n")
        (root / f"mail-{index:02d}.eml").write_bytes(
            b"From: a@example.org\r\nTo: b@example.org\r\nSubject: s\r\n\r\nmail "
            + str(index).encode()
            + b"\r\n"
        )
    return root


@pytest.mark.parametrize("group", [3, indexing.GROUP], ids=["batch-by-batch", "all-at-the-end"])
def test_every_batch_is_indexed_while_the_next_is_committed(
    test_vault: TestVault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, group: int
) -> None:
    monkeypatch.setattr(checkin, "BATCH_FILES", 3)  # eight batches
    monkeypatch.setattr(indexing, "GROUP", group)
    root = _folder(tmp_path)
    with test_vault.open() as vault:
        receipt = vault.check_in([root], collection="leak")
        assert receipt.counts()["new"] == 2 * len(WORDS)
        for word in WORDS:
            assert [h.document.name for h in vault.search(word)] == [
                f"memo-{WORDS.index(word):02d}.txt"
            ]
        mails = [d for d in vault.documents("leak") if d.name.endswith(".eml")]
        assert {d.dkim for d in mails} == {"no-signature"}


def test_a_batch_that_cannot_be_indexed_fails_the_run(
    test_vault: TestVault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkin, "BATCH_FILES", 3)
    monkeypatch.setattr(indexing, "GROUP", 3)
    rows = indexing.Indexing.rows
    calls: list[int] = []

    def failing(
        batch: indexing.Indexing,
    ) -> tuple[list[indexing.TextRow], list[indexing.StatusRow]]:
        calls.append(len(calls))
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return rows(batch)

    monkeypatch.setattr(indexing.Indexing, "rows", failing)
    root = _folder(tmp_path)
    with test_vault.open() as vault:
        with pytest.raises(OSError, match="No space left"):
            vault.check_in([root], collection="leak")
        monkeypatch.setattr(indexing.Indexing, "rows", rows)
        evidence = {d.name: d.dkim for d in vault.documents("leak")}
        # The mails walked first were indexed, in the one batch written before the failure.
        first = [evidence[f"mail-{index:02d}.eml"] for index in range(4)]
        assert first == ["no-signature"] * 3 + [""]
        assert vault.check(read_data=True).ok
    assert not any((test_vault.path / "tmp").iterdir())
