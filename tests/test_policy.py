"""The `policy` source type (政策文件 / 通知公告 list pages) against a portal of our own on
127.0.0.1 (tests/policy_site.py): the list and its next page, each linked document one article
with its title, date, main text and 发文机关 / 发文字号 / 成文日期 / 发布日期, what is archived not
fetched again, bad input a named problem, and the fields in the alert a subscriber gets."""

from __future__ import annotations

import dataclasses
import datetime
import email
from email import policy as email_policy
from pathlib import Path

import pytest

import policy_site
from loopback import respond
from policy_site import DOCUMENTS, GONE, build
from test_worker import config, rows, source, write_sources  # noqa: F401 - fixtures
from tracker.documents import InputError
from tracker.sources.catalog import Source, parse_sources_text
from tracker.sources.collect import SourceState, collect
from tracker.sources.policy import Reader, gov_fields, read_policy_page

CONFIG = {"HTTP_CONNECT_TIMEOUT": 2.0, "HTTP_READ_TIMEOUT": 2.0, "HTTP_TOTAL_TIMEOUT": 5.0}
TODAY = datetime.date(2025, 4, 11)


@pytest.fixture
def portal(site):
    return build(site)


def policy_source(portal, **changes) -> Source:
    return dataclasses.replace(Source(id="zcwj", name="示例省政府·政策文件", type="policy",
                                      url=portal.url), **changes)


def read(source: Source, known=lambda url: False) -> Reader:
    reader = Reader(source, CONFIG, TODAY, known)
    list(reader.documents())
    return reader


def test_each_linked_document_is_one_article_with_its_fields(portal, site):
    reader = read(policy_source(portal))
    docs = {Path(d.url).name: d for d in reader.listing.documents}
    assert list(docs) == ["content_3.htm", "content_2.htm", "t20250408_7.html", "content_1.htm"]
    three = docs["content_3.htm"]
    assert three.kind == "article" and three.title == DOCUMENTS["content_3.htm"]["title"]
    assert three.meta["doc_fields"] == {"发文机关": "示例省人民政府办公厅", "发文字号": "示政办发〔2025〕12号",
                                        "成文日期": "2025年04月03日", "发布日期": "2025年04月10日"}
    assert three.meta["issue_date"] == "2025-04-10"  # 发布日期
    assert "省级财政给予一次性奖励五百万元" in three.text
    assert "分享到" not in three.text and "版权所有" not in three.text and "索 引 号" not in three.text
    notice = docs["t20250408_7.html"]  # no table: the date from the page (htmldate)
    assert "doc_fields" not in notice.meta and notice.meta["issue_date"] == "2025-04-08"
    assert "绿电直供线路建设条件" in notice.text
    assert reader.listing.list_pages == [portal.url, portal.site.base + "/zwgk/zcwj/index_1.html"]
    # the document gone is a problem, the rest read; nothing off the host was asked for
    assert [p.split(": ")[0] for p in reader.listing.problems] == [portal.site.base + "/zwgk/zcwj/" + GONE]
    assert "HTTP 404" in reader.listing.problems[0]
    assert "/zwgk/zcwj/content_9.htm" not in site.requested
    assert site.requested.count("/zwgk/zcwj/content_2.htm") == 1  # linked twice, read once


def test_documents_archived_are_not_fetched_and_older_pages_not_read(portal, site):
    archived = {portal.site.base + "/zwgk/zcwj/" + n for n in ("content_3.htm", "content_2.htm",
                                                               "t20250408_7.html", GONE)}
    reader = read(policy_source(portal), known=lambda url: url in archived)
    assert reader.listing.documents == [] and reader.listing.known == 4
    assert site.requested == ["/zwgk/zcwj/index.html"]  # nothing new on page 1: page 2 not read


def test_list_pages_caps_the_pagination(portal, site):
    reader = read(policy_source(portal, list_pages=1))
    assert len(reader.listing.list_pages) == 1
    assert "/zwgk/zcwj/index_1.html" not in site.requested


