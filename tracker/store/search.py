"""Full-text search of the archive, for `tracker search` and the web app alike.

The index holds each article's match key (NFKC, simplified, lines joined), so 專業鎮 and a
专业/镇 broken across lines are found by 专业镇. Queries of three or more characters use FTS5's
trigram index; shorter ones (绿电) scan with instr(): SQLite 3.40's trigram LIKE silently finds
nothing for a two-character non-ASCII pattern.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from tracker.text.normalize import normalize, normalize_term, snippet


@dataclass(frozen=True)
class Found:
    id: int
    title: str | None
    source: str | None
    date: str | None
    url: str | None
    snippet: str


def search(db: Database, query: str, *, source: str | None = None, since: str | None = None,
           limit: int = 50) -> list[Found]:
    """Articles whose title or text holds `query`, newest first."""
    key = normalize_term(query)
    if not key:
        return []
    where, params = [], []
    if len(key) >= 3:
        phrase = '"' + key.replace('"', '""') + '"'
        where.append("a.id IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?)")
        params.append(phrase)
    else:
        where.append("a.id IN (SELECT rowid FROM articles_fts "
                     "WHERE instr(title, ?) > 0 OR instr(body, ?) > 0)")
        params += [key, key]
    if source:
        where.append("a.source_id = ?")
        params.append(source)
    if since:
        where.append("COALESCE(a.issue_date, substr(a.published, 1, 10), "
                     "substr(a.first_seen, 1, 10)) >= ?")
        params.append(since)
    sql = ("SELECT a.id, a.title, a.source_id, COALESCE(a.issue_date, substr(a.published, 1, 10),"
           " substr(a.first_seen, 1, 10)), a.url, a.text FROM articles a WHERE "
           + " AND ".join(where) + " ORDER BY 4 DESC, a.id DESC LIMIT ?")
    params.append(limit)
    return [Found(i, t, s, d, u, _snippet(t or "", text, key))
            for i, t, s, d, u, text in db.execute(sql, params).fetchall()]


def _snippet(title: str, text: str, key: str) -> str:
    for field in (text, title):
        norm = normalize(field)
        at = norm.key.find(key)
        if at >= 0:
            s, e = norm.source_span(at, at + len(key))
            return snippet(field, s, e).marked()
    return text[:80]
