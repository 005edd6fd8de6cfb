"""Sources as the archive knows them: name and location, feed validators, files already read.

Rows only: the fetcher's types (tracker.sources) are not imported here. A source is stored from
anything with the four columns (`SourceRow`); the worker turns the stored state into the
fetcher's `SourceState` and hands a read file's columns over as plain values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Protocol

from sqlite_utils import Database

from tracker.store.clock import now


class SourceRow(Protocol):
    """The columns of a sources row (tracker.sources.catalog.Source has them)."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def location(self) -> str: ...


@dataclass(frozen=True)
class StoredState:
    """What the archive remembers of a source: feed validators, files read (path → sha256)."""

    etag: str | None = None
    last_modified: str | None = None
    files: dict[str, str] = field(default_factory=dict)


def upsert_sources(db: Database, sources: Iterable[SourceRow]) -> None:
    """Keep the sources table in step with sources.yaml (validators are kept). In a transaction."""
    for s in sources:
        db.execute(
            "INSERT INTO sources (id, name, type, location, updated_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET name = excluded.name, type = excluded.type, "
            "location = excluded.location, updated_at = excluded.updated_at",
            [s.id, s.name, s.type, s.location, now()])


def stored_state(db: Database, source_id: str) -> StoredState:
    """The validators and files recorded for `source_id` (empty for a source never read)."""
    row = db.execute("SELECT etag, last_modified FROM sources WHERE id = ?", [source_id]).fetchone()
    files = dict(db.execute("SELECT path, sha256 FROM files WHERE source_id = ?", [source_id]))
    return StoredState(row[0] if row else None, row[1] if row else None, files)


def save_validators(db: Database, source_id: str, etag: str | None,
                    last_modified: str | None) -> None:
    """Remember the feed's validators, after its entries are stored. In a transaction."""
    db.execute("UPDATE sources SET etag = ?, last_modified = ? WHERE id = ?",
               [etag, last_modified, source_id])


def save_file(db: Database, source_id: str, path: str, sha256: str, size: int, mtime: float,
              error: str | None = None) -> None:
    """Remember a file as read, after its articles are stored. In a transaction."""
    db["files"].upsert({"source_id": source_id, "path": path, "sha256": sha256,
                        "size": size, "mtime": mtime, "error": error,
                        "processed_at": now()}, pk=("source_id", "path"), alter=False)


def source_names(db: Database) -> dict[str, str]:
    """Source id → name (the id when it has none), for every source with a row or articles."""
    names = {sid: name or sid for sid, name in db.execute("SELECT id, name FROM sources")}
    # The distinct source ids, one index probe each (DISTINCT would read the whole index).
    for (sid,) in db.execute(
            "WITH RECURSIVE s(id) AS (SELECT MIN(source_id) FROM articles UNION ALL "
            "SELECT (SELECT MIN(source_id) FROM articles WHERE source_id > s.id) FROM s "
            "WHERE s.id IS NOT NULL) SELECT id FROM s WHERE id IS NOT NULL"):
        names.setdefault(sid, sid)
    return names
