"""Full-text search of the archive, for `tracker search` and the web app alike.

The index holds each article's match key (NFKC, simplified, lines joined), so 專業鎮 and a
专业/镇 broken across lines are found by 专业镇. Queries of three or more characters are phrase
queries on FTS5's trigram index; shorter ones (绿电) range over the index's trigrams
(tracker.store.fts): SQLite 3.40's trigram LIKE silently finds nothing for a two-character
non-ASCII pattern. A query of several words (`专业镇 标准地`, `专业镇、标准地`: see
tracker.text.query) finds the articles that hold all of them: the ids of each word, intersected.
The newest ids are chosen first, by the indexed `articles.day`; only then are
those articles' texts read. Which passage of them people see is presentation
(tracker.text.passage.result_passage), not storage.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlite_utils import Database

from tracker.store.fts import matching_ids
from tracker.text.query import query_words, word_keys


@dataclass(frozen=True)
class SearchResult:
    """One article a search (or `latest`) returns: its row's columns, and the stored snippet of
    its first hit (if any)."""

    id: int
    title: str | None
    source: str | None
    date: str | None
    url: str | None
    text: str
    page: str | None = None
    hit_snippet: str | None = None


FEW = 1000  # matches up to which search sorts them; beyond, it walks the date index
DATE = "a.day"
"""An article's date everywhere (search filters, trends): its issue, else published, else seen
(the generated, indexed column articles.day)."""


def conditions(*given: tuple[str, object]) -> tuple[list[str], list]:
    """The SQL conditions (each with one `?`) whose value is given (not None, not empty), and
    their values in the same order."""
    kept = [(sql, value) for sql, value in given if value]
    return [sql for sql, _ in kept], [value for _, value in kept]


def article_filters(source: str | None, since: str | None,
                    until: str | None) -> tuple[list[str], list]:
    """Conditions on articles `a`: of one source, dated from `since` to `until` (inclusive)."""
    return conditions(("a.source_id = ?", source), (f"{DATE} >= ?", since),
                      (f"{DATE} <= ?", until))


def search(db: Database, query: str | Sequence[str], *, source: str | None = None,
           since: str | None = None, until: str | None = None, rule: str | None = None,
           limit: int = 50) -> list[SearchResult]:
    """Articles whose title or text holds every word of `query` (a query as typed, or its
    words), newest first.

    `rule`: only articles the rule fired in; with a rule, each article found carries the stored
    snippet of that rule's first hit. `since`/`until`: dates (YYYY-MM-DD), both inclusive."""
    keys = word_keys(query_words(query) if isinstance(query, str) else list(query))
    if not keys and not rule:
        return []
    where, params = [], []
    if keys:
        parts = [matching_ids(db, key) for key in keys]
        if any(part is None for part in parts):
            return []
        ids = (" INTERSECT ".join(part[0] for part in parts if part),
               [value for part in parts if part for value in part[1]])
        # Few matches: fetch them and sort. Many: walk the date index newest first and stop at
        # `limit` (unary + keeps SQLite from driving the query by the id list).
        many = db.execute(f"SELECT count(*) FROM ({ids[0]} LIMIT {FEW})", ids[1]).fetchone()[0]
        where.append(f"{'+' if many >= FEW else ''}a.id IN ({ids[0]})")
        params += ids[1]
    of_rule = conditions(("a.id IN (SELECT article_id FROM hits WHERE rule_id = ?)", rule))
    filters = article_filters(source, since, until)
    where += of_rule[0] + filters[0]
    params += of_rule[1] + filters[1]
    newest = (f"SELECT a.id FROM articles a WHERE {' AND '.join(where)} "
              f"ORDER BY {DATE} DESC, a.id DESC LIMIT ?")
    sql = (f"SELECT a.id, a.title, a.source_id, {DATE}, a.url, a.text, a.page, "
           "(SELECT h.snippets FROM hits h WHERE h.article_id = a.id AND h.rule_id = ?) "
           f"FROM ({newest}) n JOIN articles a ON a.id = n.id ORDER BY 4 DESC, a.id DESC")
    params = [rule, *params, limit]
    return [SearchResult(i, t, s, d, u, text or "", page, first_snippet(snippets))
            for i, t, s, d, u, text, page, snippets in db.execute(sql, params).fetchall()]


def first_snippet(snippets: str | None) -> str | None:
    """The first snippet of a hits row's `snippets` JSON, or None (no row, or unreadable)."""
    try:
        return json.loads(snippets)[0]["snippet"] if snippets else None
    except (ValueError, LookupError, TypeError):
        return None