def test_a_pager_written_by_script_is_followed(portal, site):
    site.routes["/zwgk/scripted/index_1.html"] = respond(
        policy_site.list_page(portal, 1).replace("content_", "../zcwj/content_").encode())
    reader = read(policy_source(portal, url=portal.site.base + "/zwgk/scripted/index.html"))
    assert [Path(d.url).name for d in reader.listing.documents] == [
        "content_3.htm", "content_1.htm", "content_2.htm"]
    # createPageHTML(3, 0, "index", "html"): index_1 and index_2; the second is gone
    assert site.requested.count("/zwgk/scripted/index_1.html") == 1
    assert any("index_2.html" in p and "404" in p for p in reader.listing.problems)


def test_a_list_without_document_links_is_the_named_problem_no_links(portal):
    portal.layout = "new"
    with pytest.raises(InputError) as caught:
        read(policy_source(portal))
    assert caught.value.problem.startswith("no-links: ") and "（列表页上没有符合规则的文件链接）" in caught.value.problem


def test_a_list_page_that_fails_is_an_input_error(portal, site):
    site.routes["/zwgk/zcwj/index.html"] = respond(b"oops", status=500)
    with pytest.raises(InputError, match="HTTP 500"):
        read(policy_source(portal))


def test_a_document_redirected_off_the_host_is_not_read(portal, site):
    def away(handler):
        handler.send_response(302)
        handler.send_header("Location", portal.other_host + "/zwgk/zcwj/content_9.htm")
        handler.send_header("Content-Length", "0")
        handler.end_headers()
    site.routes["/zwgk/zcwj/content_2.htm"] = away
    reader = read(policy_source(portal))
    assert any("content_2.htm" in p and "off the site's host" in p for p in reader.listing.problems)
    assert "/zwgk/zcwj/content_9.htm" not in site.requested


def test_a_document_at_a_private_address_is_refused_by_the_ssrf_check(site):
    """A list on a public site linking a document whose redirect leads to this host's network:
    every hop off the list's origin passes tracker.sources.ssrf (here the list's own origin is
    loopback, so the hop to another port of it is checked and refused)."""
    page = ('<ul><li><h4><a href="content_1.htm">一</a></h4></li></ul>').encode()
    site.routes["/l/index.html"] = respond(page)

    def to_other_port(handler):
        handler.send_response(302)
        handler.send_header("Location", "http://127.0.0.1:9/l/content_1.htm")
        handler.send_header("Content-Length", "0")
        handler.end_headers()
    site.routes["/l/content_1.htm"] = to_other_port
    reader = read(Source(id="p", name="p", type="policy", url=site.base + "/l/index.html"))
    assert reader.listing.documents == []
    assert "not fetched" in reader.listing.problems[0] or "off the site's host" in reader.listing.problems[0]


def test_collect_streams_documents_and_problems(portal):
    collected = collect(policy_source(portal), CONFIG, SourceState(), TODAY)
    documents = list(collected.documents)
    assert len(documents) == 4 and all(d.source == "zcwj" for d in documents)
    assert len(collected.problems) == 1


@pytest.mark.parametrize("cells, expected", [
    ("<table class=bd1><tr><td>发文机关：</td><td>国务院办公厅</td><td>发文字号：</td>"
     "<td>国办发〔2025〕1号</td></tr></table>", {"发文机关": "国务院办公厅", "发文字号": "国办发〔2025〕1号"}),
    ("<ul><li>发布日期：2025-04-10</li><li>成文日期：2025年4月1日</li></ul>",
     {"成文日期": "2025年4月1日", "发布日期": "2025-04-10"}),
    ("<p>发文机关在文件中应当写明全称，发文字号由发文机关代字、年份和序号组成，这是一段正文而不是字段，"
     "它很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长。</p>", {}),
    ("<table><tr><td>发文机关：</td><td></td></tr></table>", {}),
])
def test_gov_fields(cells, expected):
    assert gov_fields(f"<html><body>{cells}</body></html>") == expected


