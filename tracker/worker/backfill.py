"""Matching the archive against one rule (new or changed), without new articles."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Callable, Iterator

from sqlite_utils import Database

from tracker.documents import Document
from tracker.matching import Matcher
from tracker.rules import Rule
from tracker.store import transaction
from tracker.store.articles import article_texts, count_articles_since
from tracker.store.hits import add_hits
from tracker.store.outbox import add_outbox_for, rule_subscribers

BATCH = 200


def archived_articles(db: Database, days: int | None) -> Iterator[list[Document]]:
    """The kept articles (the last `days` days by issue date or first seen), in batches."""
    since = (date.today() - timedelta(days=days)).isoformat() if days else ""
    for rows in article_texts(db, since, BATCH):
        yield [Document(f"article:{i}", text, "article", title=title, source=source,
                        meta={"article_id": i}) for i, title, text, source in rows]


def count_articles(db: Database, days: int | None) -> int:
    since = (date.today() - timedelta(days=days)).isoformat() if days else ""
    return count_articles_since(db, since)


def backfill(db: Database, rule: Rule, days: int | None = None,
             advance: Callable[[int], None] | None = None, alert: bool = False) -> tuple[int, int, int]:
    """(articles where the rule fires, hits newly recorded, alerts queued). Hits already kept
    stay as they are. With `alert`, the new hits' alerts are queued for the rule's subscribers
    (the outbox keeps one row per subscription × article × rule: nothing is queued twice)."""
    matcher = Matcher([rule])
    fired = new = due = 0
    for batch in archived_articles(db, days):
        results = matcher.match_many(batch)
        with transaction(db):
            subscribers = rule_subscribers(db) if alert and any(results) else {}
            for document, found in zip(batch, results):
                if found:
                    fired += 1
                    hits = add_hits(db, document.meta["article_id"], found)
                    new += len(hits)
                    if alert:
                        due += add_outbox_for(db, document.meta["article_id"], hits, subscribers)
        if advance:
            advance(len(batch))
    return fired, new, due
