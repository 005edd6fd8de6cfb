"""Storing at scale: batches of pages per transaction (idempotent, whole after a SIGKILL),
sources that stream, the contentless search index and its migration, per-day hit counts, and
web requests that read while another process holds the write lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlite_utils

from tracker.documents import Document
from tracker.matching import Matcher
from tracker.rules import Rule
from tracker.sources.catalog import Source
from tracker.sources.collect import Collected, SourceState, collect_folder
from tracker.store import connect, migrate, transaction
from tracker.store.schema import migrations
from tracker.store.search import search
from tracker.store.trends import weekly_counts
from tracker.worker.ingest import ingest

ROOT = Path(__file__).resolve().parents[1]
RULES = [Rule(id="zyz", name="专业镇", keywords=("专业镇",)), Rule(id="fz", name="发展",
                                                                  keywords=("发展",))]


def pages(seed_texts: dict[str, str], n: int) -> list[Document]:
    texts = list(seed_texts.values())
    return [Document(f"p{i}", f"第{i}版\n" + texts[i % len(texts)], "text",
                     meta={"issue_date": f"2025-04-{1 + i % 28:02d}", "page": str(i)})
            for i in range(n)]


@pytest.fixture
def db(tmp_path):
    database = connect(tmp_path / "a.db")
    with transaction(database):
        database["sources"].insert({"id": "s", "name": "S", "type": "folder", "location": "/x"})
        database.execute("INSERT INTO subscriptions (channel, address, rules, frequency, state, "
                         "created_at) VALUES ('email', 'a@example.org', '[\"zyz\",\"fz\"]', "
                         "'instant', 'active', '2025-01-01')")
    return database


def state(database: sqlite_utils.Database) -> dict:
    """What an ingest leaves, without ids or times."""
    q = database.execute
    return {
        "articles": sorted(q("SELECT content_hash, issue_date FROM articles").fetchall()),
        "hits": sorted(q("SELECT a.content_hash, h.rule_id, h.count FROM hits h "
                         "JOIN articles a ON a.id = h.article_id").fetchall()),
        "outbox": sorted(q("SELECT a.content_hash, o.rule_id FROM outbox o "
                           "JOIN articles a ON a.id = o.article_id").fetchall()),
    }


def test_batches_store_what_one_article_at_a_time_stored_and_again_nothing(db, tmp_path,
                                                                          seed_texts):
    docs = pages(seed_texts, 30)
    first = ingest(db, "s", Collected(documents=iter(docs)), Matcher(RULES), batch_pages=7)
    assert first.new > 0 and first.hits > 0 and first.due == first.hits  # one subscriber
    single = connect(tmp_path / "b.db")
    with transaction(single):
        single["sources"].insert({"id": "s", "name": "S", "type": "folder", "location": "/x"})
        single.execute("INSERT INTO subscriptions (channel, address, rules, frequency, state, "
                       "created_at) SELECT channel, address, rules, frequency, state, created_at "
                       "FROM (SELECT 'email' channel, 'a@example.org' address, "
                       "'[\"zyz\",\"fz\"]' rules, 'instant' frequency, 'active' state, "
                       "'2025-01-01' created_at)")
    one_by_one = ingest(single, "s", Collected(documents=docs), Matcher(RULES), batch_pages=1)
    assert (first.new, first.hits, first.due) == (one_by_one.new, one_by_one.hits, one_by_one.due)
    assert state(db) == state(single)
    again = ingest(db, "s", Collected(documents=docs), Matcher(RULES), batch_pages=50)
    assert (again.new, again.hits, again.due) == (0, 0, 0)
    assert again.fetched == first.fetched


def test_documents_are_taken_a_batch_at_a_time_and_each_batch_is_committed(db, tmp_path,
                                                                          seed_texts):
    docs = pages(seed_texts, 12)
    other = connect(tmp_path / "a.db", migrate=False, read_only=True)
    seen_when_taken: list[int] = []

    def stream():
        for d in docs:
            seen_when_taken.append(other.execute("SELECT count(*) FROM articles").fetchone()[0])
            yield d

    ingest(db, "s", Collected(documents=stream()), Matcher(RULES), batch_pages=4)
    # Page 5 is taken only after pages 1–4 were stored and committed: nothing is held back.
    assert seen_when_taken[:4] == [0, 0, 0, 0]
    assert seen_when_taken[4] > 0 and seen_when_taken[8] > seen_when_taken[4]


def test_a_folder_source_reads_its_files_as_they_are_taken(tmp_path, seed_texts):
    folder = tmp_path / "drop"
    folder.mkdir()
    for i, text in enumerate(list(seed_texts.values())[:3]):
        (folder / f"2025-04-0{i + 1}_p{i}.txt").write_text(text, encoding="utf-8")
        os.utime(folder / f"2025-04-0{i + 1}_p{i}.txt", (1, 1))
    source = Source(id="f", name="F", type="folder", path=str(folder))
    out = collect_folder(source, {}, SourceState(), date(2025, 4, 9))
    assert out.files == []  # nothing read yet
    first = next(iter(out.documents))
    assert first.meta["file"].startswith("2025-04-01") and len(out.files) == 0
    rest = list(out.documents)
    assert len(out.files) == 3 and {d.meta["file"] for d in rest} >= {f.path for f in out.files[1:]}


KILLED = textwrap.dedent("""
    import sys
    from pathlib import Path
    from tracker.documents import Document
    from tracker.matching import Matcher
    from tracker.rules import Rule
    from tracker.sources.collect import Collected
    from tracker.store import connect
    from tracker.worker.ingest import ingest

    texts = [p.read_text(encoding="utf-8") for p in sorted(Path(sys.argv[2]).glob("*.txt"))]
    docs = (Document(f"p{i}", f"第{i}版\\n" + texts[i % len(texts)], "text",
                     meta={"issue_date": "2025-04-09"}) for i in range(int(sys.argv[3])))
    rules = [Rule(id="zyz", name="专业镇", keywords=("专业镇",)),
             Rule(id="fz", name="发展", keywords=("发展",))]
    ingest(connect(sys.argv[1]), "s", Collected(documents=docs), Matcher(rules), batch_pages=5)
