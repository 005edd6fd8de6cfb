"""Own keywords: words a subscriber typed, matched for that subscription alone.

They live on the subscription row (`personal_keywords`, a JSON list), never in the rules folder,
and count only while the subscription is active (so not before the double opt-in). Their
matches are kept in `personal_hits`, apart from the public `hits` that /articles, /trends, the
API and the metrics read: what one visitor typed is never shown to another. The outbox row of a
personal match has no hit_id; its rule id is `personal:<subscription id>` (a colon, which no
rule file's id may hold).
"""

from __future__ import annotations

import json

from sqlite_utils import Database

from tracker.matching import RuleMatch
from tracker.store.clock import now

PREFIX = "personal:"
RULE_NAME = "自定义关键词"


def personal_rule_id(subscription_id: int) -> str:
    return f"{PREFIX}{int(subscription_id)}"


def subscription_of(rule_id: str) -> int | None:
    """The subscription a personal rule id belongs to; None for any other rule."""
    if not rule_id.startswith(PREFIX) or not rule_id[len(PREFIX):].isdigit():
        return None
    return int(rule_id[len(PREFIX):])


def set_keywords(db: Database, subscription_id: int, keywords: list[str]) -> None:
    """Replace the subscription's own keywords (none: remove them). In a transaction."""
    value = json.dumps(list(dict.fromkeys(keywords)), ensure_ascii=False) if keywords else None
    db.execute("UPDATE subscriptions SET personal_keywords = ? WHERE id = ?",
               [value, subscription_id])


def keywords_of(db: Database, subscription_id: int) -> list[str]:
    row = db.execute("SELECT personal_keywords FROM subscriptions WHERE id = ?",
                     [subscription_id]).fetchone()
    return list(json.loads(row[0])) if row and row[0] else []


def forget(db: Database, subscription_id: int) -> None:
    """Unsubscribed: the own keywords and what they matched go. In a transaction."""
    set_keywords(db, subscription_id, [])
    db.execute("DELETE FROM outbox WHERE subscription_id = ? AND hit_id IS NULL "
               "AND delivery_id IS NULL", [subscription_id])
    db.execute("DELETE FROM personal_hits WHERE subscription_id = ?", [subscription_id])


def active_keywords(db: Database) -> dict[int, tuple[str, ...]]:
    """Own keywords of every active subscription, by subscription id."""
    rows = db.execute("SELECT id, personal_keywords FROM subscriptions WHERE state = 'active' "
                      "AND personal_keywords IS NOT NULL ORDER BY id").fetchall()
    found = {}
    for subscription_id, text in rows:
        try:
            words = tuple(str(w) for w in json.loads(text) if str(w).strip())
        except (TypeError, ValueError):
            continue
        if words:
            found[subscription_id] = words
    return found


def add_personal_hits(db: Database, article_id: int, found: list[RuleMatch]) -> int:
    """Record each personal rule that fired in the article, with an outbox row for its (still
    active) subscription; how many outbox rows are new. Call inside the article's transaction."""
    added = 0
    stamp = now()
    for match in found:
        subscription_id = subscription_of(match.rule.id)
        if subscription_id is None:
            continue
        snippets = [{"keyword": h.keyword, "field": h.field, "offset": h.start - match.start,
                     "snippet": h.snippet.marked()} for h in match.occurrences]
        cursor = db.execute(
            "INSERT OR IGNORE INTO personal_hits (article_id, subscription_id, rule_id, rule_name,"
            " count, snippets, matched_at) SELECT ?, id, ?, ?, ?, ?, ? FROM subscriptions"
            " WHERE id = ? AND state = 'active'",
            [article_id, match.rule.id, RULE_NAME, match.count,
             json.dumps(snippets, ensure_ascii=False), stamp, subscription_id])
        if cursor.rowcount:
            added += db.execute(
                "INSERT OR IGNORE INTO outbox (subscription_id, article_id, rule_id, hit_id,"
                " created_at) VALUES (?, ?, ?, NULL, ?)",
                [subscription_id, article_id, match.rule.id, stamp]).rowcount
    return added
