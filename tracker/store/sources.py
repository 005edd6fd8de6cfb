"""Sources as the archive knows them: name and location, feed validators, files already read."""

from __future__ import annotations

from typing import Iterable

from sqlite_utils import Database

from tracker.sources.catalog import Source
from tracker.sources.collect import SeenFile, SourceState
from tracker.store.clock import now


def upsert_sources(db: Database, sources: Iterable[Source]) -> None:
    """Keep the sources table in step with sources.yaml (validators are kept). In a transaction."""
    for s in sources:
        db.execute(
            "INSERT INTO sources (id, name, type, location, updated_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET name = excluded.name, type = excluded.type, "
            "location = excluded.location, updated_at = excluded.updated_at",
            [s.id, s.name, s.type, s.location, now()])


def source_state(db: Database, source_id: str) -> SourceState:
    row = db.execute("SELECT etag, last_modified FROM sources WHERE id = ?", [source_id]).fetchone()
    files = dict(db.execute("SELECT path, sha256 FROM files WHERE source_id = ?", [source_id]))
    return SourceState(row[0] if row else None, row[1] if row else None, files)


def save_validators(db: Database, source_id: str, etag: str | None,
                    last_modified: str | None) -> None:
    """Remember the feed's validators, after its entries are stored. In a transaction."""
    db.execute("UPDATE sources SET etag = ?, last_modified = ? WHERE id = ?",
               [etag, last_modified, source_id])


def save_file(db: Database, source_id: str, seen: SeenFile) -> None:
    """Remember a file as read, after its articles are stored. In a transaction."""
    db["files"].upsert({"source_id": source_id, "path": seen.path, "sha256": seen.sha256,
                        "size": seen.size, "mtime": seen.mtime, "error": seen.error,
                        "processed_at": now()}, pk=("source_id", "path"), alter=False)
