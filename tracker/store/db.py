"""Opening the database and writing to it safely from several processes.

The schema is brought up to date once, when a process starts (`migrate`: the web app, the worker,
each CLI command); every later connection only opens the file. A connection that only reads
never takes the write lock: in WAL mode it reads its snapshot while the worker writes.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import sqlite_utils

BUSY_TIMEOUT_MS = 10_000


def _open(path: Path, *, read_only: bool = False) -> sqlite_utils.Database:
    path.parent.mkdir(parents=True, exist_ok=True)
    # isolation_level=None: no implicit deferred BEGIN; `transaction` says BEGIN IMMEDIATE.
    conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000,
                           check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        conn.execute("PRAGMA journal_mode = WAL")  # once per file; a read needs no lock for it
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    if read_only:
        conn.execute("PRAGMA query_only = ON")
    return sqlite_utils.Database(conn)


def pending_migrations(db: sqlite_utils.Database) -> list[str]:
    """The names of the migrations this archive lacks (a read: no lock is taken)."""
    from tracker.store.schema import migrations

    return [m.name for m in migrations.pending(db)]


def _bring_up_to_date(db: sqlite_utils.Database) -> list[str]:
    if not pending_migrations(db):  # the usual case: a read, no lock
        return []
    from tracker.store.schema import migrations

    with transaction(db):
        todo = pending_migrations(db)  # another process may have done it meanwhile
        migrations.apply(db)
    return todo


def migrate(path: str | Path) -> list[str]:
    """Bring the archive at `path` (created if missing) up to date; the migrations applied.
    Called once when a process starts, never per request."""
    db = _open(Path(path))
    try:
        return _bring_up_to_date(db)
    finally:
        db.conn.close()


def connect(path: str | Path, *, migrate: bool = True,
            read_only: bool = False) -> sqlite_utils.Database:
    """The database at `path` (created if missing), in WAL mode.

    migrate=True brings the schema up to date, taking the write lock only when a migration is
    actually pending; migrate=False trusts that the process did it at start (`migrate`).
    read_only=True refuses writes (PRAGMA query_only): what a web request that only shows data
    opens."""
    db = _open(Path(path), read_only=read_only)
    if migrate and not read_only:
        _bring_up_to_date(db)
    return db


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """A write transaction that holds the write lock from its first statement."""
    conn = db.conn
    if conn.in_transaction:  # nested: the outer transaction decides
        yield db
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
