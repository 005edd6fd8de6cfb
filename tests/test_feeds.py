"""Atom feeds of hits that a feed reader can follow: a public one per theme, a private one per
subscription behind its token; one entry per story, newest first, with snippets and links;
conditional GETs answered with 304. Checked with feedparser, as readers parse them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import feedparser
import pytest

from reprints import entry, seed_article
import test_story_web
from tracker.alerts.links import MANAGE, feed_link, make_token
from tracker.alerts.subscribe import subscribe
from tracker.matching import Matcher
from tracker.rules import load_rules
from tracker.sources.collect import Collected
from tracker.store import connect, transaction
from tracker.worker.ingest import ingest

archive = test_story_web.archive  # the same archive: one story in three papers, one in one
REPO = Path(__file__).resolve().parents[1]
THEMES = ["zhuanyezhen", "biaozhundi", "lvdian", "yingshang-huanjing", "xinnengyuan"]


def parsed(response):
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.get_data())
    assert not feed.bozo, feed.bozo_exception
    return feed


def test_a_themes_feed_lists_its_stories_newest_first(client, archive):
    feed = parsed(client.get("/rules/zhuanyezhen/feed.atom"))
    assert feed.version == "atom10" and "专业镇" in feed.feed.title
    titles = [e.title for e in feed.entries]
    assert len(titles) == 2  # two stories; the first of them in three papers
    assert titles[0] == seed_article_title("001", "忻州")  # stored last, listed first
    story = feed.entries[1]
    links = {link.rel: link.href for link in story.links}
    assert links["alternate"].startswith("https://tracker.example.org/articles/")
    assert "【" not in story.summary and "专业镇" in story.summary
    html = story.content[0].value
    assert "<strong>专业镇</strong>" in html and "也见于" in html and "主题：" in html
    assert "也见于 晋中日报 第2版、科学导报 第3版" in html  # anchored at its first copy
    assert story.author == "山西日报" and [t.term for t in story.tags] == ["zhuanyezhen"]
    assert client.get("/rules/no-such-rule/feed.atom").status_code == 404
    assert client.get("/rules/personal:1/feed.atom").status_code == 404


_TITLES: dict[tuple[str, str], str] = {}


def seed_article_title(page: str, part: str) -> str:
    return _TITLES[(page, part)]


@pytest.fixture(autouse=True)
def titles(seed_texts):
    _TITLES[("001", "忻州")] = seed_article(seed_texts, "001", "忻州").title


def test_a_feed_answers_conditional_gets_and_changes_with_a_new_story(app, client, archive,
                                                                      seed_texts):
    first = client.get("/rules/zhuanyezhen/feed.atom")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert client.get("/rules/zhuanyezhen/feed.atom",
                      headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/rules/zhuanyezhen/feed.atom",
                      headers={"If-Modified-Since": modified}).status_code == 304
    db = connect(Path(app.instance_path) / "tracker.db")
    newer = seed_article(seed_texts, "000", "金融助")
    ingest(db, "sxrb", Collected(documents=[entry(newer.title, newer.text, date.today().isoformat())]),
           Matcher(load_rules(REPO / "rules")))
    again = client.get("/rules/zhuanyezhen/feed.atom", headers={"If-None-Match": etag})
    assert again.status_code == 200 and again.headers["ETag"] != etag
    assert feedparser.parse(again.get_data()).entries[0].title == newer.title


def test_a_subscriptions_feed_sits_behind_its_token(app, client, archive):
    db = connect(Path(app.instance_path) / "tracker.db")
    with transaction(db):
        found, _ = subscribe(db, app.config, "email", "li@example.org",
                             ["yingshang-huanjing", "zhuanyezhen"], THEMES, "daily",
                             confirmed=True, admin=True)
    url = feed_link(app.config, found.id).removeprefix("https://tracker.example.org")
    feed = parsed(client.get(url))
    assert "我的订阅" in feed.feed.title and len(feed.entries) == 2
    story = feed.entries[1]  # one entry, naming both of the subscription's themes it fired
    assert [t.term for t in story.tags] == ["yingshang-huanjing", "zhuanyezhen"]
    assert "主题：营商环境、专业镇" in story.content[0].value
    assert client.get(url).headers["Cache-Control"].startswith("private") or \
        "private" in client.get(url).headers["Cache-Control"]
    manage_token = make_token(app.config, MANAGE, found.id)
    assert client.get(f"/feeds/{manage_token}.atom").status_code == 404  # another key
    assert client.get("/feeds/forged.atom").status_code == 404
    assert url in client.get(f"/manage/{manage_token}").get_data(as_text=True).replace(
        "https://tracker.example.org", "")
    with transaction(db):
        db.execute("UPDATE subscriptions SET state = 'unsubscribed' WHERE id = ?", [found.id])
    assert client.get(url).status_code == 404


def test_a_control_character_from_a_page_leaves_the_feed_valid(app, client, archive):
    db = connect(Path(app.instance_path) / "tracker.db")
    with transaction(db):
        db.execute("UPDATE articles SET title = title || ?", ["\x0b\x0c附件"])
        db.execute("UPDATE hits SET snippets = replace(snippets, '专业镇', '专业镇\\u000b')")
    feed = parsed(client.get("/rules/zhuanyezhen/feed.atom"))
    assert feed.entries[0].title.endswith("附件")
