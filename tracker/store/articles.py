"""Articles: one row per article ever seen, whatever feed, page or file it came through.

Written with plain SQL, a batch at a time, inside the caller's transaction: sqlite-utils' insert
wraps each row in a SAVEPOINT, and FTS5 flushes a segment of its index at every savepoint.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Iterator

from sqlite_utils import Database

from tracker.store.clock import now
from tracker.store.fts import index_keys
from tracker.text.normalize import normalize


@dataclass(frozen=True)
class NewArticle:
    source_id: str
    title: str | None
    text: str
    issue_date: str | None = None
    page: str | None = None
    url: str | None = None
    guid: str | None = None
    document: str | None = None
    published: str | None = None
    url_identifies: bool = True  # False where a feed gives several entries the same link
    doc_fields: str | None = None  # JSON: a government document's 发文机关, 发文字号… (policy)


def content_hash(title: str | None, text: str) -> str:
    """Same words, same hash: line breaks, full-width forms and 繁/简 do not count."""
    return _hash(normalize(title or "").key, normalize(text).key)


def _hash(title_key: str, text_key: str) -> str:
    return hashlib.sha256((title_key + "\n" + text_key).encode("utf-8")).hexdigest()


def find_article(db: Database, article: NewArticle, digest: str) -> int | None:
    """The id of an article already kept: same content, or same guid/url from the same source."""
    for sql, params in (
        ("SELECT id FROM articles WHERE content_hash = ?", [digest]),
        ("SELECT id FROM articles WHERE source_id = ? AND guid = ?", [article.source_id,
                                                                     article.guid]),
        ("SELECT id FROM articles WHERE source_id = ? AND url = ?", [article.source_id,
                                                                    article.url
                                                                    if article.url_identifies
                                                                    else None]),
    ):
        if None in params:
            continue
        row = db.execute(sql, params).fetchone()
        if row:
            return row[0]
    return None


_COLUMNS = ("source_id", "issue_date", "page", "title", "url", "guid", "document", "text",
            "content_hash", "published", "first_seen", "doc_fields")
_INSERT = (f"INSERT INTO articles ({', '.join(_COLUMNS)}) "
           f"VALUES ({', '.join('?' * len(_COLUMNS))})")


def add_articles(db: Database, articles: list[NewArticle],
                 keys: list[tuple[str, str]] | None = None) -> list[tuple[int, bool]]:
    """Keep each of `articles` unless it is already kept (also earlier in the same list): for
    each, (its id, whether it is new). `keys`: each article's (title, text) match keys where the
    caller has them already (the matcher made them); else each text is normalised here, once,
    for its hash and the index. Call inside a transaction."""
    out: list[tuple[int, bool]] = []
    indexed: list[tuple[int, str, str]] = []
    issues: set[tuple[str, str]] = set()
    stamp = now()
    for n, article in enumerate(articles):
        title_key, text_key = keys[n] if keys is not None else (
            normalize(article.title or "").key, normalize(article.text).key)
        digest = _hash(title_key, text_key)
        existing = find_article(db, article, digest)
        if existing is not None:
            out.append((existing, False))
            continue
        row = {**article.__dict__, "content_hash": digest, "first_seen": stamp}
        article_id = db.execute(_INSERT, [row[c] for c in _COLUMNS]).lastrowid
        indexed.append((article_id, title_key, text_key))
        if article.issue_date:
            issues.add((article.source_id, article.issue_date))
        out.append((article_id, True))
    index_keys(db, indexed)
    db.conn.executemany("INSERT OR IGNORE INTO issues (source_id, date, first_seen) "
                        "VALUES (?, ?, ?)", [(s, d, stamp) for s, d in sorted(issues)])
    return out


def has_url(db: Database, source_id: str, url: str) -> bool:
    """Whether an article of `source_id` was kept from `url` (a policy list's document)."""
    return db.execute("SELECT 1 FROM articles WHERE url = ? AND source_id = ? LIMIT 1",
                      [url, source_id]).fetchone() is not None


def mark_matched(db: Database, article_ids: list[int], digest: str | None) -> None:
    """Record that these articles were matched with the folder rules of `digest` (None: with
    none). In the transaction that recorded their hits."""
    db.conn.executemany("UPDATE articles SET matched_with = ? WHERE id = ?",
                        [(digest, i) for i in article_ids])


def unmatched_articles(db: Database, digest: str, since: str, batch: int = 200
                       ) -> list[tuple[int, str | None, str, str]]:
    """(id, title, text, source id) of up to `batch` articles first seen at `since` (ISO time)
    or later that were matched with other folder rules than `digest`, or with none; oldest
    first."""
    return db.execute("SELECT id, title, text, source_id FROM articles WHERE first_seen >= ? "
                      "AND matched_with IS NOT ? ORDER BY id LIMIT ?",
                      [since, digest, batch]).fetchall()


def get_article(db: Database, article_id: int) -> dict | None:
    cursor = db.execute("SELECT * FROM articles WHERE id = ?", [article_id])
    row = cursor.fetchone()
    return dict(zip([c[0] for c in cursor.description], row)) if row else None


# An article's day for "the last N days": its issue date, else the day it was first seen.
_SEEN_DAY = "COALESCE(issue_date, substr(first_seen, 1, 10))"


def article_texts(db: Database, since: str, batch: int = 200
                  ) -> Iterator[list[tuple[int, str | None, str, str]]]:
    """(id, title, text, source id) of the articles of `since` (YYYY-MM-DD; "" for all) and
    later by issue date or first seen, oldest id first, `batch` rows at a time."""
    cursor = db.execute(f"SELECT id, title, text, source_id FROM articles WHERE {_SEEN_DAY} >= ? "
                        "ORDER BY id", [since])
    while rows := cursor.fetchmany(batch):
        yield rows


def count_articles_since(db: Database, since: str) -> int:
    """How many articles `article_texts(db, since)` gives."""
    return db.execute(f"SELECT count(*) FROM articles WHERE {_SEEN_DAY} >= ?",
                      [since]).fetchone()[0]


def newest_article_texts(db: Database, since: str, limit: int
                         ) -> list[tuple[int, str | None, str, str, str]]:
    """(id, title, text, source id, day) of at most `limit` articles of `since` or later, newest
    id first; the day is the issue date, else the day the article was first seen."""
    return db.execute(f"SELECT id, title, text, source_id, {_SEEN_DAY} FROM articles "
                      f"WHERE {_SEEN_DAY} >= ? ORDER BY id DESC LIMIT ?", [since, limit]).fetchall()
