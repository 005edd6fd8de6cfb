"""The worker against a real HTTP server on loopback (feeds and hostile answers) and a drop folder:
what is stored, that a second cycle adds nothing, and that each fault stays with its source."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from builders import as_rss, billion_laughs
from loopback import Site, respond, stream
from tracker.config import load_config
from tracker.store import connect
from tracker.store.locks import acquire
from tracker.worker.service import Worker, holder_gone
from tracker.worker.rulebook import RuleBook

REPO = Path(__file__).resolve().parents[1]
ITEMS = [  # our own made-up entries
    {"title": "全省新认定一批特色专业镇", "link": "http://example.cn/a/1", "guid": "a1",
     "description": "本报讯 今年全省新认定特色专业镇12个，带动就业3万人。专业镇企业获贷款支持。"},
    {"title": "开发区推行标准地出让", "link": "http://example.cn/a/2", "guid": "a2",
     "description": "本报讯 开发区全面推行“承诺制+标准地+全代办”，今年出让标准地8宗。"},
    {"title": "春耕生产有序推进", "link": "http://example.cn/a/3", "guid": "a3",
     "description": "本报讯 各地抓住有利时机，组织农民开展春耕生产。"},
]


def conditional(body: bytes, etag: str, log: list[int]):
    """An RSS route that answers 304 to a request carrying its ETag."""
    def handle(handler: BaseHTTPRequestHandler) -> None:
        if handler.headers.get("If-None-Match") == etag:
            log.append(304)
            handler.send_response(304)
            handler.end_headers()
            return
        log.append(200)
        respond(body, "application/rss+xml; charset=utf-8", headers={"ETag": etag})(handler)
    return handle


def held(site: Site):
    """A route that accepts the request and never answers (until the test ends)."""
    def handle(handler: BaseHTTPRequestHandler) -> None:
        site.release.wait(60)
    return handle


def write_sources(instance: Path, entries: list[str]) -> None:
    (instance / "sources.yaml").write_text("sources:\n" + "".join(entries), encoding="utf-8")


def source(sid: str, **fields: str) -> str:
    body = "".join(f"    {k}: {v}\n" for k, v in fields.items())
    return f"  - id: {sid}\n    name: {sid}\n{body}"


@pytest.fixture
def config(instance: Path) -> dict:
    return load_config({"INSTANCE_PATH": str(instance), "RULES": str(REPO / "rules"),
                        "FOLDER_SETTLE_SECONDS": 0, "HTTP_CONNECT_TIMEOUT": 1,
                        "HTTP_READ_TIMEOUT": 1, "HTTP_TOTAL_TIMEOUT": 3}, environ={})


def rows(config: dict, sql: str, params: tuple = ()) -> list[tuple]:
    return connect(Path(config["INSTANCE_PATH"]) / "tracker.db").execute(sql, params).fetchall()


def test_a_cycle_stores_a_feed_and_a_folder_and_the_next_adds_nothing(site, config, instance,
                                                                    tmp_path):
    statuses: list[int] = []
    site.routes["/rss.xml"] = conditional(as_rss(ITEMS).encode(), '"v1"', statuses)
    drop = tmp_path / "drop"
    drop.mkdir()
    shutil.copy(REPO / "tracker/demo/pages/2025-04-09_demo-daily_p1.txt", drop)
    (drop / ".partial.txt").write_text("专业镇", encoding="utf-8")  # hidden: not read
    write_sources(instance, [source("feed", url=f"{site.base}/rss.xml"),
                             source("drop", path=str(drop))])
    worker = Worker(config)

    first = {r.source: r for r in worker.once()}
    assert {s: r.status for s, r in first.items()} == {"feed": "ok", "drop": "ok"}
    assert first["feed"].counts.new == 3
    stored = rows(config, "SELECT source_id, title FROM articles ORDER BY id")
    assert ("feed", "全省新认定一批特色专业镇") in stored
    assert ("drop", "工业用地“标准地”出让提速") in stored
    hits = dict(rows(config, "SELECT rule_id, count(*) FROM hits GROUP BY rule_id"))
    assert hits["zhuanyezhen"] >= 2 and hits["biaozhundi"] >= 2

    second = {r.source: r for r in worker.once()}
    assert second["feed"].status == "not_modified" and statuses == [200, 304]
    assert second["drop"].counts.fetched == 0
    assert rows(config, "SELECT count(*) FROM articles") == [(len(stored),)]

    (drop / "new.txt").write_text("本报讯 又一个专业镇获批省级重点专业镇。", encoding="utf-8")
    third = {r.source: r for r in worker.once()}
    assert third["drop"].counts.new == 1
    runs = rows(config, "SELECT source_id, status FROM runs ORDER BY id")
    assert len(runs) == 6 and all(status in ("ok", "not_modified") for _, status in runs)


def test_each_fault_stays_with_its_source(site, config, instance, tmp_path, caplog):
    gbk = as_rss([ITEMS[0]], encoding="utf-8").encode("gb18030")  # GBK bytes that claim UTF-8
    site.routes.update({
        "/good.xml": respond(as_rss(ITEMS[1:]).encode(), "application/rss+xml"),
        "/gbk.xml": respond(gbk, "application/rss+xml; charset=utf-8"),
        "/500.xml": respond(b"oops", status=500),
        "/huge.xml": stream(site, "huge", 60 * 1024 * 1024, content_length=False),
        "/bomb.xml": respond(billion_laughs().encode(), "application/rss+xml"),
        "/silent.xml": held(site),
        "/page.xml": respond(b"<!DOCTYPE html><html><body><p>not a feed</p></body></html>"),
    })
    names = ["good", "gbk", "500", "huge", "bomb", "silent", "page"]
    write_sources(instance, [source(n, url=f"{site.base}/{n}.xml") for n in names]
                  + [source("gone", path=str(tmp_path / "no-such-folder"))])
    caplog.set_level(logging.INFO, logger="tracker")
    done: list = []
    cycle = threading.Thread(target=lambda: done.extend(Worker(config).once()))
    cycle.start()
    cycle.join(timeout=60)
    assert not cycle.is_alive(), "a cycle must end even when a source never answers"

    status = {r.source: r for r in done}
    assert status["good"].status == "ok" and status["good"].counts.new == 2
    assert status["gbk"].status == "ok"
    assert rows(config, "SELECT title FROM articles WHERE source_id = 'gbk'") == [(ITEMS[0]["title"],)]
    expected = {"500": "HTTP 500", "huge": "limit", "bomb": "entities", "silent": "timed out",
                "page": "expected an RSS/Atom feed", "gone": "is not a folder"}
    for name, words in expected.items():
        assert status[name].status == "error" and words in status[name].error, status[name]
        (run,) = rows(config, "SELECT status, error FROM runs WHERE source_id = ?", (name,))
        assert run[0] == "error" and words in run[1]
        assert any(r.levelname == "ERROR" and r.getMessage().startswith(f"source {name}: ")
                   for r in caplog.records)
    assert site.sent["huge"] < 60 * 1024 * 1024  # the download was cut off, not read whole


def test_entries_sharing_one_guid_stay_distinct_articles(site, config, instance):
    same = [dict(item, guid="same", link="http://example.cn/") for item in ITEMS]
    site.routes["/rss.xml"] = respond(as_rss(same).encode(), "application/rss+xml")
    write_sources(instance, [source("feed", url=f"{site.base}/rss.xml")])
    (report,) = Worker(config).once()
    assert report.counts.new == 3
    assert rows(config, "SELECT count(*) FROM articles") == [(3,)]


def test_a_teaser_entry_is_completed_from_its_page(site, config, instance):
    page = "<html><body><h1>全省新认定一批特色专业镇</h1><p>全文：今年全省新认定特色专业镇12个。" \
           "专业镇企业获贷款支持，带动就业3万人，形成一批产业集群。</p></body></html>"
    site.routes["/a/1.html"] = respond(page.encode())
    teaser = [{"title": "全省新认定一批特色专业镇", "link": f"{site.base}/a/1.html",
               "description": "今年全省新认定……"}]
    site.routes["/rss.xml"] = respond(as_rss(teaser).encode(), "application/rss+xml")
    write_sources(instance, [source("feed", url=f"{site.base}/rss.xml", fetch_full="true")])
    Worker(config).once()
    ((text,),) = rows(config, "SELECT text FROM articles")
    assert "全文：今年全省新认定特色专业镇12个" in text


def test_a_broken_file_is_reported_once_and_read_again_when_changed(config, instance, tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "empty.txt").write_bytes(b"")
    write_sources(instance, [source("drop", path=str(drop))])
    worker = Worker(config)
    (first,) = worker.once()
    assert first.status == "partial" and "is empty" in first.error
    (second,) = worker.once()
    assert second.status == "ok" and second.error is None
    (drop / "empty.txt").write_text("本报讯 标准地改革持续推进。", encoding="utf-8")
    (third,) = worker.once()
    assert third.counts.new == 1


def test_rules_are_reread_and_a_broken_edit_keeps_the_last_good(tmp_path, caplog):
    rules = tmp_path / "rules"
    rules.mkdir()
    rule = rules / "r.yaml"
    rule.write_text("id: a\nname: A\nkeywords: [专业镇]\n", encoding="utf-8")
    book = RuleBook(rules)
    first = book.refresh()
    assert [r.id for r in first.matcher.rules] == ["a"] and first.digest
    assert book.refresh().matcher is first.matcher  # nothing changed: nothing rebuilt
    rule.write_text("id: a\nname: A\nkeywords: []\n", encoding="utf-8")
    os.utime(rule, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert book.refresh() == first
    assert "keeping the last good rules" in caplog.text and "`keywords` is empty" in caplog.text
    caplog.clear()
    assert book.refresh() == first and "broken" not in caplog.text  # said once, not re-read
    rule.write_text("id: b\nname: B\nkeywords: [绿电]\n", encoding="utf-8")
    os.utime(rule, ns=(time.time_ns(), time.time_ns() + 2 * 10**9))
    second = book.refresh()
    assert [r.id for r in second.matcher.rules] == ["b"] and second.digest != first.digest


def test_rules_are_in_force_for_every_thread_that_asks_while_they_load(tmp_path):
    # At a worker's start every source's job asks for the rules in the same second, each on its
    # own thread: none may be told "unchanged, no matcher" while the first is still loading.
    rules = tmp_path / "rules"
    rules.mkdir()
    for n in range(30):
        (rules / f"r{n}.yaml").write_text(f"id: r{n}\nname: R{n}\nkeywords: [专业镇{n}, 标准地]\n",
                                         encoding="utf-8")
    book = RuleBook(rules)
    start = threading.Barrier(8)

    def ask():
        start.wait(timeout=10)
        return book.refresh()

    with ThreadPoolExecutor(8) as pool:
        seen = list(pool.map(lambda _: ask(), range(8)))
    assert {len(s.matcher.rules) for s in seen} == {30}
    assert len({s.digest for s in seen}) == 1 and seen[0].digest is not None


def test_an_empty_rules_folder_is_said_loudly_and_has_no_digest(tmp_path, caplog):
    (tmp_path / "rules").mkdir()
    in_force = RuleBook(tmp_path / "rules").refresh()
    assert in_force.digest is None and in_force.matcher.rules == []
    assert "NO RULES IN FORCE" in caplog.text


def test_digest_is_the_rules_not_where_they_are_written(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    for folder, gap in ((one, ""), (two, "\n\n# moved down\n")):
        folder.mkdir()
        (folder / "x.yaml").write_text(f"{gap}id: a\nname: A\nkeywords: [专业镇]\n",
                                       encoding="utf-8")
    assert RuleBook(one).refresh().digest == RuleBook(two).refresh().digest


def tracker(instance: Path, *args: str, **popen) -> subprocess.Popen:
    env = {**os.environ, "TRACKER_INSTANCE": str(instance), "TRACKER_RULES": str(REPO / "rules"),
           "TRACKER_FOLDER_SETTLE_SECONDS": "0", "TRACKER_HTTP_READ_TIMEOUT": "30",
           "TRACKER_HTTP_TOTAL_TIMEOUT": "60"}
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        env.pop(name, None)
    return subprocess.Popen([sys.executable, "-m", "tracker", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen)


def wait_for(condition, timeout: float = 60, step: float = 0.05) -> bool:
    """Poll `condition` until it holds or `timeout` passes (a bounded loop)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        threading.Event().wait(step)
    return False