def test_a_page_without_main_text_says_so():
    page = read_policy_page("<html><head><title>t</title></head><body><script>x()</script></body></html>",
                            "http://example.cn/a/content_1.htm")
    assert page.text == "" and page.date is None


def test_sources_yaml_policy_entries_are_checked():
    text = ("sources:\n"
            "  - id: zcwj\n    name: 政策文件\n    type: policy\n    url: https://www.example.gov.cn/zcwj/index.html\n"
            "    list_pages: 5\n    articles: 'content_\\d+\\.htm'\n"
            "  - id: bad\n    name: 坏\n    type: policy\n    url: https://www.example.gov.cn/x/\n    list_pages: 50\n"
            "  - id: paper\n    name: 报\n    url: https://e.example.cn/{date:%Y}/node_1.htm\n    list_pages: 2\n")
    sources, problems = parse_sources_text(text)
    assert [(s.id, s.type, s.list_pages) for s in sources] == [("zcwj", "policy", 5)]
    assert [(p.line, p.message) for p in problems] == [
        (12, "`list_pages` is a whole number from 1 to 20"),
        (16, "`list_pages` is for policy sources only")]


def test_the_worker_stores_policy_documents_and_the_alert_shows_their_fields(site, config, instance):  # noqa: F811
    """Through the worker: stored once with their fields, a second cycle fetches no document
    again, and the subscriber's mail names 发文机关 and 发文字号."""
    from tracker.alerts.subscribe import subscribe
    from tracker.store import connect
    from tracker.worker.service import Worker

    portal = build(site)
    write_sources(instance, [source("zcwj", type="policy", url=portal.url)])
    db = connect(instance / "tracker.db")
    subscribe(db, {}, "email", "reader@example.org", ["biaozhundi"], ["biaozhundi"],
              confirmed=True, admin=True)
    db.conn.close()
    worker = Worker(config)
    (first,) = worker.once()
    assert first.status == "partial" and GONE in first.error and first.counts.new == 4
    stored = dict(rows(config, "SELECT url, doc_fields FROM articles WHERE url LIKE '%content_2.htm'"))
    assert '"发文字号": "示政发〔2025〕5号"' in next(iter(stored.values()))
    asked = len(site.requested)
    (second,) = worker.once()
    assert second.counts.new == 0
    assert [p for p in site.requested[asked:] if "content_" in p or "t2025" in p] == [
        "/zwgk/zcwj/" + GONE]  # only the one never archived is asked for again
    mails = sorted((instance / "mailbox").glob("*.eml"))
    assert mails, "no alert in the development mailbox"
    message = email.message_from_bytes(mails[-1].read_bytes(), policy=email_policy.default)
    text = message.get_body(("plain",)).get_content()
    assert "发文机关：示例省人民政府 · 发文字号：示政发〔2025〕5号" in text
    assert "版次不详" not in text
    html = message.get_body(("html",)).get_content()
    assert "示政发〔2025〕5号" in html


def test_tracker_sources_try_prints_the_documents_and_their_fields(site, tmp_path):
    """`tracker sources try ID` reads a policy source like the worker and stores nothing."""
    from test_sources_try import tracker

    portal = build(site)
    folder = tmp_path / "instance"
    folder.mkdir()
    write_sources(folder, [source("zcwj", type="policy", url=portal.url)])
    done = tracker(folder, "zcwj")
    assert done.returncode == 1, done.stderr  # one document is gone: a problem
    assert "articles (4)" in done.stdout and "problems (1)" in done.stdout
    assert "发文机关：示例省人民政府办公厅 · 发文字号：示政办发〔2025〕12号" in done.stdout
    assert "nothing was stored" in done.stdout and not (folder / "tracker.db").exists()
