"""Clustering an archive into stories after the fact (`tracker stories rebuild`): the articles
kept before stories existed, or all of them again (`reset`).

Articles are taken in the order papers print them (by day, then id), `BATCH` at a time; each
batch is put in its stories (tracker.store.stories.assign_stories, as the worker does when it
stores articles) in one transaction, with what subscribers were already due or sent of them, so
a later copy is not sent to them. The work left is exactly the articles in no story yet: a
rebuild killed half-way goes on from there when run again, and nothing is done twice. Only
`BATCH` articles are in memory at a time, whatever the size of the archive.
"""

from __future__ import annotations

from typing import Callable

from sqlite_utils import Database

from tracker.store import transaction
from tracker.store.stories import (assign_stories, cluster_progress, forget_stories,
                                   remember_sent, unclustered)
from tracker.text.fingerprint import fingerprints
from tracker.text.normalize import normalize

BATCH = 500


def rebuild(db: Database, reset: bool = False,
            advance: Callable[[int], None] | None = None) -> tuple[int, int]:
    """Put every article in no story yet in its story; (articles clustered now, stories in the
    archive). `reset`: first forget every story (in one transaction), to cluster all again.
    `advance` is told how many articles each batch did."""
    if reset:
        with transaction(db):
            forget_stories(db)
    done = 0
    while rows := unclustered(db, BATCH):
        prints = fingerprints([normalize(text).key for _, _, text in rows])
        with transaction(db):
            assign_stories(db, [(article_id, fp) for (article_id, _, _), fp in zip(rows, prints)])
            remember_sent(db, [article_id for article_id, _, _ in rows])
        done += len(rows)
        if advance:
            advance(len(rows))
    return done, db.execute("SELECT count(*) FROM stories").fetchone()[0]


def left_to_cluster(db: Database) -> int:
    """Articles in no story yet (what `rebuild` without `reset` will do)."""
    clustered, total = cluster_progress(db)
    return total - clustered
