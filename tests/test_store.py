"""The archive: a real SQLite file, WAL, migrations, idempotent articles, hits, concurrency."""

import subprocess
import sys
from pathlib import Path

import pytest

from tracker.matching import Matcher
from tracker.documents import Document
from tracker.rules import Rule
from tracker.store import connect, transaction
from builders import add_article
from tracker.store.articles import NewArticle, content_hash, get_article
from tracker.store.hits import add_hits, hits_for_article
from tracker.store.locks import acquire, heartbeat, release
from tracker.store.runs import finish_run, last_runs, start_run


@pytest.fixture
def db(tmp_path, fresh_archive):
    database = connect(fresh_archive(tmp_path / "tracker.db"))
    with transaction(database):
        database["sources"].insert({"id": "s", "name": "S", "type": "folder", "location": "/x"})
        database["sources"].insert({"id": "t", "name": "T", "type": "feed", "location": "http://x"})
    return database


def article(**kw) -> NewArticle:
    kw.setdefault("source_id", "s")
    kw.setdefault("title", "标题")
    kw.setdefault("text", "推动专业镇高质量发展。")
    return NewArticle(**kw)


def test_schema_is_migrated_once_and_recorded(tmp_path):
    path = tmp_path / "tracker.db"
    first = connect(path)
    assert first.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    import sqlite_utils

    from tracker.store.schema import migrations

    names = [m.name for m in migrations.pending(sqlite_utils.Database(memory=True))]
    assert names[:2] == ["m001_articles", "m002_alerts"]
    assert [r["name"] for r in first["_sqlite_migrations"].rows] == names  # all, in order
    again = connect(path)
    assert again["_sqlite_migrations"].count == len(names)  # not applied twice
    assert {"articles", "hits", "runs", "sources", "issues", "files", "locks"} <= set(again.table_names())


def test_the_same_article_is_kept_once(db):
    with transaction(db):
        one, new = add_article(db, article(issue_date="2025-04-09"))
        same, again = add_article(db, article(text="推动专业\n镇高质量发展。"))  # broken line
        trad, _ = add_article(db, article(title="標題", text="推動專業鎮高質量發展。"))
    assert new and not again and one == same == trad
    assert db["articles"].count == 1
    assert db["issues"].count == 1


def test_guid_and_url_identify_an_article_within_its_source(db):
    with transaction(db):
        a, _ = add_article(db, article(guid="g1", url="http://x/1"))
        edited, new = add_article(db, article(text="改过的正文。", guid="g1"))
        moved, _ = add_article(db, article(text="又一版。", url="http://x/1"))
        other_source, other_new = add_article(db, article(source_id="t", text="别的。", guid="g1"))
        shared_link, shared_new = add_article(db, article(text="同链接不同文。", url="http://x/1",
                                                          url_identifies=False))
    assert a == edited == moved and not new
    assert other_new and other_source != a
    assert shared_new and shared_link != a


def test_content_hash_ignores_layout_and_script():
    assert content_hash("标题", "专业镇\n发展") == content_hash("標題", "专 业 镇发展")
    assert content_hash("标题", "专业镇") != content_hash("标题", "标准地")


def test_hits_are_recorded_once_per_article_and_rule(db):
    rule = Rule(id="zyz", name="专业镇", keywords=("专业镇",))
    found = Matcher([rule]).match(Document("a", "推动专业镇发展。", "article", title="标题"))
    with transaction(db):
        article_id, _ = add_article(db, article())
        assert len(add_hits(db, article_id, found)) == 1
        assert add_hits(db, article_id, found) == []
    (hit,) = hits_for_article(db, article_id)
    assert hit["rule_id"] == "zyz" and hit["count"] == 1
    assert hit["snippets"][0]["snippet"] == "推动【专业镇】发展。"
    assert get_article(db, article_id)["title"] == "标题"


def test_a_failed_transaction_leaves_nothing(db):
    with pytest.raises(RuntimeError):
        with transaction(db):
            add_article(db, article())
            raise RuntimeError("killed half-way")
    assert db["articles"].count == 0


def test_runs_are_recorded(db):
    run = start_run(db, "s")
    finish_run(db, run, status="error", error="s: server answered HTTP 500", fetched=0)
    (last,) = last_runs(db)
    assert (last["status"], last["error"]) == ("error", "s: server answered HTTP 500")
    assert last["finished"] >= last["started"]


def test_the_worker_lock(db):
    assert acquire(db, "worker", "a") is None
    assert "a (since" in acquire(db, "worker", "b")
    assert heartbeat(db, "worker", "a") and not heartbeat(db, "worker", "b")
    assert acquire(db, "worker", "b", stale=0) is None  # a holder that stopped beating
    assert not heartbeat(db, "worker", "a")
    release(db, "worker", "b")
    assert acquire(db, "worker", "a") is None


