"""From collected documents to stored articles and hits, one transaction per article."""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from tracker.articles import page_articles
from tracker.documents import Document
from tracker.matching import Matcher
from tracker.sources.collect import Collected
from tracker.store import transaction
from tracker.store.articles import NewArticle, add_article
from tracker.store.hits import add_hits
from tracker.store.outbox import add_outbox
from tracker.store.personal import add_personal_hits, subscription_of
from tracker.store.sources import save_file, save_validators


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
        url_identifies=document.meta.get("link_is_id", True))


def ingest(db: Database, source_id: str, collected: Collected, matcher: Matcher) -> Counts:
    """Store what a source gave: articles, their hits and the alerts due for them, then what the
    source should remember.

    Matching happens before any transaction (they stay short); each article is stored with its
    hits and outbox rows in one transaction, so a worker killed half-way has kept whole articles only, and the
    feed's validators and the files read are recorded last: the next cycle reads them again and
    the articles already kept are recognised by their content."""
    articles = [a for d in collected.documents for a in page_articles(d)]
    counts = Counts(fetched=len(articles))
    for article, fired in zip(articles, matcher.match_many(articles)):
        with transaction(db):
            article_id, new = add_article(db, as_new_article(article, source_id))
            if new:
                counts.new += 1
                public = [m for m in fired if subscription_of(m.rule.id) is None]
                hits = add_hits(db, article_id, public)
                counts.hits += len(hits)
                counts.due += add_outbox(db, article_id, hits)
                if len(public) < len(fired):  # own keywords: that subscriber's alone
                    counts.due += add_personal_hits(db, article_id, fired)
    with transaction(db):
        for seen in collected.files:
            save_file(db, source_id, seen)
        if collected.etag or collected.last_modified:
            save_validators(db, source_id, collected.etag, collected.last_modified)
    return counts
