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


# Migrations of released versions renamed so that their names run in the order they apply (two
# were numbered out of order, two shared a number): an archive that applied them under the old
# names has its record renamed first, so nothing runs twice.
RENAMED = {"m005_security": "m004_security", "m004_notices": "m005_notices",
           "m006_trend_counts": "m007_trend_counts"}


def _rename_recorded(db: sqlite_utils.Database) -> None:
    """Give the migrations this archive applied under an old name (RENAMED) their new one."""
    if not db["_sqlite_migrations"].exists():
        return
    marks = ",".join("?" * len(RENAMED))
    old = db.execute(f"SELECT count(*) FROM _sqlite_migrations WHERE migration_set = 'tracker' "
                     f"AND name IN ({marks})", list(RENAMED)).fetchone()[0]
    if not old:  # the usual case: a read, no lock
        return
    with transaction(db):
        for before, after in RENAMED.items():
            db.execute("UPDATE _sqlite_migrations SET name = ? WHERE migration_set = 'tracker' "
                       "AND name = ?", [after + "\x00", before])
        for after in RENAMED.values():  # in two steps: m004 and m005 trade names
            db.execute("UPDATE _sqlite_migrations SET name = ? WHERE migration_set = 'tracker' "
                       "AND name = ?", [after, after + "\x00"])


def _bring_up_to_date(db: sqlite_utils.Database) -> list[str]:
    _rename_recorded(db)
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
