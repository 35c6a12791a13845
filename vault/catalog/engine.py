"""Opening SQLCipher databases with raw keys through SQLAlchemy.

Both `vault.db` and each collection's `catalog.db` are SQLCipher databases (dialect
`sqlite+pysqlcipher`, driver `sqlcipher3`) keyed with a raw 256-bit key derived from a vault or
collection secret, never a passphrase. SQLCipher authenticates every page with an HMAC, so a
flipped byte is an error on read, and `cipher_integrity_check` finds it without reading rows.
Temporary tables stay in memory and deleted content is overwritten.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlcipher3
from sqlalchemy import URL, Engine, create_engine, event
from sqlalchemy.exc import DatabaseError
from sqlalchemy.pool import NullPool

from vault.errors import IntegrityError


def open_engine(path: Path, key: bytes) -> Engine:
    """An engine on an encrypted database (created on first use).

    Raises:
        IntegrityError: the file is not a database under this key (damaged or wrong key).
    """
    url = URL.create("sqlite+pysqlcipher", password=f"x'{key.hex()}'", database=str(path))
    # NullPool: each session opens its own connection, so threads (the terminal app's workers)
    # never share one, and nothing stays open after the vault is closed.
    engine = create_engine(url, module=sqlcipher3, poolclass=NullPool)
    event.listen(engine, "connect", _pragmas)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").all()
    except DatabaseError:
        engine.dispose()
        raise IntegrityError(
            f"{path.name} cannot be opened: damaged, or not this vault's"
        ) from None
    return engine


def integrity_problems(engine: Engine) -> list[str]:
    """Pages that fail SQLCipher's HMAC, and SQLite's own structural check."""
    problems = _pragma_rows(engine, "cipher_integrity_check")
    if not problems:
        # The structural check only means something once every page authenticates.
        result = _pragma_rows(engine, "integrity_check")
        if result != ["ok"]:
            problems.extend(result)
    return problems


def _pragma_rows(engine: Engine, pragma: str) -> list[str]:
    try:
        with engine.connect() as conn:
            return [str(row[0]) for row in conn.exec_driver_sql(f"PRAGMA {pragma}")]
    except DatabaseError:
        return [f"the database cannot be read ({pragma} failed)"]


def _pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA secure_delete = ON")
    cursor.execute("PRAGMA temp_store = MEMORY")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA busy_timeout = 30000")
    cursor.close()
