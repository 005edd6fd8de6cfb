"""Stories: reprints of one news story across papers and days are found when they are stored,
and different stories on one topic stay apart (tracker.text.fingerprint, tracker.store.stories)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from reprints import entry, reprints, seed_article
from tracker.matching import Matcher
from tracker.rules import load_rules
from tracker.sources.catalog import Source
from tracker.sources.collect import Collected
from tracker.store import connect, transaction
from tracker.store.sources import upsert_sources
from tracker.store.stories import copies_of
from tracker.text.fingerprint import fingerprint
from tracker.text.normalize import normalize
from tracker.worker.ingest import ingest

REPO = Path(__file__).resolve().parents[1]
PAPERS = {"sxrb": "山西日报", "jzrb": "晋中日报", "kxdb": "科学导报", "tyrb": "太原日报",
          "dtrb": "大同日报"}


@pytest.fixture
def db(tmp_path, fresh_archive):
    db = connect(fresh_archive(tmp_path / "tracker.db"))
    with transaction(db):
        upsert_sources(db, [Source(id=sid, name=name, type="folder", path=str(tmp_path))
                            for sid, name in PAPERS.items()])
    return db


@pytest.fixture(scope="module")
def matcher():
    return Matcher(load_rules(REPO / "rules"))


def store(db, matcher, source_id: str, *documents) -> None:
    ingest(db, source_id, Collected(documents=list(documents)), matcher)


def story_of(db, title_or_id) -> int:
    sql = "SELECT story_id FROM articles WHERE " + ("id = ?" if isinstance(title_or_id, int)
                                                     else "title = ?")
    return db.execute(sql, [title_or_id]).fetchone()[0]


def test_the_signature_is_the_same_in_another_process(seed_texts):
    article = seed_article(seed_texts, "002", "三晋有花")
    key = normalize(article.text).key
    here = fingerprint(key)
    code = ("import sys; from tracker.text.fingerprint import fingerprint; "
            "print(fingerprint(sys.stdin.read()).to_blob().hex())")
    there = subprocess.run([sys.executable, "-c", code], input=key, capture_output=True,
                           text=True, check=True, env={"PYTHONHASHSEED": "12345"}).stdout.strip()
    assert here is not None and here.to_blob().hex() == there


def test_reprints_of_a_seed_story_in_four_papers_are_one_story(db, matcher, seed_texts):
    original = seed_article(seed_texts, "002", "三晋有花")
    store(db, matcher, "sxrb", entry(original.title, original.text, "2025-04-09", "第1版"))
    for sid, day, (title, text) in zip(["jzrb", "kxdb", "tyrb", "dtrb"],
                                       ["2025-04-09", "2025-04-10", "2025-04-12", "2025-04-15"],
                                       reprints(original)):
        store(db, matcher, sid, entry(title, text, day))
    stories = {s for s, in db.execute("SELECT story_id FROM articles")}
    assert len(stories) == 1 and None not in stories
    (story,) = stories
    copies = copies_of(db, [story])[story]
    assert [c.source_name for c in copies] == ["山西日报", "晋中日报", "科学导报", "太原日报", "大同日报"]
    first = db.execute("SELECT a.source_id, a.page, s.day FROM stories s JOIN articles a "
                       "ON a.id = s.first_article_id").fetchone()
    assert first == ("sxrb", "第1版", "2025-04-09")


def test_different_stories_on_one_topic_stay_apart(db, matcher, seed_texts):
    # Four seed articles on 专业镇, from three papers: four stories.
    for page, part, sid in [("000", "金融助", "sxrb"), ("001", "忻州", "kxdb"),
                            ("002", "我市加快推动专业镇", "jzrb"), ("002", "三晋有花", "jzrb")]:
        article = seed_article(seed_texts, page, part)
        store(db, matcher, sid, entry(article.title, article.text, "2025-04-09"))
    assert db.execute("SELECT count(DISTINCT story_id) FROM articles").fetchone() == (4,)


MEETING = ("国务院总理{day}主持召开国务院常务会议，听取关于专业镇发展工作情况的汇报，研究推进{what}的政策措施。\n"
           "会议指出，专业镇是县域经济的重要支撑，要坚持一镇一业，做强特色产业集群，推动产业链上下游协同发展。\n"
           "会议强调，{a}\n会议要求，{b}\n会议还研究了其他事项。")


def test_two_state_council_meetings_on_one_topic_are_two_stories(db, matcher):
    first = MEETING.format(
        day="4月9日", what="中小企业融资",
        a="要加大对专业镇内中小企业的信贷投放，鼓励银行推出专项贷款产品，降低综合融资成本，支持企业技术改造和设备更新。",
        b="各地区各部门要抓紧出台配套措施，确保政策在二季度落地见效，让企业切实感受到支持力度。")
    second = MEETING.format(
        day="4月16日", what="县域商业体系建设",
        a="要完善县乡村三级物流配送网络，推动农产品进城和工业品下乡双向流通，培育一批县域商业龙头企业。",
        b="要加强冷链设施建设，支持供销合作社和邮政快递企业共建共享，年内实现行政村快递服务全覆盖。")
    store(db, matcher, "sxrb", entry("国务院常务会议研究专业镇发展", first, "2025-04-09", "第1版"))
    store(db, matcher, "sxrb", entry("国务院常务会议研究专业镇发展", second, "2025-04-16", "第1版"))
    ids = [i for i, in db.execute("SELECT id FROM articles ORDER BY id")]
    assert len(ids) == 2 and story_of(db, ids[0]) != story_of(db, ids[1])


def test_a_copy_past_the_window_starts_a_story_of_its_own(db, matcher, seed_texts):
    original = seed_article(seed_texts, "002", "三晋有花")
    title, text = reprints(original)[0]
    store(db, matcher, "sxrb", entry(original.title, original.text, "2025-04-09"))
    store(db, matcher, "jzrb", entry(title, text, "2025-04-30"))  # 21 days later
    assert db.execute("SELECT count(DISTINCT story_id) FROM articles").fetchone() == (2,)


def test_a_paper_read_late_becomes_the_first_appearance(db, matcher, seed_texts):
    original = seed_article(seed_texts, "002", "三晋有花")
    title, text = reprints(original)[3]
    store(db, matcher, "kxdb", entry(title, text, "2025-04-12", "第3版"))
    store(db, matcher, "sxrb", entry(original.title, original.text, "2025-04-09", "第1版"))
    assert db.execute("SELECT count(DISTINCT story_id) FROM articles").fetchone() == (1,)
    first = db.execute("SELECT a.source_id, s.day FROM stories s JOIN articles a "
                       "ON a.id = s.first_article_id").fetchone()
    assert first == ("sxrb", "2025-04-09")


def test_a_story_does_not_drift_on_through_later_look_alikes(db, matcher, seed_texts):
    # Within 14 days of a copy, but 20 days after the story's first appearance: a new story.
    original = seed_article(seed_texts, "002", "三晋有花")
    store(db, matcher, "sxrb", entry(original.title, original.text, "2025-04-01"))
    store(db, matcher, "jzrb", entry(*reprints(original)[0], "2025-04-11"))
    store(db, matcher, "kxdb", entry(*reprints(original)[3], "2025-04-21"))
    stories = [s for s, in db.execute("SELECT story_id FROM articles ORDER BY id")]
    assert stories[0] == stories[1] != stories[2]
