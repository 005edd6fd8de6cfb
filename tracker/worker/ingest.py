"""From collected documents to stored articles and hits, a batch of pages per transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import islice
from typing import Iterable, Iterator

from sqlite_utils import Database

from tracker.splitter import page_articles
from tracker.documents import Document
from tracker.matching import Matcher
from tracker.sources.collect import Collected
from tracker.store import transaction
from tracker.store.articles import NewArticle, add_articles, mark_matched
from tracker.store.hits import add_hits
from tracker.store.outbox import add_outbox_for, rule_subscribers
from tracker.store.personal import add_personal_hits, subscription_of
from tracker.store.sources import save_file, save_validators
from tracker.store.stories import assign_stories
from tracker.text.fingerprint import Fingerprint
from tracker.text.fingerprint import fingerprints as story_prints

BATCH_PAGES = 50  # pages matched, then stored in one transaction


@dataclass
class Counts:
    fetched: int = 0  # articles the source gave
    new: int = 0  # articles not kept before
    hits: int = 0  # (article, rule) pairs recorded
    due: int = 0  # outbox rows: (subscription, article, rule) alerts to send


def as_new_article(document: Document, source_id: str) -> NewArticle:
    issue = document.meta.get("issue_date") or (document.published or "")[:10] or None
    return NewArticle(
        source_id=source_id, title=document.title, text=document.text, issue_date=issue,
        page=document.meta.get("page"), url=document.url, guid=document.meta.get("guid"),
        document=document.meta.get("file") or document.name, published=document.published,
        url_identifies=document.meta.get("link_is_id", True),
        doc_fields=json.dumps(fields, ensure_ascii=False)
        if (fields := document.meta.get("doc_fields")) else None)


def batches(documents: Iterable[Document], size: int) -> Iterator[list[Document]]:
    """`documents` taken `size` at a time, as they come."""
    it = iter(documents)
    while batch := list(islice(it, size)):
        yield batch


def fingerprints(articles: list[Document]) -> list[Fingerprint | None]:
    """Each article's story fingerprint, from the match key the matcher made."""
    return story_prints([a.text_key().key for a in articles])


def store_batch(db: Database, source_id: str, articles: list[Document],
                fired: list[list], counts: Counts, digest: str | None = None,
                prints: list[Fingerprint | None] | None = None) -> None:
    """One transaction: the batch's new articles, each in its story (`prints`: their
    fingerprints, made before the transaction), their hits, the alerts due for them and the
    rules they were matched with (`digest`). A kill before COMMIT leaves none of them; after
    it, all. The story comes before the alerts: a copy of a story a subscriber already has is
    not due to it again (tracker.store.stories)."""
    prints = fingerprints(articles) if prints is None else prints
    with transaction(db):
        stored = add_articles(db, [as_new_article(a, source_id) for a in articles],
                              [(a.title_key().key, a.text_key().key) for a in articles])
        new_ids = [article_id for article_id, new in stored if new]
        assign_stories(db, [(i, fp) for (i, new), fp in zip(stored, prints) if new])
        record_hits(db, [(i, found) for (i, new), found in zip(stored, fired) if new], counts)
        counts.new += len(new_ids)
        mark_matched(db, new_ids, digest)


def record_hits(db: Database, fired: list[tuple[int, list]], counts: Counts) -> None:
    """For each (article id, rules that fired in it): the hits not kept yet and the alerts due
    for them (the outbox holds one row per subscription × article × rule, so an alert already
    due or sent is never queued again). Inside the caller's transaction."""
    subscribers = rule_subscribers(db) if any(found for _, found in fired) else {}
    for article_id, found in fired:
        public = [m for m in found if subscription_of(m.rule.id) is None]
        hits = add_hits(db, article_id, public)
        counts.hits += len(hits)
        counts.due += add_outbox_for(db, article_id, hits, subscribers)
        if len(public) < len(found):  # own keywords: that subscriber's alone
            counts.due += add_personal_hits(db, article_id, found)


def ingest(db: Database, source_id: str, collected: Collected, matcher: Matcher,
           batch_pages: int = BATCH_PAGES, digest: str | None = None) -> Counts:
    """Store what a source gave: articles, their hits and the alerts due for them, then what the
    source should remember.

    Documents are taken from the source as they come, `batch_pages` at a time: matched before
    any transaction (they stay short), then stored in one. A worker killed half-way has kept
    whole batches only (each article with its hits and outbox rows); the feed's validators and
    the files read are recorded last, so the next cycle reads them again and the articles
    already kept are recognised by their content. `digest` names the folder rules `matcher`
    holds (None: none); an article stored under other rules is matched again later
    (tracker.worker.rematch)."""
    counts = Counts()
    for pages in batches(collected.documents, batch_pages):
        articles = [a for d in pages for a in page_articles(d)]
        counts.fetched += len(articles)
        if articles:
            fired = matcher.match_many(articles)
            store_batch(db, source_id, articles, fired, counts, digest, fingerprints(articles))
    with transaction(db):
        for seen in collected.files:
            save_file(db, source_id, seen.path, seen.sha256, seen.size, seen.mtime, seen.error)
        if collected.etag or collected.last_modified:
            save_validators(db, source_id, collected.etag, collected.last_modified)
    return counts
