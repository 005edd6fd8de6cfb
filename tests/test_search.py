"""Full-text search of the archive: Chinese words of any length, filters, the CLI."""

import json
import os
import subprocess
import sys

import pytest

from tracker.store import connect, transaction
from builders import add_article
from tracker.store.articles import NewArticle
from tracker.store.search import search
from tracker.text.passage import result_passage


@pytest.fixture
def db(tmp_path, fresh_archive):
    database = connect(fresh_archive(tmp_path / "tracker.db"))
    with transaction(database):
        for sid in ("sxrb", "jzrb"):
            database["sources"].insert({"id": sid, "name": sid, "type": "feed", "location": "x"})
        for source, date, title, text in [
            ("sxrb", "2025-04-09", "标准地改革提速", "今年出让标准地12宗，企业拿地即开工。"),
            ("sxrb", "2025-04-10", "绿电产业园获批", "园区企业将用上绿\n电，并开展绿证交易。"),
            ("jzrb", "2025-03-01", "專業鎮發展觀察", "推動專業鎮上規模。"),
            ("jzrb", "2025-04-11", None, "与主题无关的一段文字。"),
        ]:
            add_article(database, NewArticle(source_id=source, title=title, text=text,
                                             issue_date=date, url=f"http://x/{date}"))
    return database


@pytest.mark.parametrize("query,titles", [
    ("标准地", ["标准地改革提速"]),              # three characters: the trigram index
    ("绿电", ["绿电产业园获批"]),                # two characters, one of them across a line break
    ("专业镇", ["專業鎮發展觀察"]),              # simplified query, traditional article
    ("專業鎮", ["專業鎮發展觀察"]),
    ("绿证交易", ["绿电产业园获批"]),
    ("氢能", []),
    ("", []),
    ('"', []),
])
def test_search_finds_chinese_words(db, query, titles):
    assert [f.title for f in search(db, query)] == titles


def test_results_are_newest_first_with_a_marked_snippet(db):
    found = search(db, "企业")
    assert [f.date for f in found] == ["2025-04-10", "2025-04-09"]
    passages = [result_passage(f.title, f.text, "企业", f.hit_snippet) for f in found]
    assert "【企业】" in passages[0]
    assert passages[1] == "今年出让标准地12宗，【企业】拿地即开工。"


def test_filters(db):
    assert [f.title for f in search(db, "企业", source="jzrb")] == []
    assert [f.title for f in search(db, "專業鎮", source="jzrb")] == ["專業鎮發展觀察"]
    assert [f.date for f in search(db, "企业", since="2025-04-10")] == ["2025-04-10"]


def test_search_command_prints_jsonl(db, tmp_path):
    env = {**os.environ, "TRACKER_INSTANCE": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "tracker", "search", "绿电", "--format", "jsonl"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    (line,) = done.stdout.splitlines()
    found = json.loads(line)
    assert set(found) == {"id", "title", "source", "date", "url", "snippet"}
    assert (found["title"], found["source"], found["date"]) == ("绿电产业园获批", "sxrb", "2025-04-10")
