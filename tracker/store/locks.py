"""A lock in the database, so that a second worker started by mistake does not double the work.

The holder refreshes `heartbeat_at` while it runs; a lock whose heartbeat is older than `stale`
seconds belongs to a worker that died and may be taken over.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Callable

from sqlite_utils import Database

from tracker.store.clock import now
from tracker.store.db import transaction

STALE_SECONDS = 120
HEARTBEAT_SECONDS = 30  # how often the holder says it is alive (LOCK_HEARTBEAT_SECONDS)


def acquire(db: Database, name: str, holder: str, stale: float = STALE_SECONDS,
            gone: Callable[[str], bool] = lambda holder: False) -> str | None:
    """Take the lock; None when taken, else who holds it and since when. A lock is free when its
    heartbeat is older than `stale` seconds or `gone(holder)` says its holder no longer runs."""
    with transaction(db):
        row = db.execute("SELECT holder, acquired_at, heartbeat_at FROM locks WHERE name = ?",
                         [name]).fetchone()
        if row and row[0] != holder and not gone(row[0]):
            beat = datetime.fromisoformat(row[2])
            if datetime.now(timezone.utc) - beat < timedelta(seconds=stale):
                return f"{row[0]} (since {row[1]}, last seen {row[2]})"
        stamp = now()
        db.execute("INSERT OR REPLACE INTO locks (name, holder, acquired_at, heartbeat_at) "
                   "VALUES (?, ?, ?, ?)", [name, holder, stamp, stamp])
    return None


def heartbeat(db: Database, name: str, holder: str) -> bool:
    """Say the holder is alive; False when the lock is no longer ours."""
    with transaction(db):
        cursor = db.execute("UPDATE locks SET heartbeat_at = ? WHERE name = ? AND holder = ?",
                            [now(), name, holder])
    return cursor.rowcount == 1


def release(db: Database, name: str, holder: str) -> None:
    with transaction(db):
        db.execute("DELETE FROM locks WHERE name = ? AND holder = ?", [name, holder])
