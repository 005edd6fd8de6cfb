"""Source health episodes and the admin's notices about them (tables `health_episodes`,
`admin_notices`): rows only; what makes an episode is tracker.ops.source_health, who is told
and how is tracker.alerts.admin."""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

SENDABLE = ("pending", "failed")


@dataclass(frozen=True)
class Episode:
    id: int
    source_id: str
    kind: str
    started_at: str
    ended_at: str | None
    detail: str | None
    end_detail: str | None = None


@dataclass(frozen=True)
class AdminNotice:
    id: int
    episode_id: int | None
    event: str  # "start" | "end"
    subject: str
    body: str
    attempts: int
    message_id: str | None
    created_at: str
    source_id: str | None
    kind: str | None


def recent_runs(db: Database, source_id: str, limit: int = 60) -> list[dict]:
    """The newest `limit` finished runs of `source_id`, oldest first."""
    rows = db.execute("SELECT status, started, finished, fetched, new_articles, error FROM runs "
                      "WHERE source_id = ? AND status != 'running' ORDER BY id DESC LIMIT ?",
                      [source_id, limit]).fetchall()
    keys = ("status", "started", "finished", "fetched", "new_articles", "error")
    return [dict(zip(keys, row)) for row in reversed(rows)]


def _episode(row: tuple) -> Episode:
    return Episode(*row)


_EPISODE = "SELECT id, source_id, kind, started_at, ended_at, detail, end_detail FROM health_episodes"


def open_episodes(db: Database, source_id: str | None = None) -> list[Episode]:
    """Episodes not ended yet (of one source, or all), oldest first."""
    where, params = ("WHERE ended_at IS NULL AND source_id = ?", [source_id]) if source_id \
        else ("WHERE ended_at IS NULL", [])
    return [_episode(r) for r in db.execute(f"{_EPISODE} {where} ORDER BY id", params)]


def recent_episodes(db: Database, limit: int = 20) -> list[Episode]:
    """The newest episodes, open or ended."""
    return [_episode(r) for r in db.execute(f"{_EPISODE} ORDER BY id DESC LIMIT ?", [limit])]


def start_episode(db: Database, source_id: str, kind: str, at: str, detail: str) -> int:
    """In a transaction."""
    return db.execute("INSERT INTO health_episodes (source_id, kind, started_at, detail) "
                      "VALUES (?, ?, ?, ?)", [source_id, kind, at, detail]).lastrowid


def end_episode(db: Database, episode_id: int, at: str, detail: str) -> None:
    """In a transaction."""
    db.execute("UPDATE health_episodes SET ended_at = ?, end_detail = ? WHERE id = ?",
               [at, detail, episode_id])


def add_admin_notice(db: Database, episode_id: int | None, event: str, subject: str, body: str,
                     at: str, message_id: str, target: str | None) -> int:
    """Queue one notice to the admin. In a transaction."""
    return db.execute(
        "INSERT INTO admin_notices (episode_id, event, created_at, subject, body, status, "
        "attempts, next_attempt_at, message_id, target) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, "
        "?, ?)", [episode_id, event, at, subject, body, at, message_id, target]).lastrowid


def due_admin_notices(db: Database, now: str, limit: int = 100) -> list[AdminNotice]:
    rows = db.execute(
        "SELECT n.id, n.episode_id, n.event, n.subject, n.body, n.attempts, n.message_id, "
        "n.created_at, e.source_id, e.kind FROM admin_notices n "
        "LEFT JOIN health_episodes e ON e.id = n.episode_id "
        "WHERE n.status IN ('pending', 'failed') AND n.next_attempt_at <= ? "
        "ORDER BY n.id LIMIT ?", [now, limit]).fetchall()
    return [AdminNotice(*row) for row in rows]


def finish_admin_notice(db: Database, notice_id: int, *, status: str, attempts: int,
                        at: str, next_attempt_at: str | None = None,
                        error: str | None = None) -> None:
    """Record one attempt's outcome: sent, failed (retried at `next_attempt_at`) or dead."""
    db.execute("UPDATE admin_notices SET status = ?, attempts = ?, next_attempt_at = ?, "
               "last_error = ?, sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END "
               "WHERE id = ?", [status, attempts, next_attempt_at, error, status, at, notice_id])


def admin_notice_counts(db: Database) -> dict[str, int]:
    return dict(db.execute("SELECT status, count(*) FROM admin_notices GROUP BY status"))