WRITER = """
import sys
from tracker.store import connect, transaction
from tracker.store.articles import NewArticle, add_articles
db = connect(sys.argv[1])
for i in range(150):
    with transaction(db):
        add_articles(db, [NewArticle(source_id="s", title=None, text=f"{sys.argv[2]} 第{i}篇：专业镇。")])
    db.execute("SELECT count(*) FROM articles").fetchone()
print("done")
"""


def test_two_processes_write_at_once_without_database_is_locked(db, tmp_path: Path):
    path = tmp_path / "tracker.db"
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), name],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for name in ("甲", "乙")]
    outputs = [p.communicate(timeout=120) for p in procs]
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0 and out.strip() == "done", err
    assert connect(path)["articles"].count == 300


def test_an_archive_of_the_last_release_keeps_its_migrations_under_their_new_names(tmp_path):
    """Migration names run in the order they apply; an archive that recorded the old names
    (m005_security before m004_notices, m006_trend_counts) is renamed, nothing applied twice."""
    import sqlite_utils

    from tracker.store.db import RENAMED, migrate
    from tracker.store.schema import migrations

    names = [m.name for m in migrations._migrations]
    assert names == sorted(names) and len({n[:4] for n in names}) == len(names)
    path = tmp_path / "released.db"
    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before="m008_matched_with")
    for before, after in RENAMED.items():
        old.execute("UPDATE _sqlite_migrations SET name = ? || '~' WHERE name = ?", [before, after])
    old.execute("UPDATE _sqlite_migrations SET name = rtrim(name, '~')")
    old.conn.commit()
    recorded = {row[0] for row in old.execute("SELECT name FROM _sqlite_migrations")}
    assert set(RENAMED) <= recorded
    old.conn.close()
    applied = migrate(path)
    assert applied and all(name >= "m008" for name in applied)  # only the new ones ran
    db = sqlite_utils.Database(path)
    assert sorted(r[0] for r in db.execute("SELECT name FROM _sqlite_migrations")) == names


def test_an_archive_from_before_keeps_its_snippets_under_the_new_name(tmp_path):
    """m015: the column `hits.hits` (and `personal_hits.hits`) becomes `snippets`, its rows kept;
    the per-day count triggers on `hits` still work."""
    import sqlite_utils

    from tracker.store import migrate
    from tracker.store.latest import latest
    from tracker.store.schema import migrations

    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before="m015_snippets")
    old["sources"].insert({"id": "s", "name": "S", "type": "folder", "location": "/x"})
    old.execute("INSERT INTO articles (source_id, title, text, content_hash, issue_date, "
                "first_seen) VALUES ('s', '题', '推动专业镇发展', 'h1', '2025-04-09', "
                "'2025-04-09T08:00:00+00:00')")
    snippets = '[{"keyword": "专业镇", "field": "body", "offset": 2, "snippet": "推动【专业镇】发展"}]'
    old.execute("INSERT INTO hits (article_id, rule_id, rule_name, count, hits, matched_at) "
                "VALUES (1, 'zyz', '专业镇', 1, ?, '2025-04-09T08:00:00+00:00')", [snippets])
    old["subscriptions"].insert({"channel": "email", "address": "a@example.org", "rules": "[]",
                                 "frequency": "daily", "state": "active", "created_at": "x"})
    old.execute("INSERT INTO personal_hits (article_id, subscription_id, rule_id, rule_name, "
                "count, hits, matched_at) VALUES (1, 1, 'personal:1', '我的词', 1, ?, 'x')",
                [snippets])
    old.conn.commit()
    old.conn.close()
    assert migrate(path)[0] == "m015_snippets"
    db = connect(path, migrate=False)
    for table in ("hits", "personal_hits"):
        assert "hits" not in db[table].columns_dict
        assert db.execute(f"SELECT snippets FROM {table}").fetchall() == [(snippets,)]
    (hit,) = hits_for_article(db, 1)
    assert hit["snippets"][0]["snippet"] == "推动【专业镇】发展"
    assert latest(db)[0].hit_snippet == "推动【专业镇】发展"
    with transaction(db):
        db.execute("INSERT INTO hits (article_id, rule_id, rule_name, count, snippets, "
                   "matched_at) VALUES (1, 'other', '别的', 1, '[]', 'x')")
    assert db.execute("SELECT rule_id, articles FROM hit_days ORDER BY rule_id").fetchall() == [
        ("other", 1), ("zyz", 1)]
    assert migrate(path) == []
