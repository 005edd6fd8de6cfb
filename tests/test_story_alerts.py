"""Alerts are per story: a story is named once, with the other papers that carried it; a later
copy of a story a subscriber already has is never sent again (digests, instant, the first
alert); an article that fires several of a subscriber's rules is listed once, naming them all."""

from __future__ import annotations

import email
import json
from datetime import date, datetime, timedelta, timezone
from email import policy
from pathlib import Path

import pytest

from reprints import entry, reprints, seed_article
from tracker.alerts.deliver import build_alert, deliver
from tracker.alerts.subscribe import subscribe, welcome
from tracker.alerts.webhook.send import payload
from tracker.matching import Matcher
from tracker.rules import load_rules
from tracker.sources.catalog import Source
from tracker.sources.collect import Collected
from tracker.store import connect, transaction
from tracker.store.deliveries import due_deliveries
from tracker.store.sources import upsert_sources
from tracker.worker.ingest import ingest

REPO = Path(__file__).resolve().parents[1]
THEMES = ["zhuanyezhen", "biaozhundi", "lvdian", "yingshang-huanjing", "xinnengyuan"]
PAPERS = {"sxrb": "山西日报", "jzrb": "晋中日报", "kxdb": "科学导报"}


@pytest.fixture
def setup(tmp_path, fresh_archive, smtp):
    config = {**smtp.config, "RULES": str(REPO / "rules"), "BASE_URL": "https://tracker.example.org",
              "RETRY_DELAYS": "0", "WELCOME_DAYS": 0}
    db = connect(fresh_archive(tmp_path / "tracker.db"))
    with transaction(db):
        upsert_sources(db, [Source(id=sid, name=name, type="folder", path=str(tmp_path))
                            for sid, name in PAPERS.items()])
    return db, config, smtp


@pytest.fixture(scope="module")
def matcher():
    return Matcher(load_rules(REPO / "rules"))


def store(db, matcher, source_id: str, *documents) -> None:
    ingest(db, source_id, Collected(documents=list(documents)), matcher)


def add(db, config, address: str, rules: list[str], frequency: str = "instant") -> int:
    found, _ = subscribe(db, config, "email", address, rules, THEMES, frequency, confirmed=True,
                         admin=True)
    return found.id


def mails(smtp, address: str) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(m.data, policy=policy.default)
            for m in smtp.recorder.received(address)]


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def test_a_later_copy_of_a_story_already_sent_is_not_sent_again(setup, matcher, seed_texts):
    db, config, smtp = setup
    add(db, config, "li@example.org", ["zhuanyezhen"])
    original = seed_article(seed_texts, "002", "三晋有花")
    store(db, matcher, "sxrb", entry(original.title, original.text, "2025-04-09", "第1版"))
    deliver(db, config)
    assert len(mails(smtp, "li@example.org")) == 1

    for sid, (title, text) in zip(["jzrb", "kxdb"], reprints(original)[:2]):
        store(db, matcher, sid, entry(title, text, "2025-04-10"))
    assert db.execute("SELECT count(DISTINCT story_id), count(*) FROM articles").fetchone() == (1, 3)
    assert db.execute("SELECT count(*) FROM outbox").fetchone() == (1,)  # the first copy only
    deliver(db, config)
    # A later process (a restarted worker) has nothing to send either: the record is in the DB.
    again = connect(Path(db.conn.execute("PRAGMA database_list").fetchone()[2]))
    deliver(again, config)
    assert len(mails(smtp, "li@example.org")) == 1


