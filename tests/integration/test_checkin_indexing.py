"""Check-in indexes committed batches' text on a writer thread while the next batches are
committed: every batch ends up searchable, a batch that cannot be written fails the run, and the
writer and the commits never hold the catalog at once."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, event

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


class _OwnedLock:
    """A lock that knows which thread holds it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.owner: int | None = None

    def __enter__(self) -> None:
        self._lock.acquire()
        self.owner = threading.get_ident()

    def __exit__(self, *_: object) -> None:
        self.owner = None
        self._lock.release()


def test_every_catalog_transaction_of_a_run_holds_the_writers_lock(
    test_vault: TestVault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer's and the batch commits' transactions take turns: none starts unlocked."""
    monkeypatch.setattr(checkin, "BATCH_FILES", 3)
    monkeypatch.setattr(indexing, "GROUP", 3)
    writers: list[_OwnedLock] = []
    start, close = indexing.IndexWriter.__init__, indexing.IndexWriter.close

    def starting(writer: indexing.IndexWriter) -> None:
        start(writer)
        lock = _OwnedLock()  # used as the writer uses its lock, and it tells who holds it
        writer.lock = lock  # type: ignore[assignment]
        writers.append(lock)

    def closing(writer: indexing.IndexWriter) -> None:
        close(writer)
        writers.clear()  # the run is over: what follows is not its

    begun: list[tuple[str, bool]] = []  # the thread, and whether it held the lock

    def on_begin(conn: Connection) -> None:
        if writers and str(conn.engine.url.database).endswith("catalog.db"):
            begun.append(
                (threading.current_thread().name, writers[0].owner == threading.get_ident())
            )

    monkeypatch.setattr(indexing.IndexWriter, "__init__", starting)
    monkeypatch.setattr(indexing.IndexWriter, "close", closing)
    root = _folder(tmp_path)
    event.listen(Engine, "begin", on_begin)
    try:
        with test_vault.open() as vault:
            vault.check_in([root], collection="leak")
    finally:
        event.remove(Engine, "begin", on_begin)
    assert {name.split("_")[0] for name, _ in begun} == {"MainThread", "index"}
    assert all(held for _, held in begun), begun


def test_the_index_is_written_with_a_large_cache_and_merged_sixteen_segments_at_a_time(
    test_vault: TestVault, tmp_path: Path
) -> None:
    """The writer's connection sets the large cache; the merge setting is stored in the index."""
    written: list[tuple[Engine, str]] = []

    def on_execute(conn: Connection, _cursor: object, statement: str, *_: object) -> None:
        if threading.current_thread().name.startswith("index"):
            written.append((conn.engine, statement))

    root = _folder(tmp_path)
    event.listen(Engine, "before_cursor_execute", on_execute)
    try:
        with test_vault.open() as vault:
            vault.check_in([root], collection="leak")
            engine = written[0][0]
            with engine.connect() as conn:
                stored = conn.exec_driver_sql(
                    "SELECT v FROM document_text_config WHERE k = 'automerge'"
                ).scalar()
            assert vault.search(WORDS[3])
    finally:
        event.remove(Engine, "before_cursor_execute", on_execute)
    statements = [statement for _, statement in written]
    assert f"PRAGMA cache_size = -{indexing.WRITE_CACHE_KIB}" in statements
    assert stored == indexing.AUTOMERGE == 16
