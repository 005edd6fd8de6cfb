"""Source health as deployed: `tracker worker` as a subprocess against an e-paper of our own on
loopback (tests/epaper_site.py) that is rebuilt half-way (its article links renamed: nothing
the layout reads any more) and then restored. The admin (ADMIN_ALERTS, an email address) gets
one mail when the source starts failing and one when it recovers, over the SMTP relay the
subscribers' alerts use; runs in between add nothing; the dashboard shows the episode."""

from __future__ import annotations

import email
from datetime import datetime
from email import policy
from zoneinfo import ZoneInfo

import epaper_site
from loopback import respond
from test_worker import rows, source, wait_for, write_sources
from test_worker_deployed import Process, config_of, environment
from test_worker_deployed import relay  # noqa: F401 - a fixture

ADMIN = "ops@example.org"


def rebuild(site, paper) -> None:
    """The site's new layout: the same pages, the article links renamed (detail_N.html)."""
    for number in epaper_site.PAGES:
        page = epaper_site._page(paper, number).replace("content_", "detail_")
        site.routes[paper.path(epaper_site.PAGES[number][0])] = respond(
            page.encode("gbk"), "text/html; charset=gb2312")


def mails(recorder) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(m.data, policy=policy.default)
            for m in recorder.received(ADMIN)]


def test_the_admin_is_told_once_when_a_source_breaks_and_once_when_it_recovers(
        site, instance, relay):  # noqa: F811
    port, recorder = relay
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    paper = epaper_site.build(site, today)
    env = environment(instance, port, TRACKER_ADMIN_ALERTS=ADMIN, TRACKER_HEALTH_FAIL_RUNS="2",
                      TRACKER_FETCH_AT_START="1")
    write_sources(instance, [source("sxrb", url=paper.template, schedule='"0 3 * * *"')
                             .replace("name: sxrb", "name: 山西日报")])

    def once() -> list[str]:
        worker = Process(env, "worker", "--once")
        worker.proc.wait(timeout=120)
        worker.reader.join(timeout=10)
        return worker.lines

    for _ in range(2):  # the old layout: read
        lines = once()
        assert any("source sxrb: partial, 4 articles" in line for line in lines), lines
    assert mails(recorder) == []

    rebuild(site, paper)
    lines = once()
    assert any("unknown-layout" in line for line in lines), lines
    assert mails(recorder) == []  # one failure is not an episode yet
    once()
    [started] = mails(recorder)
    assert started["Subject"] == "【政策追踪】来源告警：山西日报（连续读取失败）"
    body = started.get_body(("plain",)).get_content()
    assert "连续 2 次读取失败" in body and "unknown-layout" in body
    once()
    assert len(mails(recorder)) == 1  # still the same episode: not told again

    from tracker.web import create_app

    app = create_app({"TESTING": True, "INSTANCE_PATH": str(instance), "ADMIN_PASSWORD": "pw",
                      "ADMIN_ALERTS": ADMIN, "WTF_CSRF_ENABLED": False})
    client = app.test_client()
    client.post("/admin/login", data={"password": "pw"})
    page = client.get("/admin").get_data(as_text=True)
    assert "告警：连续读取失败" in page and "进行中" in page and "已发送 1" in page

    # The site is restored; the long-running worker reads it at its start and tells the admin.
    epaper_site.build(site, today)
    worker = Process(env, "worker")
    try:
        assert wait_for(lambda: len(mails(recorder)) == 2, 90), worker.lines
    finally:
        assert worker.stop() == 0, worker.lines
    ended = mails(recorder)[1]
    assert ended["Subject"] == "【政策追踪】来源恢复：山西日报（连续读取失败）"
    assert rows(config_of(instance), "SELECT kind, ended_at IS NOT NULL FROM health_episodes") \
        == [("failing", 1)]
    assert rows(config_of(instance), "SELECT event, status FROM admin_notices ORDER BY id") \
        == [("start", "sent"), ("end", "sent")]
    assert not any("Traceback" in line for line in worker.lines), worker.lines