def test_a_digest_names_a_story_once_with_the_papers_that_also_carried_it(setup, matcher,
                                                                          seed_texts):
    db, config, smtp = setup
    add(db, config, "wang@example.org", ["zhuanyezhen", "yingshang-huanjing"], "daily")
    original = seed_article(seed_texts, "002", "我市加快推动专业镇")  # 专业镇 and 营商环境
    store(db, matcher, "kxdb", entry(original.title, original.text, "2025-04-09", "第3版"))
    first, second = reprints(original)[0], reprints(original)[2]
    store(db, matcher, "sxrb", entry(*first, "2025-04-09", "第2版"))
    store(db, matcher, "jzrb", entry(*second, "2025-04-10", "第2版"))
    tomorrow = datetime.now(timezone.utc) + timedelta(days=1)
    deliver(db, config, now=tomorrow.replace(hour=0, minute=5))  # 08:05 in Shanghai
    (digest,) = mails(smtp, "wang@example.org")
    body = text_of(digest)
    assert body.count("▸ ") == 1, body  # one story, once
    assert "也见于 山西日报 第2版、晋中日报 4月10日 第2版" in body
    assert "主题：营商环境、专业镇" in body
    assert "共 1 篇" in body and " 1 篇" in digest["Subject"]
    html = digest.get_body(("html",)).get_content()
    assert "也见于 山西日报 第2版" in html and html.count("在存档中阅读") == 1


def test_the_first_alert_lists_each_story_once_with_all_its_rules(setup, matcher, seed_texts):
    db, config, smtp = setup
    original = seed_article(seed_texts, "002", "我市加快推动专业镇")
    today = date.today().isoformat()
    store(db, matcher, "kxdb", entry(original.title, original.text, today, "第3版"))
    for sid, (title, text) in zip(["sxrb", "jzrb"], reprints(original)[:2]):
        store(db, matcher, sid, entry(title, text, today))
    sub = add(db, config, "new@example.org", ["zhuanyezhen", "yingshang-huanjing"])
    with transaction(db):
        welcome(db, {**config, "WELCOME_DAYS": 7}, sub)
    with transaction(db):
        from tracker.store.deliveries import form_deliveries
        from zoneinfo import ZoneInfo
        form_deliveries(db, datetime.now(timezone.utc), zone=ZoneInfo("Asia/Shanghai"))
    (due,) = due_deliveries(db, datetime.now(timezone.utc))
    alert = build_alert(db, config, due)
    assert len(alert.items) == 1
    (item,) = alert.items
    assert item.source_name == "科学导报"  # the first appearance is the copy it gets
    assert [r for r, _ in item.all_rules()] == ["yingshang-huanjing", "zhuanyezhen"]
    assert sorted(c.source_name for c in item.also_in) == ["山西日报", "晋中日报"]


def test_the_webhook_payload_carries_the_story_and_its_other_copies(setup, matcher, seed_texts):
    db, config, _ = setup
    with transaction(db):
        found, _ = subscribe(db, {**config, "WEBHOOK_ALLOW_PRIVATE": True}, "webhook",
                             "http://127.0.0.1:9/hook", ["zhuanyezhen"], THEMES, "instant",
                             confirmed=True, admin=True)
    original = seed_article(seed_texts, "002", "三晋有花")
    store(db, matcher, "jzrb", entry(*reprints(original)[0], "2025-04-10", "第2版"))
    store(db, matcher, "sxrb", entry(original.title, original.text, "2025-04-09", "第1版"))
    with transaction(db):
        from tracker.store.deliveries import form_deliveries
        from zoneinfo import ZoneInfo
        form_deliveries(db, datetime.now(timezone.utc), zone=ZoneInfo("Asia/Shanghai"))
    (due,) = due_deliveries(db, datetime.now(timezone.utc))
    data = json.loads(json.dumps(payload(build_alert(db, config, due))))["data"]
    (article,) = data["articles"]
    story = db.execute("SELECT DISTINCT story_id FROM articles").fetchall()
    assert [(article["story_id"],)] == story
    assert article["source_name"] == "晋中日报"  # the copy that was due first
    assert article["first_appearance"]["source_name"] == "山西日报"
    assert [c["source_name"] for c in article["also_in"]] == ["山西日报"]
    assert article["also_in"][0]["archive_url"].startswith("https://tracker.example.org/articles/")
