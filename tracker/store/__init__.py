"""The archive in SQLite (sqlite-utils), one module per entity.

    migrate(path)             # once, when a process starts: the schema up to date
    db = connect(path, migrate=False)   # WAL, busy timeout, foreign keys
    with transaction(db):     # BEGIN IMMEDIATE: the writer takes the lock before it reads
        ...

Every write goes through `transaction`: a deferred BEGIN that reads and then writes fails at
once with SQLITE_BUSY_SNAPSHOT when another process wrote meanwhile, and busy_timeout does not
help there; BEGIN IMMEDIATE waits (up to the busy timeout) for the lock instead. A connection
that only reads (a web page) starts no transaction and never waits for the worker.
"""

from tracker.store.db import connect, migrate, transaction

__all__ = ["connect", "migrate", "transaction"]
