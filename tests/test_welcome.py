"""A new subscriber's first alert holds what its window says: the articles of the last
WELCOME_DAYS days by their issue date (not by when their hits were stored: a backfill or a
rematch of an old archive is not news), their own keywords' hits included."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tracker.alerts.subscribe import subscribe, welcome
from tracker.documents import Document
from tracker.matching import Matcher
from tracker.rules import Rule
from tracker.store import connect, transaction
from tracker.store.articles import NewArticle, add_articles
from tracker.sources.catalog import Source
from tracker.store.sources import upsert_sources
from tracker.store.personal import add_personal_hits, personal_rule_id, set_keywords
from tracker.worker.ingest import Counts, record_hits

TODAY = date(2026, 3, 10)
RULE = Rule(id="zyz", name="专业镇", keywords=("专业镇",))


@pytest.fixture
def db(tmp_path, fresh_archive):
    database = connect(fresh_archive(tmp_path / "tracker.db"))
    with transaction(database):
        upsert_sources(database, [Source(id="s", name="某日报", type="folder", path=str(tmp_path))])
    yield database
    database.conn.close()


def keep(db, age: int, text: str) -> int:
    """An article of the issue `age` days before TODAY, its hits stored now."""
    day = (TODAY - timedelta(days=age)).isoformat()
    with transaction(db):
        ((article_id, _),) = add_articles(db, [NewArticle("s", f"第{age}天", text, issue_date=day)])
        found = Matcher([RULE]).match_many([Document("x", text, "article", title="")])
        record_hits(db, [(article_id, found[0])], Counts())
    return article_id


def test_the_window_is_counted_by_issue_date(db):
    ages = {age: keep(db, age, f"第{age}天的稿件：专业镇建设提速。") for age in (0, 6, 7, 30)}
    config = {"WELCOME_DAYS": 7, "TIMEZONE": "Asia/Shanghai"}
    with transaction(db):
        sub, _ = subscribe(db, {**config, "WELCOME_DAYS": 0}, "email", "a@example.org",
                           ["zyz"], ["zyz"], confirmed=True, admin=True)
        assert welcome(db, config, sub.id, today=TODAY) == 2
    queued = {row[0] for row in db.execute("SELECT article_id FROM outbox")}
    assert queued == {ages[0], ages[6]}  # today and six days back: seven days


def test_own_keywords_count_in_it(db):
    config = {"WELCOME_DAYS": 7}
    with transaction(db):
        sub, _ = subscribe(db, {"WELCOME_DAYS": 0}, "email", "a@example.org", ["zyz"], ["zyz"],
                           confirmed=True, admin=True)
        set_keywords(db, sub.id, ["绿电"])
    own = Rule(id=personal_rule_id(sub.id), name="自定义", keywords=("绿电",))
    recent, old = (keep(db, age, f"第{age}天：绿电交易规模扩大。") for age in (1, 20))
    for article_id in (recent, old):
        with transaction(db):
            found = Matcher([own]).match_many([Document("x", "绿电交易规模扩大。", "article")])
            add_personal_hits(db, article_id, found[0])
    db.execute("DELETE FROM outbox")
    with transaction(db):
        assert welcome(db, config, sub.id, today=TODAY) == 1
    assert [row[0] for row in db.execute("SELECT article_id FROM outbox")] == [recent]
