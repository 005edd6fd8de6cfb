"""The outbox: one row per (subscription, article, rule) ever due, written in the same
transaction as the hit and unique, so no cycle can make it twice."""

from __future__ import annotations

from sqlite_utils import Database

from tracker.store.clock import now


def add_outbox(db: Database, article_id: int, hits: list[tuple[int, str]]) -> int:
    """Outbox rows for every active subscription to each (hit id, rule id); how many are new.
    Call inside the transaction that recorded the hits."""
    stamp = now()
    added = 0
    for hit_id, rule_id in hits:
        cursor = db.execute(
            "INSERT OR IGNORE INTO outbox (subscription_id, article_id, rule_id, hit_id, created_at)"
            " SELECT s.id, ?, ?, ?, ? FROM subscriptions s, json_each(s.rules) r"
            " WHERE s.state = 'active' AND r.value = ?",
            [article_id, rule_id, hit_id, stamp, rule_id])
        added += cursor.rowcount
    return added


def pending_counts(db: Database) -> dict[int, int]:
    """Outbox rows not yet in a delivery, by subscription."""
    return dict(db.execute("SELECT subscription_id, count(*) FROM outbox "
                           "WHERE delivery_id IS NULL GROUP BY subscription_id"))


def add_recent(db: Database, subscription_id: int, since: str) -> int:
    """Outbox rows for hits of the subscription's rules recorded since `since` (ISO time): what
    a new subscriber gets first. In a transaction."""
    cursor = db.execute(
        "INSERT OR IGNORE INTO outbox (subscription_id, article_id, rule_id, hit_id, created_at)"
        " SELECT s.id, h.article_id, h.rule_id, h.id, ? FROM subscriptions s, json_each(s.rules) r"
        " JOIN hits h ON h.rule_id = r.value WHERE s.id = ? AND s.state = 'active'"
        " AND h.matched_at >= ?", [now(), subscription_id, since])
    return cursor.rowcount
