"""How each source is doing, for the admin dashboard: its last good run, its last error and how
many articles a day it brings, above the raw run log (which is read a page at a time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlite_utils import Database

GOOD = ("ok", "not_modified", "no_issue")


@dataclass(frozen=True)
class SourceHealth:
    source_id: str
    name: str | None
    type: str | None
    last_run: str | None  # when the last run finished (UTC, ISO)
    last_status: str | None
    last_success: str | None  # the last run that finished ok (or had nothing new)
    last_error_at: str | None
    last_error: str | None
    per_day: float  # articles first seen a day, over the last `days` days
    runs: int  # runs in the last `days` days

    @property
    def failing(self) -> bool:
        return self.last_status not in GOOD and self.last_status is not None


def source_health(db: Database, days: int = 7, now: datetime | None = None) -> list[SourceHealth]:
    """One row per source (configured or seen in the run log), by id."""
    since = ((now or datetime.now(timezone.utc)) - timedelta(days=days)).isoformat()
    marks = ",".join("?" * len(GOOD))
    rows = db.execute(
        "SELECT ids.source_id, s.name, s.type, "
        " (SELECT finished FROM runs WHERE source_id = ids.source_id ORDER BY id DESC LIMIT 1),"
        " (SELECT status FROM runs WHERE source_id = ids.source_id ORDER BY id DESC LIMIT 1),"
        f" (SELECT max(finished) FROM runs WHERE source_id = ids.source_id AND status IN ({marks})),"
        " (SELECT finished FROM runs WHERE source_id = ids.source_id AND error IS NOT NULL"
        "  AND error != '' ORDER BY id DESC LIMIT 1),"
        " (SELECT error FROM runs WHERE source_id = ids.source_id AND error IS NOT NULL"
        "  AND error != '' ORDER BY id DESC LIMIT 1),"
        " (SELECT count(*) FROM articles WHERE source_id = ids.source_id AND first_seen >= ?),"
        " (SELECT count(*) FROM runs WHERE source_id = ids.source_id AND started >= ?) "
        "FROM (SELECT id AS source_id FROM sources UNION SELECT source_id FROM runs) ids "
        "LEFT JOIN sources s ON s.id = ids.source_id ORDER BY ids.source_id",
        [*GOOD, since, since]).fetchall()
    return [SourceHealth(sid, name, kind, last, status, ok, err_at, err, round(n / days, 1), runs)
            for sid, name, kind, last, status, ok, err_at, err, n, runs in rows]


def runs_page(db: Database, page: int, per_page: int = 20) -> tuple[list[dict], int]:
    """The run log, newest first, one page of it (each run with its source's name); and the
    number of pages."""
    total = db.execute("SELECT count(*) FROM runs").fetchone()[0]
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = list(db.query("SELECT r.*, s.name AS source_name FROM runs r LEFT JOIN sources s "
                         "ON s.id = r.source_id ORDER BY r.id DESC LIMIT ? OFFSET ?",
                         [per_page, (page - 1) * per_page]))
    return rows, pages
