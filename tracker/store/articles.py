"""Articles: one row per article ever seen, whatever feed, page or file it came through."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlite_utils import Database

from tracker.store.clock import now
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


def content_hash(title: str | None, text: str) -> str:
    """Same words, same hash: line breaks, full-width forms and 繁/简 do not count."""
    key = normalize(title or "").key + "\n" + normalize(text).key
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


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


def add_article(db: Database, article: NewArticle) -> tuple[int, bool]:
    """Keep `article` unless it is already kept; (its id, whether it is new). Call inside a
    transaction."""
    digest = content_hash(article.title, article.text)
    existing = find_article(db, article, digest)
    if existing is not None:
        return existing, False
    row = {**article.__dict__, "content_hash": digest, "first_seen": now()}
    del row["url_identifies"]
    article_id = db["articles"].insert(row).last_pk
    db.execute("INSERT INTO articles_fts (rowid, title, body) VALUES (?, ?, ?)",
               [article_id, normalize(article.title or "").key, normalize(article.text).key])
    if article.issue_date:
        db["issues"].insert({"source_id": article.source_id, "date": article.issue_date,
                             "first_seen": row["first_seen"]}, ignore=True)
    return article_id, True


def get_article(db: Database, article_id: int) -> dict | None:
    rows = list(db["articles"].rows_where("id = ?", [article_id]))
    return rows[0] if rows else None
