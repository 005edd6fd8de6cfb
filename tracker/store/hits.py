"""Hits: which rule fired in which article, with the snippets people read."""

from __future__ import annotations

import json

from sqlite_utils import Database

from tracker.matching import RuleMatch
from tracker.store.clock import now
from tracker.store.search import DATE, conditions


def add_hits(db: Database, article_id: int, found: list[RuleMatch]) -> list[tuple[int, str]]:
    """Record each rule that fired in the article once; (hit id, rule id) of the rows that are
    new. Call inside a transaction: the outbox rows for them belong in the same one."""
    new = []
    for match in found:
        snippets = [{"keyword": h.keyword, "field": h.field, "offset": h.start - match.start,
                     "snippet": h.snippet.marked()} for h in match.occurrences]
        for hit in snippets:  # the keyword's display name, when the rule gives one
            if name := match.rule.display_name(hit["keyword"]):
                hit["name"] = name
        cursor = db.execute(
            "INSERT OR IGNORE INTO hits (article_id, rule_id, rule_name, count, snippets,"
            " matched_at) VALUES (?, ?, ?, ?, ?, ?)",
            [article_id, match.rule.id, match.rule.name, match.count,
             json.dumps(snippets, ensure_ascii=False), now()])
        if cursor.rowcount:
            new.append((cursor.lastrowid, match.rule.id))
    return new


def hits_for_article(db: Database, article_id: int) -> list[dict]:
    rows = db.execute("SELECT rule_id, rule_name, count, snippets FROM hits WHERE article_id = ? "
                      "ORDER BY rule_id", [article_id]).fetchall()
    return [{"rule_id": r, "rule_name": n, "count": c, "snippets": json.loads(h)}
            for r, n, c, h in rows]


def hit_rule_names(db: Database) -> list[tuple[str, str | None]]:
    """(rule id, rule name) of every rule that has hits in the archive, by id (hit_rules)."""
    return db.execute("SELECT rule_id, rule_name FROM hit_rules ORDER BY rule_id").fetchall()


def rules_of_articles(db: Database, article_ids: list[int]) -> list[tuple[int, str, str | None]]:
    """(article id, rule id, rule name) of every hit of those articles, by rule id."""
    if not article_ids:
        return []
    return db.execute(
        f"SELECT article_id, rule_id, rule_name FROM hits WHERE article_id IN "
        f"({','.join('?' * len(article_ids))}) ORDER BY rule_id", article_ids).fetchall()


def latest_hits(db: Database, *, rule: str | None = None, since: str | None = None,
                limit: int = 50) -> list[dict]:
    """Hits, the latest matched first (of one rule, matched on or after `since`), each with
    its snippets and its article's title, source id, date and URL."""
    where, params = conditions(("h.rule_id = ?", rule), ("h.matched_at >= ?", since))
    sql = ("SELECT h.id, h.article_id, h.rule_id, h.rule_name, h.count, h.snippets, h.matched_at, "
           f"a.title, a.source_id, {DATE}, a.url FROM hits h JOIN articles a ON a.id = "
           "h.article_id" + (" WHERE " + " AND ".join(where) if where else "") +
           " ORDER BY h.matched_at DESC, h.id DESC LIMIT ?")
    return [{"id": i, "article_id": aid, "rule_id": rid, "rule_name": name, "count": count,
             "matched_at": at, "snippets": [x.get("snippet") for x in json.loads(found or "[]")],
             "title": title, "source_id": source, "date": date_, "url": url}
            for i, aid, rid, name, count, found, at, title, source, date_, url
            in db.execute(sql, [*params, limit]).fetchall()]


def feed_hits(db: Database, rule_ids: list[str], limit: int) -> list[dict]:
    """The hits of these rules, the latest matched first, each with its snippets, its
    article's title, paper (id and name), day, page, URL and story."""
    if not rule_ids:
        return []
    sql = ("SELECT h.id, h.article_id, h.rule_id, h.rule_name, h.snippets, h.matched_at, a.title, "
           "a.source_id, COALESCE(s.name, a.source_id), a.day, a.page, a.url, a.story_id "
           "FROM hits h JOIN articles a ON a.id = h.article_id "
           "LEFT JOIN sources s ON s.id = a.source_id "
           f"WHERE h.rule_id IN ({','.join('?' * len(rule_ids))}) "
           "ORDER BY h.matched_at DESC, h.id DESC LIMIT ?")
    return [{"id": i, "article_id": aid, "rule_id": rid, "rule_name": name,
             "snippets": list(dict.fromkeys(x.get("snippet") for x in json.loads(found or "[]")
                                            if x.get("snippet"))),
             "matched_at": at, "title": title, "source_id": source, "source_name": source_name,
             "date": day, "page": page, "url": url, "story_id": story}
            for i, aid, rid, name, found, at, title, source, source_name, day, page, url, story
            in db.execute(sql, [*rule_ids, limit]).fetchall()]
