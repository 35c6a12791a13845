"""SQLCipher catalogs: keyed with raw keys, encrypted at rest, and every damaged page noticed."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlcipher3
from sqlalchemy import Engine, Table
from sqlmodel import Session, SQLModel, select

from vault.catalog.engine import integrity_problems, open_engine
from vault.catalog.models import CatalogTable, CollectionInfo, Document, Intake, Occurrence
from vault.errors import IntegrityError

CANARY = "EMBARGO-CANARY-Q7ZX-electoral-silence"
PAGE = 4096
AT = datetime(2017, 5, 5, 18, 0, tzinfo=UTC)


def _tables() -> list[Table]:
    return [
        table
        for sub in CatalogTable.__subclasses__()
        if isinstance(table := getattr(sub, "__table__", None), Table)
    ]


def _create(engine: Engine) -> None:
    SQLModel.metadata.create_all(engine, tables=_tables())


def _fill(engine: Engine, rows: int) -> None:
    _create(engine)
    with Session(engine) as session:
        session.add(
            CollectionInfo(name=f"{CANARY} name", description=CANARY, created_at=AT, created_by="a")
        )
        session.add(Intake(id=1, member="alice", at=AT, source=f"{CANARY} source"))
        for i in range(rows):
            oid = f"{i:064x}"
            session.add(
                Document(
                    oid=oid,
                    name=f"{CANARY}-{i}.eml",
                    size=i,
                    sha256="0" * 64,
                    key_version=1,
                    description=CANARY * 3,
                    first_seen=AT,
                )
            )
            session.add(Occurrence(oid=oid, intake_id=1, path=f"dump/{CANARY}/{i}", raw_path="x"))
        session.commit()


@pytest.fixture(scope="module")
def key() -> bytes:
    return os.urandom(32)


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory, key: bytes) -> Path:
    """A catalog with a few dozen pages of rows, written and closed."""
    path = tmp_path_factory.mktemp("catalog") / "catalog.db"
    engine = open_engine(path, key)
    try:
        _fill(engine, 150)
    finally:
        engine.dispose()
    return path


def _count_documents(engine: Engine) -> int:
    with Session(engine) as session:
        return len(session.exec(select(Document)).all())


def test_new_catalog_reopens_with_its_key(tmp_path: Path, key: bytes) -> None:
    path = tmp_path / "catalog.db"
    engine = open_engine(path, key)
    try:
        _fill(engine, 3)
    finally:
        engine.dispose()
    again = open_engine(path, key)
    try:
        assert _count_documents(again) == 3
        with Session(again) as session:
            info = session.exec(select(CollectionInfo)).one()
        assert info.description == CANARY
        assert integrity_problems(again) == []
    finally:
        again.dispose()


def test_wrong_key_is_an_integrity_error(filled: Path, key: bytes) -> None:
    other = bytearray(key)
    other[0] ^= 0x01
    for wrong in (bytes(other), os.urandom(32)):
        with pytest.raises(IntegrityError, match="cannot be opened"):
            open_engine(filled, wrong)


def test_a_plain_sqlite_file_is_refused(tmp_path: Path, key: bytes) -> None:
    import sqlite3

    path = tmp_path / "plain.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE document (name TEXT)")
    with pytest.raises(IntegrityError):
        open_engine(path, key)


def test_nothing_readable_reaches_the_disk(filled: Path) -> None:
    raw = filled.read_bytes()
    assert not raw.startswith(b"SQLite format 3")
    for needle in (CANARY.encode(), CANARY.encode("utf-16-le"), b"CREATE TABLE", b"document"):
        assert needle not in raw
    # No journal, WAL or other side file is left holding plaintext either.
    assert sorted(p.name for p in filled.parent.iterdir()) == ["catalog.db"]


def test_the_key_is_used_raw_not_as_a_passphrase(filled: Path, key: bytes) -> None:
    # A third party (or a recovery script) opens the file with SQLCipher's raw-key syntax.
    conn = sqlcipher3.connect(str(filled))
    try:
        conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        (count,) = conn.execute("SELECT count(*) FROM document").fetchone()
        assert count == 150
    finally:
        conn.close()
    conn = sqlcipher3.connect(str(filled))
    try:
        conn.execute(f"PRAGMA key = '{key.hex()}'")  # the same text as a passphrase
        with pytest.raises(sqlcipher3.DatabaseError):
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    finally:
        conn.close()


def test_connections_are_hardened(filled: Path, key: bytes) -> None:
    engine = open_engine(filled, key)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA temp_store").scalar() == 2  # MEMORY
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


def _damaged_copy(original: bytes, position: int, mask: int, where: Path) -> Path:
    data = bytearray(original)
    data[position] ^= mask
    where.write_bytes(bytes(data))
    return where


def _refused(path: Path, key: bytes) -> bool:
    try:
        engine = open_engine(path, key)
    except IntegrityError:
        return True
    try:
        return bool(integrity_problems(engine))
    finally:
        engine.dispose()


def test_a_flipped_byte_in_any_page_is_reported(tmp_path: Path, filled: Path, key: bytes) -> None:
    original = filled.read_bytes()
    assert len(original) % PAGE == 0
    pages = len(original) // PAGE
    assert pages > 20
    offsets = [0, 15, 16, 100, PAGE // 2, PAGE - 80, PAGE - 20, PAGE - 1]  # data, IV and HMAC
    silent = []
    for page in range(pages):
        for offset in offsets:
            position = page * PAGE + offset
            target = _damaged_copy(original, position, 0x04, tmp_path / f"d{position}.db")
            if not _refused(target, key):
                silent.append(position)
            target.unlink()
    assert silent == []


def test_flip_in_page_one_is_refused_at_open(tmp_path: Path, filled: Path, key: bytes) -> None:
    target = _damaged_copy(filled.read_bytes(), 200, 0x01, tmp_path / "d.db")
    with pytest.raises(IntegrityError):
        open_engine(target, key)


def test_flip_in_a_later_page_is_found_by_the_check(
    tmp_path: Path, filled: Path, key: bytes
) -> None:
    original = filled.read_bytes()
    last = len(original) // PAGE - 1
    target = _damaged_copy(original, last * PAGE + 1000, 0x01, tmp_path / "d.db")
    engine = open_engine(target, key)  # page 1 is intact: opening alone cannot notice
    try:
        problems = integrity_problems(engine)
    finally:
        engine.dispose()
    assert problems
    assert any(str(last + 1) in p for p in problems)


@pytest.mark.parametrize("pages", [1, 5])
def test_truncated_catalog_is_refused(tmp_path: Path, filled: Path, key: bytes, pages: int) -> None:
    target = tmp_path / "d.db"
    target.write_bytes(filled.read_bytes()[: -pages * PAGE])
    assert _refused(target, key)


def test_pages_swapped_within_the_file_are_refused(
    tmp_path: Path, filled: Path, key: bytes
) -> None:
    # Each page's HMAC covers its page number: moving a valid page elsewhere is noticed.
    data = bytearray(filled.read_bytes())
    a, b = 3 * PAGE, 7 * PAGE
    data[a : a + PAGE], data[b : b + PAGE] = data[b : b + PAGE], data[a : a + PAGE]
    target = tmp_path / "d.db"
    target.write_bytes(bytes(data))
    assert _refused(target, key)


def test_catalog_from_another_collection_is_refused(
    tmp_path: Path, filled: Path, key: bytes
) -> None:
    other_key = os.urandom(32)
    other = tmp_path / "other.db"
    engine = open_engine(other, other_key)
    try:
        _fill(engine, 2)
    finally:
        engine.dispose()
    swapped = tmp_path / "catalog.db"
    shutil.copyfile(other, swapped)
    with pytest.raises(IntegrityError):
        open_engine(swapped, key)
