"""One cycle: sources fetched concurrently, what each gave matched and stored, each fault kept to
its own source (in the log with the source id, and in the runs table)."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from sqlite_utils import Database

from tracker.documents import InputError
from tracker.matching import Matcher
from tracker.sources.catalog import Source
from tracker.sources.collect import SourceState, collect
from tracker.store import connect, transaction
from tracker.store.articles import has_url
from tracker.store.runs import finish_run, start_run
from tracker.store.sources import stored_state, upsert_sources
from tracker.worker.ingest import Counts, ingest

log = logging.getLogger("tracker.worker")
MAX_PARALLEL_SOURCES = 8


def source_state(db: Database, source_id: str) -> SourceState:
    """What the fetcher needs to know of its last visit, read from the archive's rows."""
    stored = stored_state(db, source_id)
    return SourceState(stored.etag, stored.last_modified, stored.files,
                       known_url=lambda url: has_url(db, source_id, url))


@dataclass
class SourceReport:
    source: str
    status: str  # ok | partial | not_modified | no_issue | error
    error: str | None = None
    counts: Counts = field(default_factory=Counts)
    health: list[str] = field(default_factory=list)  # episodes opened or closed: "start:failing"


def run_source(db_path: Path, source: Source, config: Mapping[str, Any], matcher: Matcher,
               today: date | None = None, digest: str | None = None) -> SourceReport:
    """Fetch, match and store one source, on a connection of its own (this runs in a thread);
    `digest` names the folder rules `matcher` holds (tracker.worker.rulebook.InForce)."""
    db = connect(db_path)
    run_id = start_run(db, source.id)
    report = SourceReport(source.id, "error")
    try:
        collected = collect(source, config, source_state(db, source.id), today)
        report.counts = ingest(db, source.id, collected, matcher, digest=digest)
        if collected.not_modified:
            report.status = "not_modified"
        elif collected.no_issue:
            report.status = "no_issue"
        elif collected.problems:
            report.status, report.error = "partial", "; ".join(collected.problems)
        else:
            report.status = "ok"
    except InputError as err:
        report.error = str(err)
    except Exception as err:  # noqa: BLE001 - a bug met on one source must not stop the others
        log.exception("source %s: unexpected failure", source.id)
        report.error = f"unexpected {type(err).__name__}: {err}"
    finally:
        c = report.counts
        finish_run(db, run_id, status=report.status, error=report.error, fetched=c.fetched,
                   new_articles=c.new, hits=c.hits)
        report.health = watch(db, config, source)
        db.conn.close()
    if report.status == "error":
        log.error("source %s: %s", source.id, report.error)
    else:
        log.info("source %s: %s, %d articles, %d new, %d hits%s", source.id, report.status,
                 c.fetched, c.new, c.hits, f" ({report.error})" if report.error else "")
    return report


def watch(db: Database, config: Mapping[str, Any], source: Source) -> list[str]:
    """The source's health after this run (tracker.alerts.admin): episodes opened or closed and
    the admin's notices queued. Its own fault is logged, never the run's."""
    from tracker.alerts.admin import watch_source

    try:
        return watch_source(db, config, source.id, source.name)
    except Exception:  # noqa: BLE001 - the run is recorded; health is looked at again next run
        log.exception("source %s: judging its health failed", source.id)
        return []


def register(db_path: Path, sources: Sequence[Source]) -> None:
    """The sources' rows (name, type, location) before anything of theirs is stored: articles,
    issues and files refer to them."""
    db = connect(db_path)
    try:
        with transaction(db):
            upsert_sources(db, sources)
    finally:
        db.conn.close()


def run_cycle(db_path: Path, config: Mapping[str, Any], sources: Sequence[Source],
              matcher: Matcher, today: date | None = None,
              on_done: Callable[[SourceReport], None] | None = None,
              digest: str | None = None) -> list[SourceReport]:
    """Every enabled source once, several at a time; the reports in the order they finished."""
    enabled = [s for s in sources if s.enabled]
    register(db_path, sources)
    reports = []
    if not enabled:
        log.warning("no enabled source to fetch")
        return reports
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_SOURCES, len(enabled)),
                            thread_name_prefix="source") as pool:
        futures = [pool.submit(run_source, db_path, s, config, matcher, today, digest)
                   for s in enabled]
        for future in as_completed(futures):
            reports.append(future.result())
            if on_done:
                on_done(reports[-1])
    return reports
