"""The archive in SQLite (sqlite-utils), one module per entity.

    db = connect(path)        # WAL, busy timeout, foreign keys; schema migrated on open
    with transaction(db):     # BEGIN IMMEDIATE: the writer takes the lock before it reads
        ...

Every write goes through `transaction`: a deferred BEGIN that reads and then writes fails at
once with SQLITE_BUSY_SNAPSHOT when another process wrote meanwhile, and busy_timeout does not
help there; BEGIN IMMEDIATE waits (up to the busy timeout) for the lock instead.
"""

from tracker.store.db import connect, transaction

__all__ = ["connect", "transaction"]
