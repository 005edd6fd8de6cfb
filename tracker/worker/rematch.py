"""Articles kept while other rules were in force, matched again with the rules in force now.

An article is stored with the digest of the folder rules it was matched with (None when there
were none: a worker started on an empty or broken rules folder). When the rules in force differ
— a worker killed while it loaded them, an older version, a rule edited since — the articles
first seen in the last REMATCH_DAYS are matched again: new hits are recorded and their alerts
queued. The outbox keeps one row per subscription × article × rule, so an alert already due or
sent is never queued twice."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from sqlite_utils import Database

from tracker.documents import Document
from tracker.store import transaction
from tracker.store.articles import mark_matched, unmatched_articles
from tracker.store.clock import iso
from tracker.worker.ingest import Counts, record_hits
from tracker.worker.rulebook import InForce

log = logging.getLogger("tracker.worker")
REMATCH_DAYS = 7
BATCH = 200


def rematch(db: Database, rules: InForce, days: float = REMATCH_DAYS,
            now: datetime | None = None) -> Counts:
    """Match again the articles first seen in the last `days` days under other folder rules
    than `rules.digest` (nothing while no rules are in force); what it recorded and queued."""
    counts = Counts()
    if rules.digest is None or days <= 0:
        return counts
    since = iso((now or datetime.now(timezone.utc)) - timedelta(days=days))
    while rows := unmatched_articles(db, rules.digest, since, BATCH):
        documents = [Document(f"article:{i}", text, "article", title=title, source=source)
                     for i, title, text, source in rows]
        fired = rules.matcher.match_many(documents)
        with transaction(db):
            record_hits(db, [(row[0], found) for row, found in zip(rows, fired)], counts)
            mark_matched(db, [row[0] for row in rows], rules.digest)
        counts.fetched += len(rows)
    if counts.fetched:
        log.info("matched again %d articles kept under other rules: %d new hits, %d alerts due",
                 counts.fetched, counts.hits, counts.due)
    return counts
