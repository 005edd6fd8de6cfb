"""The archive in SQLite (sqlite-utils), one module per entity: sources, articles (and their
full-text index, fts), hits and personal hits, subscriptions, outbox, deliveries, notices, runs,
revisions, locks, admin sessions; search/latest/trends read across them; schema holds the
migrations.

Storage knows rows, not fetchers or pages: it may use tracker.text (match keys), the rows the
matcher hands over (tracker.matching's RuleMatch) and the layers below, never tracker.sources,
tracker.splitter or anything above it (checked by `make lint`). What a row means to people (the
passage shown, the words of a page) is decided by the callers.

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
