"""The full-text index: FTS5 with the trigram tokenizer over each article's match keys (title,
body), contentless — it keeps no copy of any text, so the archive holds the text once (in
`articles`) plus the index.

Every field is indexed with PAD after it, so each character of a key starts at least one trigram.
A query of three or more characters is a phrase MATCH; a shorter one (绿电) is an OR of every
trigram in the index's vocabulary that starts with it: still answered from the index, no row
read and no text scanned.
"""

from __future__ import annotations

from typing import Iterable

from sqlite_utils import Database

from tracker.text.normalize import normalize

PAD = "\x1f\x1f"  # the unit separator: never in a match key or a query


HASH_BYTES = 32 * 2**20  # index kept in memory before a segment is written (FTS5's default: 1 MB)


def create_index(db: Database) -> None:
    db.execute("CREATE VIRTUAL TABLE articles_fts USING fts5(title, body, content='', "
               "tokenize='trigram')")
    # A batch of pages makes a few MB of index: written as one segment, not a dozen to merge.
    db.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('hashsize', ?)",
               [HASH_BYTES])
    # The trigrams, one row each, and one row per (trigram, article, column, position): what a
    # short query ranges over.
    db.execute("CREATE VIRTUAL TABLE articles_fts_vocab USING fts5vocab(articles_fts, row)")
    db.execute("CREATE VIRTUAL TABLE articles_fts_terms USING fts5vocab(articles_fts, instance)")


def index_keys(db: Database, rows: Iterable[tuple[int, str, str]]) -> None:
    """Index (article id, title key, body key) rows. Call inside the transaction that keeps
    the articles."""
    db.conn.executemany("INSERT INTO articles_fts (rowid, title, body) VALUES (?, ?, ?)",
                        [(i, title + PAD, body + PAD) for i, title, body in rows])


def index_articles(db: Database, rows: Iterable[tuple[int, str | None, str]]) -> None:
    """Index (article id, title, text) rows, making their match keys."""
    index_keys(db, ((i, normalize(title or "").key, normalize(text or "").key)
                    for i, title, text in rows))


MAX_OR_TERMS = 2000  # beyond: one row per occurrence is cheaper than so long an OR


def matching_ids(db: Database, key: str) -> tuple[str, list[str]] | None:
    """SQL for the ids of articles whose title or body key holds `key` (a normalised query),
    with its parameters; None when no article can hold it."""
    key = key.replace(PAD[0], "")
    if not key:
        return None
    if len(key) >= 3:
        return ("SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?",
                ['"' + key.replace('"', '""') + '"'])
    low = key.lower()  # the tokenizer folds case as it indexes
    nxt = ord(low[-1]) + 1
    nxt = 0xE000 if 0xD800 <= nxt < 0xE000 else nxt  # no surrogates in SQLite's text
    bounds = "term >= ?" + (" AND term < ?" if nxt <= 0x10FFFF else "")
    params = [low] + ([low[:-1] + chr(nxt)] if nxt <= 0x10FFFF else [])
    # The trigrams that start with the query (the index's vocabulary, one row per trigram).
    terms = [t for (t,) in db.execute(f"SELECT term FROM articles_fts_vocab WHERE {bounds}",
                                      params)]
    if not terms:
        return None
    if len(terms) <= MAX_OR_TERMS:
        return ("SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?",
                [" OR ".join('"' + t.replace('"', '""') + '"' for t in terms)])
    return f"SELECT doc FROM articles_fts_terms WHERE {bounds}", params
