"""The archive, trends and the API by story: a story reprinted by three papers is one row of
/articles (N 家报纸, its copies behind it), one in /trends unless copies are asked for, and the
API says its story and where else it ran."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from reprints import entry, reprints, seed_article
from tracker.matching import Matcher
from tracker.rules import load_rules
from tracker.sources.catalog import Source
from tracker.sources.collect import Collected
from tracker.store import connect, transaction
from tracker.store.sources import upsert_sources
from tracker.worker.ingest import ingest

REPO = Path(__file__).resolve().parents[1]
PAPERS = {"sxrb": "山西日报", "jzrb": "晋中日报", "kxdb": "科学导报"}


@pytest.fixture
def archive(app, seed_texts):
    """Today's issue: one story in three papers, and another story in one."""
    db = connect(Path(app.instance_path) / "tracker.db")
    with transaction(db):
        upsert_sources(db, [Source(id=s, name=n, type="folder", path="/") for s, n in PAPERS.items()])
    matcher = Matcher(load_rules(REPO / "rules"))
    today = date.today()
    original = seed_article(seed_texts, "002", "我市加快推动专业镇")
    copies = [(original.title, original.text), reprints(original)[2], reprints(original)[3]]
    for n, (sid, (title, text)) in enumerate(zip(PAPERS, copies)):
        day = (today - timedelta(days=2 - n)).isoformat()
        ingest(db, sid, Collected(documents=[entry(title, text, day, f"第{n + 1}版")]), matcher)
    other = seed_article(seed_texts, "001", "忻州")
    ingest(db, "kxdb", Collected(documents=[entry(other.title, other.text, today.isoformat())]),
           matcher)
    ids = [i for i, in db.execute("SELECT id FROM articles ORDER BY id")]
    db.conn.close()
    return ids


def test_the_archive_lists_a_story_once_with_its_papers(client, archive):
    page = client.get("/articles").get_data(as_text=True)
    assert len(re.findall(r'<article>', page)) == 2  # two stories, four articles
    assert "3 家报纸 · 共 3 篇" in page
    for paper in PAPERS.values():
        assert paper in page
    assert "首见 <a href=\"/articles/%d\">山西日报</a>" % archive[0] in page
    searched = client.get("/articles?rule=zhuanyezhen").get_data(as_text=True)
    assert len(re.findall(r'<article>', searched)) == 2 and "3 家报纸" in searched
    one = client.get(f"/articles/{archive[2]}").get_data(as_text=True)
    assert "3 家报纸刊登了这篇报道" in one and "科学导报（本篇）" in one


def test_trends_count_stories_unless_copies_are_asked_for(client, archive):
    def totals(url: str) -> dict[str, int]:
        page = client.get(url).get_data(as_text=True)
        rows = re.findall(r'rule=([a-z-]+)&amp;since=[^"]*">[^<]+</a></td>\s*<td>.*?</td>\s*'
                          r'<td class="num">(\d+)</td>', page, re.S)
        return {rule: int(n) for rule, n in rows}

    assert totals("/trends")["zhuanyezhen"] == 2
    assert totals("/trends?copies=1")["zhuanyezhen"] == 4
    assert "按篇计（含转载）" in client.get("/trends").get_data(as_text=True)


def test_the_api_says_the_story_and_where_else_it_ran(client, archive):
    headers = {"Authorization": "Bearer t0ken"}
    article = client.get(f"/api/articles/{archive[1]}", headers=headers).get_json()["article"]
    assert article["story_id"] is not None
    assert [(c["id"], c["source_name"]) for c in article["also_in"]] == [
        (archive[0], "山西日报"), (archive[2], "科学导报")]
    found = client.get("/api/articles?q=专业镇", headers=headers).get_json()["articles"]
    assert {a["story_id"] for a in found if a["id"] in archive[:3]} == {article["story_id"]}
