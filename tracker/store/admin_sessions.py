"""Admin sessions: the server-side ids of logged-in admins (a cookie alone is worth nothing
once its id is gone from here)."""

from __future__ import annotations

from sqlite_utils import Database

from tracker.store.clock import now


def add_session(db: Database, session_id: str, remote_addr: str | None, oldest: str) -> None:
    """A new session; sessions started before `oldest` are dropped. In a transaction."""
    db.execute("DELETE FROM admin_sessions WHERE created_at < ?", [oldest])
    db["admin_sessions"].insert({"id": session_id, "created_at": now(),
                                 "remote_addr": remote_addr})


def end_session(db: Database, session_id: str) -> None:
    """The session forgotten. In a transaction."""
    db.execute("DELETE FROM admin_sessions WHERE id = ?", [session_id])


def session_alive(db: Database, session_id: str, oldest: str) -> bool:
    """Whether the session exists and started at or after `oldest`."""
    return db.execute("SELECT 1 FROM admin_sessions WHERE id = ? AND created_at >= ?",
                      [session_id, oldest]).fetchone() is not None