""")


def test_a_kill_mid_ingest_keeps_whole_articles_and_the_rerun_completes_them(db, tmp_path,
                                                                            seeds_dir,
                                                                            seed_texts):
    total = 400
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-c", KILLED, str(tmp_path / "a.db"),
                              str(seeds_dir), str(total)], env=env)
    watch = connect(tmp_path / "a.db", migrate=False, read_only=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and child.poll() is None:
        if watch.execute("SELECT count(*) FROM articles").fetchone()[0] > 0:
            break
        time.sleep(0.01)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL, "the ingest ended before it could be killed"
    # Every article kept has its hits and their outbox rows, and is in the search index.
    kept = watch.execute("SELECT count(*) FROM articles").fetchone()[0]
    assert kept > 0
    matcher = Matcher(RULES)
    for article_id, title, text in watch.execute("SELECT id, title, text FROM articles"):
        fired = {m.rule.id for m in matcher.match_many(
            [Document("a", text, "article", title=title)])[0]}
        hits = {r for (r,) in watch.execute("SELECT rule_id FROM hits WHERE article_id = ?",
                                            [article_id])}
        due = {r for (r,) in watch.execute("SELECT rule_id FROM outbox WHERE article_id = ?",
                                           [article_id])}
        assert hits == fired == due
    assert {f.id for f in search(watch, "专业镇", limit=10_000)} == {
        i for (i,) in watch.execute("SELECT article_id FROM hits WHERE rule_id = 'zyz'")}
    # Run again to the end: the same archive as one uninterrupted run.
    docs = (Document(f"p{i}", f"第{i}版\n" + t, "text", meta={"issue_date": "2025-04-09"})
            for i, t in ((i, list(seed_texts.values())[i % len(seed_texts)])
                         for i in range(total)))
    ingest(db, "s", Collected(documents=docs), Matcher(RULES), batch_pages=5)
    clean = connect(tmp_path / "clean.db")
    with transaction(clean):
        clean["sources"].insert({"id": "s", "name": "S", "type": "folder", "location": "/x"})
        clean.execute("INSERT INTO subscriptions (channel, address, rules, frequency, state, "
                      "created_at) VALUES ('email', 'a@example.org', '[\"zyz\",\"fz\"]', "
                      "'instant', 'active', '2025-01-01')")
    docs = (Document(f"p{i}", f"第{i}版\n" + t, "text", meta={"issue_date": "2025-04-09"})
            for i, t in ((i, list(seed_texts.values())[i % len(seed_texts)])
                         for i in range(total)))
    ingest(clean, "s", Collected(documents=docs), Matcher(RULES), batch_pages=50)
    assert state(db) == state(clean)


def test_the_search_index_keeps_no_text_and_finds_short_queries(db):
    from builders import add_article
    from tracker.store.articles import NewArticle

    with transaction(db):
        one, _ = add_article(db, NewArticle("s", "绿电", "发展綠\n電交易。", issue_date="2025-04-09"))
        two, _ = add_article(db, NewArticle("s", "标题", "风电与光伏。末尾是电", issue_date="2025-04-08"))
    tables = set(db.table_names())
    assert "articles_fts_content" not in tables  # contentless: the text is kept once
    assert [f.id for f in search(db, "绿电")] == [one]  # a 2-character title, 繁体 in the text
    assert [f.id for f in search(db, "电")] == [one, two]  # last character of a text
    assert [f.id for f in search(db, "是电")] == [two]
    assert [f.id for f in search(db, "风电与")] == [two]
    assert search(db, "\x1f") == [] and search(db, "电\x1f") != []


def test_the_migration_rebuilds_an_archive_indexed_the_old_way(tmp_path):
    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before=[m.name for m in migrations.pending(old)
                                       if m.name.startswith("m006_")][0])
    assert old.execute("SELECT sql FROM sqlite_master WHERE name = 'articles_fts'"
                       ).fetchone()[0].find("content=''") < 0
    old["sources"].insert({"id": "s", "name": "S", "type": "folder", "location": "/x"})
    old.execute("INSERT INTO articles (source_id, title, text, content_hash, issue_date, "
                "first_seen) VALUES ('s', '题', '推动专业镇发展', 'h1', '2025-04-09', "
                "'2025-04-09T08:00:00+00:00')")
    old.execute("INSERT INTO articles_fts (rowid, title, body) VALUES (1, '题', '推动专业镇发展')")
    old.execute("INSERT INTO hits (article_id, rule_id, rule_name, count, hits, matched_at) "
                "VALUES (1, 'zyz', '专业镇', 1, '[]', '2025-04-09T08:00:00+00:00')")
    old.conn.commit()
    old.conn.close()
    applied = migrate(path)
    assert "m006_contentless_search" in applied and "m007_trend_counts" in applied
    db = connect(path, migrate=False)
    assert [f.id for f in search(db, "专业镇")] == [1] and [f.id for f in search(db, "专业")] == [1]
    assert weekly_counts(db, 1, date(2025, 4, 9))[1] == {"zyz": [1]}
    assert migrate(path) == []


def test_per_day_counts_follow_every_hit_written_or_deleted(db, seed_texts):
    ingest(db, "s", Collected(documents=pages(seed_texts, 20)), Matcher(RULES))
    direct = sorted(db.execute(
        "SELECT a.day, h.rule_id, a.source_id, count(*) FROM hits h JOIN articles a "
        "ON a.id = h.article_id GROUP BY 1, 2, 3").fetchall())
    assert direct and sorted(db.execute("SELECT * FROM hit_days").fetchall()) == direct
    with transaction(db):
        db.execute("DELETE FROM outbox")
        db.execute("DELETE FROM hits WHERE rule_id = 'fz'")
    assert {r for (r,) in db.execute("SELECT DISTINCT rule_id FROM hit_days")} <= {"zyz"}
    mondays, counts = weekly_counts(db, 2, date(2025, 4, 9))
    assert counts.get("zyz") == [
        db.execute("SELECT count(*) FROM hits h JOIN articles a ON a.id = h.article_id WHERE "
                   "h.rule_id = 'zyz' AND a.day BETWEEN ? AND ?", [m.isoformat(),
                                                          (m + timedelta(days=6)).isoformat()]
                   ).fetchone()[0] for m in mondays]


HOLD = textwrap.dedent("""
    import sys
    from tracker.store import connect
    db = connect(sys.argv[1], migrate=False)
    db.execute("BEGIN IMMEDIATE")
    db.execute("INSERT INTO runs (source_id, started, status) VALUES ('x', 'now', 'running')")
    print("holding", flush=True)
    sys.stdin.readline()
    db.execute("ROLLBACK")
