"""`tracker stories rebuild`: an archive kept before stories existed is clustered after the
fact, a batch per transaction; killed half-way, it goes on where it stopped."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import tracker.worker.stories as rebuilding
from reprints import reprints, seed_article
from tracker.sources.catalog import Source
from tracker.store import connect, transaction
from tracker.store.articles import NewArticle, add_articles
from tracker.store.sources import upsert_sources
from tracker.worker.stories import rebuild

PAPERS = ["sxrb", "jzrb", "kxdb", "tyrb", "dtrb"]


def old_archive(path: Path, seed_texts: dict[str, str]) -> list[tuple[str, int]]:
    """Three stories of five copies each, kept as before stories: no article in a story.
    (story name, article id) of each copy."""
    db = connect(path)
    with transaction(db):
        upsert_sources(db, [Source(id=p, name=p, type="folder", path="/") for p in PAPERS])
    out = []
    for name, (page, part) in {"xinhua": ("002", "三晋有花"), "jinzhong": ("002", "我市加快推动专业镇"),
                               "xinzhou": ("001", "忻州")}.items():
        article = seed_article(seed_texts, page, part)
        copies = [(article.title, article.text), *reprints(article)]
        with transaction(db):
            stored = add_articles(db, [NewArticle(p, t, x, issue_date=f"2025-04-{9 + n:02d}")
                                       for n, (p, (t, x)) in enumerate(zip(PAPERS, copies))])
        out += [(name, i) for i, _ in stored]
    with transaction(db):
        db.execute("UPDATE articles SET story_id = NULL")
        for table in ("stories", "story_bands", "story_signatures"):
            db.execute(f"DELETE FROM {table}")
    db.conn.close()
    return out


def grouping(db, copies: list[tuple[str, int]]) -> dict[str, set[int]]:
    stories = dict(db.execute("SELECT id, story_id FROM articles").fetchall())
    found: dict[str, set[int]] = {}
    for name, article_id in copies:
        found.setdefault(name, set()).add(stories[article_id])
    return found


def test_a_rebuild_killed_half_way_goes_on_where_it_stopped(tmp_path, seed_texts, monkeypatch):
    path = tmp_path / "tracker.db"
    copies = old_archive(path, seed_texts)
    monkeypatch.setattr(rebuilding, "BATCH", 4)
    db = connect(path)
    done: list[int] = []

    def killed(n: int) -> None:
        done.append(n)
        if len(done) == 2:
            raise KeyboardInterrupt  # killed after two batches were committed

    with pytest.raises(KeyboardInterrupt):
        rebuild(db, advance=killed)
    assert db.execute("SELECT count(*) FROM articles WHERE story_id IS NOT NULL").fetchone() == (8,)
    clustered, stories = rebuild(db)
    assert clustered == 7  # the rest, nothing twice
    found = grouping(db, copies)
    assert all(len(ids) == 1 for ids in found.values()), found
    assert len(set().union(*found.values())) == 3 == stories


def test_the_command_shows_its_progress_and_keeps_what_was_sent(tmp_path, seed_texts):
    instance = tmp_path / "instance"
    copies = old_archive(instance / "tracker.db", seed_texts)
    db = connect(instance / "tracker.db")
    with transaction(db):  # a subscriber was sent the first copy before stories existed
        db.execute("INSERT INTO subscriptions (channel, address, rules, frequency, state, "
                   "created_at) VALUES ('email', 'li@example.org', '[]', 'instant', 'active', 'x')")
        db.execute("INSERT INTO outbox (subscription_id, article_id, rule_id, created_at) "
                   "VALUES (1, ?, 'zhuanyezhen', 'x')", [copies[0][1]])
    env = {**os.environ, "TRACKER_INSTANCE": str(instance)}
    done = subprocess.run([sys.executable, "-m", "tracker", "stories", "rebuild"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "15 articles put in stories; the archive holds 3 stories" in done.stdout
    assert "15/15 articles" in done.stderr  # its progress, a line per batch in a log
    # A later copy of the story sent before is not due to that subscriber.
    with transaction(db):
        db.execute("INSERT INTO outbox (subscription_id, article_id, rule_id, created_at) "
                   "VALUES (1, ?, 'zhuanyezhen', 'y')", [copies[1][1]])
    assert db.execute("SELECT article_id FROM outbox").fetchall() == [(copies[0][1],)]
    again = subprocess.run([sys.executable, "-m", "tracker", "stories", "rebuild", "--reset"],
                           env=env, capture_output=True, text=True, timeout=300)
    assert "15 articles put in stories; the archive holds 3 stories" in again.stdout, again.stderr
