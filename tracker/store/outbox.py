"""The outbox: one row per (subscription, article, rule) ever due, written in the same
transaction as the hit and unique, so no cycle can make it twice."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlite_utils import Database

from tracker.store.clock import now


def add_recent(db: Database, subscription_id: int, since_day: str) -> int:
    """Outbox rows for the hits of the subscription's rules, and of its own keywords, in the
    articles of `since_day` (YYYY-MM-DD) or later by their day (issue date, else published,
    else first seen): what a new subscriber gets first; how many are new. Of a story's copies,
    the earliest is the one it gets (the others are dropped by the outbox's story triggers,
    tracker.store.schema m009). In a transaction."""
    stamp = now()
    public = db.execute(
        "INSERT OR IGNORE INTO outbox (subscription_id, article_id, rule_id, hit_id, created_at)"
        " SELECT s.id, h.article_id, h.rule_id, h.id, ? FROM subscriptions s, json_each(s.rules) r"
        " JOIN hits h ON h.rule_id = r.value JOIN articles a ON a.id = h.article_id"
        " WHERE s.id = ? AND s.state = 'active' AND a.day >= ? ORDER BY a.day, a.id",
        [stamp, subscription_id, since_day]).rowcount
    own = db.execute(
        "INSERT OR IGNORE INTO outbox (subscription_id, article_id, rule_id, hit_id, created_at)"
        " SELECT s.id, p.article_id, p.rule_id, NULL, ? FROM subscriptions s"
        " JOIN personal_hits p ON p.subscription_id = s.id JOIN articles a ON a.id = p.article_id"
        " WHERE s.id = ? AND s.state = 'active' AND a.day >= ? ORDER BY a.day, a.id",
        [stamp, subscription_id, since_day]).rowcount
    return public + own


def rule_subscribers(db: Database) -> dict[str, list[int]]:
    """Rule id → the active subscriptions to it: read once per batch of articles (in its
    transaction), not once per hit."""
    out: dict[str, list[int]] = {}
    for subscription_id, rule_id in db.execute(
            "SELECT s.id, r.value FROM subscriptions s, json_each(s.rules) r "
            "WHERE s.state = 'active'"):
        out.setdefault(rule_id, []).append(subscription_id)
    return out


def add_outbox_for(db: Database, article_id: int, hits: list[tuple[int, str]],
                   subscribers: dict[str, list[int]]) -> int:
    """Outbox rows for every subscription in `subscribers` (rule id → subscription ids, read
    once per batch by `rule_subscribers`) to each (hit id, rule id); how many are new. Call
    inside the transaction that recorded the hits."""
    rows = [(s, article_id, rule_id, hit_id) for hit_id, rule_id in hits
            for s in subscribers.get(rule_id, ())]
    if not rows:
        return 0
    stamp = now()
    # rowcount, not total_changes: the triggers' rows (subscription_stories) are not alerts.
    return db.conn.executemany("INSERT OR IGNORE INTO outbox (subscription_id, article_id, "
                               "rule_id, hit_id, created_at) VALUES (?, ?, ?, ?, ?)",
                               [(*row, stamp) for row in rows]).rowcount


@dataclass(frozen=True)
class OutboxItem:
    """One (article, rule) of a delivery: the hit's rule name, snippets and keyword names (each
    once, in order) and the article's columns."""

    article_id: int
    rule_id: str
    rule_name: str | None
    title: str | None
    url: str | None
    source_id: str
    source_name: str
    issue_date: str | None
    page: str | None
    snippets: tuple[str, ...]
    keyword_names: tuple[str, ...]
    doc_fields: tuple[tuple[str, str], ...] = ()  # a government document's 发文机关… (policy)


def delivery_items(db: Database, delivery_id: int) -> list[OutboxItem]:
    """What a delivery carries, by rule, newest issue first: public hits and the subscriber's
    own (personal_hits) alike; an outbox row whose hit is gone is left out."""
    rows = db.execute(
        "SELECT o.article_id, o.rule_id, COALESCE(h.rule_name, p.rule_name), "
        "COALESCE(h.snippets, p.snippets), a.title, a.url, a.source_id, "
        "COALESCE(s.name, a.source_id), a.issue_date, a.page, a.doc_fields FROM outbox o "
        "LEFT JOIN hits h ON h.id = o.hit_id LEFT JOIN personal_hits p ON o.hit_id IS NULL "
        "AND p.article_id = o.article_id AND p.rule_id = o.rule_id "
        "JOIN articles a ON a.id = o.article_id "
        "LEFT JOIN sources s ON s.id = a.source_id WHERE o.delivery_id = ? "
        "AND (h.id IS NOT NULL OR p.id IS NOT NULL) "
        "ORDER BY o.rule_id, a.issue_date DESC, a.id", [delivery_id]).fetchall()
    return [
        OutboxItem(article_id, rule_id, rule_name, title, url, source_id, source_name, date, page,
                   tuple(dict.fromkeys(h["snippet"] for h in found)),
                   tuple(dict.fromkeys(h["name"] for h in found if h.get("name"))),
                   _fields(fields))
        for article_id, rule_id, rule_name, snippets, title, url, source_id, source_name, date, page,
        fields in rows for found in [json.loads(snippets)]]


def _fields(text: str | None) -> tuple[tuple[str, str], ...]:
    """A stored `doc_fields` JSON object as (name, value) pairs; () when absent or unreadable."""
    try:
        found = json.loads(text) if text else {}
    except ValueError:
        return ()
    return tuple((str(k), str(v)) for k, v in found.items()) if isinstance(found, dict) else ()