""")


def test_pages_are_served_while_another_process_holds_the_write_lock(app):
    from tracker.config import instance_file

    path = instance_file(app.config, "DATABASE")
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert holder.stdout.readline().strip() == "holding"
        client = app.test_client()
        for url in ("/healthz", "/articles?q=专业镇", "/articles?q=电", "/trends", "/subscribe"):
            answer = client.get(url)
            assert answer.status_code == 200, url
        assert holder.poll() is None  # the lock was held all along
    finally:
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait(timeout=30)


def test_a_get_request_cannot_write(app):
    from tracker.web.db import get_db

    with app.test_request_context("/healthz", method="GET"):
        with pytest.raises(Exception, match="readonly|read-only|query_only"):
            get_db().execute("INSERT INTO runs (source_id, started) VALUES ('x', 'y')")
    with app.test_request_context("/subscribe", method="POST"):
        get_db().execute("DELETE FROM runs WHERE source_id = 'nobody'")


def test_rule_names_are_read_again_only_when_a_rule_file_changes(tmp_path):
    from tracker.web import create_app
    from tracker.web.rulecache import checked_rules

    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "a.yaml").write_text("id: a\nname: 甲\nkeywords: [甲]\n", encoding="utf-8")
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "i"), "RULES": str(rules)})
    with app.app_context():
        first = checked_rules()
        assert [r.name for r in first[0]] == ["甲"] and checked_rules() is first
        (rules / "a.yaml").write_text("id: a\nname: 乙乙\nkeywords: [甲]\n", encoding="utf-8")
        assert [r.name for r in checked_rules()[0]] == ["乙乙"]
        (rules / "b.yaml").write_text("id: b\nname: 丙\nkeywords: [丙]\n", encoding="utf-8")
        assert [r.id for r in checked_rules()[0]] == ["a", "b"]


def test_requests_do_not_run_migrations(app):
    from tracker.config import instance_file

    path = instance_file(app.config, "DATABASE")
    db = connect(path, migrate=False)
    db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm007_trend_counts'")
    client = app.test_client()
    for url in ("/healthz", "/articles?q=发展", "/trends"):
        assert client.get(url).status_code == 200, url
    assert client.post("/subscribe", data={}).status_code in (200, 400)
    # Still missing: no request applied it (it would also fail: its tables exist).
    assert db.execute("SELECT count(*) FROM _sqlite_migrations WHERE name = 'm007_trend_counts'"
                      ).fetchone()[0] == 0


def test_the_keys_the_matcher_made_hash_as_the_store_would(seed_texts):
    from tracker.splitter import page_articles
    from tracker.store.articles import _hash, content_hash
    from tracker.text.normalize import normalize

    for name, text in seed_texts.items():
        for a in page_articles(Document(name, text, "text")):
            assert a.text_key().key == normalize(a.text).key
            assert _hash(a.title_key().key, a.text_key().key) == content_hash(a.title, a.text)
