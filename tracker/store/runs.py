"""Fetch runs: when each source was fetched, how it ended, what it brought."""

from __future__ import annotations

from sqlite_utils import Database

from tracker.store.clock import now
from tracker.store.db import transaction


def start_run(db: Database, source_id: str) -> int:
    with transaction(db):
        return db["runs"].insert({"source_id": source_id, "started": now(),
                                  "status": "running"}).last_pk


def finish_run(db: Database, run_id: int, *, status: str, error: str | None = None,
               fetched: int = 0, new_articles: int = 0, hits: int = 0) -> None:
    with transaction(db):
        db["runs"].update(run_id, {"finished": now(), "status": status, "error": error,
                                   "fetched": fetched, "new_articles": new_articles,
                                   "hits": hits})


def last_runs(db: Database, limit: int = 20) -> list[dict]:
    return list(db["runs"].rows_where(order_by="id DESC", limit=limit))


def last_finished(db: Database) -> str | None:
    """When the latest fetch run finished (None: never), for the health check."""
    return db.execute("SELECT max(finished) FROM runs").fetchone()[0]
