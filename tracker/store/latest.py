"""The newest articles, before anyone searches: what /articles shows on arrival."""

from __future__ import annotations

from sqlite_utils import Database

from tracker.store.search import DATE, SearchResult, article_filters, first_snippet


def latest(db: Database, *, source: str | None = None, since: str | None = None,
           until: str | None = None, limit: int = 20) -> list[SearchResult]:
    """The newest articles by date (issue, else published, else first seen), each with the
    stored snippet of its first hit of a public rule (never a subscriber's own keywords,
    `personal-…`) and its opening (the first 200 characters)."""
    where, params = article_filters(source, since, until)
    where = ["1", *where]
    sql = (f"SELECT a.id, a.title, a.source_id, {DATE}, a.url, substr(a.text, 1, 200), a.page, "
           "(SELECT h.snippets FROM hits h WHERE h.article_id = a.id AND h.rule_id NOT LIKE "
           "'personal-%' AND h.rule_id NOT LIKE 'personal:%' ORDER BY h.rule_id LIMIT 1) "
           "FROM articles a WHERE " + " AND ".join(where) + " ORDER BY 4 DESC, a.id DESC LIMIT ?")
    return [SearchResult(i, t, s, d, u, text or "", page, first_snippet(snippets))
            for i, t, s, d, u, text, page, snippets in db.execute(sql, [*params, limit]).fetchall()]