def test_a_worker_killed_mid_cycle_loses_and_duplicates_nothing(site, config, instance, tmp_path):
    release_feed = threading.Event()

    def slow_feed(handler: BaseHTTPRequestHandler) -> None:
        release_feed.wait(60)  # answers only once the test lets it
        respond(as_rss(ITEMS).encode(), "application/rss+xml")(handler)

    site.routes["/rss.xml"] = slow_feed
    drop = tmp_path / "drop"
    drop.mkdir()
    shutil.copy(REPO / "tracker/demo/pages/2025-04-09_demo-daily_p1.txt", drop)
    write_sources(instance, [source("feed", url=f"{site.base}/rss.xml"),
                             source("drop", path=str(drop))])
    first = tracker(instance, "worker", "--once")
    assert wait_for(lambda: rows(config, "SELECT count(*) FROM runs WHERE source_id = 'drop' "
                                         "AND status = 'ok'") == [(1,)])
    first.kill()  # SIGKILL while the feed is still being fetched
    first.communicate(timeout=30)
    kept = rows(config, "SELECT count(*) FROM articles")[0][0]
    assert kept > 0

    release_feed.set()
    second = tracker(instance, "worker", "--once")  # the dead worker's lock does not stop it
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    assert rows(config, "SELECT count(*) FROM articles WHERE source_id = 'drop'") == [(kept,)]
    assert rows(config, "SELECT count(*) FROM articles WHERE source_id = 'feed'") == [(3,)]
    assert rows(config, "SELECT count(*) FROM (SELECT content_hash FROM articles "
                        "GROUP BY content_hash HAVING count(*) > 1)") == [(0,)]


