"""Search cannot be made expensive by the public. `/articles?q=的` would range over every
occurrence of 的 in the index (a cost that grows with the archive): a query needs two characters, and each client may search SEARCH_LIMIT times (30 a minute). The
app as `tracker serve` makes it (production config), on a real SQLite archive; the timing is
`bench/search_bench.py` (`make bench`)."""

from __future__ import annotations

from pathlib import Path

from conftest import REPO_RULES
from tracker.store import connect, transaction
from builders import add_article
from tracker.store.articles import NewArticle
from tracker.web import create_app


def archive_app(tmp_path: Path, **config):
    instance = tmp_path / "instance"
    instance.mkdir()
    db = connect(instance / "tracker.db")
    with transaction(db):
        db.execute("INSERT INTO sources (id, name, type, location) VALUES "
                   "('s', '演示日报', 'folder', '/x')")
        for n in range(12):
            add_article(db, NewArticle("s", f"第{n}篇：绿电的消息", f"推动绿电的发展，第{n}次。",
                                       issue_date=f"2025-04-{n + 1:02d}"))
    db.conn.close()
    return create_app({"INSTANCE_PATH": str(instance), "RULES": str(REPO_RULES), **config})


def test_a_one_character_search_is_not_run_and_says_why_in_chinese(tmp_path):
    client = archive_app(tmp_path).test_client()
    for q in ("的", " 的 ", "ｅ", "a"):
        page = client.get("/articles", query_string={"q": q}).get_data(as_text=True)
        assert "太短，没有用来搜索：请至少输入 2 个字" in page, q
        assert "最新文章" in page and "共 12 篇" not in page  # the latest, not a search
    found = client.get("/articles", query_string={"q": "绿电"}).get_data(as_text=True)
    assert "共 12 篇" in found and "太短" not in found


def test_each_client_may_search_thirty_times_a_minute(tmp_path):
    app = archive_app(tmp_path)
    one, other = app.test_client(), app.test_client()
    one.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    other.environ_base["REMOTE_ADDR"] = "203.0.113.8"
    statuses = [one.get("/articles", query_string={"q": f"绿电{n}"}).status_code
                for n in range(31)]
    assert statuses == [200] * 30 + [429]
    refused = one.get("/articles", query_string={"q": "绿电"})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "搜索太频繁" in refused.get_data(as_text=True)
    assert one.get("/articles").status_code == 200  # the latest articles: no search, no count
    assert other.get("/articles", query_string={"q": "绿电"}).status_code == 200