def test_a_second_worker_is_refused_while_the_first_runs(config, instance, tmp_path):
    write_sources(instance, [source("drop", path=str(tmp_path))])
    db = connect(instance / "tracker.db")
    assert acquire(db, "worker", "another-host:1") is None
    refused = tracker(instance, "worker", "--once")
    _, err = refused.communicate(timeout=60)
    assert refused.returncode == 3
    assert "another worker is running: another-host:1" in err


def test_a_lock_left_by_a_dead_process_on_this_host_is_free():
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(timeout=30)
    import socket

    assert holder_gone(f"{socket.gethostname()}:{dead.pid}")
    assert not holder_gone(f"{socket.gethostname()}:{os.getpid()}")
    assert not holder_gone(f"elsewhere:{dead.pid}")


def test_the_scheduled_worker_stops_cleanly_on_sigterm(instance, tmp_path):
    write_sources(instance, [source("drop", path=str(tmp_path), schedule='"*/5 * * * *"')])
    worker = tracker(instance, "worker")
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(worker.stderr), daemon=True)
    reader.start()
    try:
        assert wait_for(lambda: any("started" in line for line in lines), timeout=60), lines
        assert any("scheduled 1 sources" in line for line in lines)
        worker.terminate()  # SIGTERM
        assert worker.wait(timeout=30) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
    reader.join(timeout=10)
    assert any("worker stopped" in line for line in lines)
    assert acquire(connect(instance / "tracker.db"), "worker", "next:1") is None  # released


def test_an_epaper_issue_is_stored_with_its_pages_once(site, config, instance):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    import epaper_site

    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    paper = epaper_site.build(site, today)
    write_sources(instance, [source("sxrb", url=paper.template)])
    worker = Worker(config)
    (first,) = worker.once()
    assert first.status == "partial" and epaper_site.MISSING in first.error  # one article 404s
    stored = rows(config, "SELECT page, issue_date, url FROM articles ORDER BY id")
    assert len(stored) == first.counts.new == len(epaper_site.ARTICLES)
    assert {page for page, _, _ in stored} == {"第01版 要闻", "第02版 专业镇"}
    assert {date for _, date, _ in stored} == {today.isoformat()}
    assert rows(config, "SELECT count(*) FROM hits")[0][0] > 0
    (second,) = worker.once()
    assert second.counts.new == 0
    assert rows(config, "SELECT count(*) FROM articles") == [(len(stored),)]
