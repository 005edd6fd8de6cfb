"""Bad e-paper input gets a named problem (tracker.sources.epaper.problems) on its source, and the
other sources go on; the SSRF rules hold on every new path (the landing page's forward, the
page's PDF). Servers on 127.0.0.1: `site` is the configured e-paper, `inside` stands for this
host's own network and must get no connection at all."""

from __future__ import annotations

import dataclasses
import datetime
import gzip
from datetime import datetime as clock
from zoneinfo import ZoneInfo

import pytest

import epaper_layouts as layouts
from loopback import record_connections, respond, serve
from test_security_fetch import hosts_seen, redirect
from test_worker import rows, source as source_entry, write_sources
from tracker.config import load_config
from tracker.documents import InputError
from tracker.sources.catalog import Source
from tracker.sources.epaper import issue_documents
from tracker.worker.service import Worker

CONFIG = {"HTTP_CONNECT_TIMEOUT": 2.0, "HTTP_READ_TIMEOUT": 2.0, "HTTP_TOTAL_TIMEOUT": 5.0}
DAY = datetime.date(2024, 3, 1)
FOLDER = f"/paper/html/{DAY:%Y-%m}/{DAY:%d}/"
TEMPLATE = "/paper/html/{date:%Y-%m}/{date:%d}/node_1.htm"
ARTICLE = ("<html><body><h1>{0}</h1><div id=ozoom><p>{0}，专业镇建设提速。</p></div>"
           "</body></html>")


@pytest.fixture
def inside():
    """The host's own network: a server that must get no connection at all."""
    with serve() as state:
        record_connections(state, ("/secret", "/secret.pdf"),
                           respond("<html><body><p>内部系统机密页面</p></body></html>".encode()))
        yield state


def epaper(site, url: str = TEMPLATE, **changes) -> Source:
    return dataclasses.replace(Source(id="bad", name="坏报", type="epaper", url=site.base + url),
                               **changes)


def index(site, links: str) -> None:
    site.routes[FOLDER + "node_1.htm"] = respond(f"<html><body>{links}</body></html>".encode())


def test_a_layout_never_seen_is_named(site):
    index(site, "".join(f'<a href="article.jsp?id={n}">第{n}篇</a>' for n in range(5)) +
          "<p>" + "本报讯 " * 100 + "</p>")
    with pytest.raises(InputError) as caught:
        issue_documents(epaper(site), DAY, CONFIG)
    assert caught.value.problem.startswith("unknown-layout: no page, article or PDF links of the "
                                           "layout `founder`")
    assert site.requested == [FOLDER + "node_1.htm"]


def test_ten_thousand_links_on_a_page_are_named_and_not_followed(site):
    """Refused from the index alone (how fast, against a page of the same size with few links:
    bench/refusal_bench.py)."""
    index(site, "".join(f'<a href="content_{n}.htm">稿件{n}</a>' for n in range(10_000)))
    issue = issue_documents(epaper(site), DAY, CONFIG)
    assert issue.documents == []
    assert issue.problems == [f"{site.base}{FOLDER}node_1.htm: too-many-links: lists 10,000 "
                              "article links, more than 300 (EPAPER_MAX_PAGE_LINKS); not a "
                              "newspaper page, not read（链接过多，不像报纸版面）"]
    assert site.requested == [FOLDER + "node_1.htm"]


def pdf_page(site, pdf: bytes, headers: dict | None = None, link: str = "../../../p/1.pdf") -> None:
    index(site, f'<div>第01版：要闻</div><a href="{link}">PDF下载</a>')
    site.routes["/paper/p/1.pdf"] = respond(pdf, "application/pdf", headers=headers)


def test_a_pdf_bomb_is_cut_at_the_size_limit_and_named(site):
    """Cut at the limit, not inflated whole (how fast, and that a bomb four times the size takes
    no longer: bench/refusal_bench.py)."""
    bomb = gzip.compress(b"%PDF-1.4\n" + b"0" * (64 << 20), compresslevel=9)  # ~64 KB → 64 MB
    pdf_page(site, bomb, {"Content-Encoding": "gzip"})
    issue = issue_documents(epaper(site), DAY, {**CONFIG, "MAX_DOCUMENT_BYTES": 1 << 20})
    assert issue.documents == []
    [problem] = issue.problems
    assert problem.startswith(f"{site.base}/paper/p/1.pdf: pdf-unreadable: the page's PDF cannot "
                              "be read: is larger than the 1,048,576-byte limit")


def test_a_damaged_pdf_is_named(site):
    pdf_page(site, b"%PDF-1.4\n1 0 obj<<>>\n%%EOF garbage")
    issue = issue_documents(epaper(site), DAY, CONFIG)
    [problem] = issue.problems
    assert problem.startswith(f"{site.base}/paper/p/1.pdf: pdf-unreadable: ")


def test_a_pdf_linked_inside_this_hosts_network_is_not_fetched(site, inside):
    pdf_page(site, b"", link=f"{inside.base}/secret.pdf")  # 127.0.0.1, another port
    issue = issue_documents(epaper(site), DAY, CONFIG)
    assert inside.connections == []
    [problem] = issue.problems
    assert problem.startswith(f"{inside.base}/secret.pdf: pdf-unreadable: the page's PDF cannot "
                              "be read: not fetched")


def test_an_article_redirecting_in_a_loop_is_named_and_the_rest_read(site):
    index(site, '<a href="content_1.htm">一</a><a href="content_2.htm">二</a>')
    site.routes[FOLDER + "content_1.htm"] = redirect(FOLDER + "content_1.htm")
    site.routes[FOLDER + "content_2.htm"] = respond(ARTICLE.format("第二篇").encode())
    issue = issue_documents(epaper(site), DAY, CONFIG)
    assert [d.title for d in issue.documents] == ["第二篇"]
    assert issue.problems == [f"{site.base}{FOLDER}content_1.htm: redirect-loop: more than 5 "
                              "redirects (a redirect loop?); not read（网址重定向循环）"]


def test_an_index_redirecting_in_a_loop_is_named(site):
    site.routes[FOLDER + "node_1.htm"] = redirect(FOLDER + "node_1.htm")
    with pytest.raises(InputError) as caught:
        issue_documents(epaper(site), DAY, CONFIG)
    assert caught.value.problem.startswith("redirect-loop: ")


def test_a_landing_page_forwarding_in_a_loop_is_named(site):
    hop = '<html><head><meta http-equiv="refresh" content="0;url={}"></head></html>'
    site.routes["/a/"] = respond(hop.format("/b/").encode())
    site.routes["/b/"] = respond(hop.format("/a/").encode())
    with pytest.raises(InputError) as caught:
        issue_documents(epaper(site, "/a/"), DAY, CONFIG)
    assert caught.value.problem.startswith(f"forward-loop: the landing page forwards in a loop "
                                           f"({site.base}/a/ → {site.base}/b/ → {site.base}/a/)")
    assert site.requested == ["/a/", "/b/"]


def test_a_landing_page_forwarding_inside_this_hosts_network_is_refused(site, inside):
    site.routes["/landing/"] = respond(
        f'<html><head><meta http-equiv="refresh" content="0; URL={inside.base}/secret"></head>'
        "</html>".encode())
    with pytest.raises(InputError) as caught:
        issue_documents(epaper(site, "/landing/"), DAY, CONFIG)
    assert "not fetched" in caught.value.problem
    assert inside.connections == []


def test_a_landing_page_forwarding_to_another_host_name_is_not_followed(site):
    port = site.base.rsplit(":", 1)[1]
    target = f"/paper/html/{DAY:%Y-%m}/{DAY:%d}/node_1.htm"
    site.routes["/landing/"] = respond(
        f"<html><head><script>location.replace('http://localhost:{port}{target}')</script>"
        "</head></html>".encode())
    index(site, '<a href="content_1.htm">一</a>')
    seen = hosts_seen(site)
    with pytest.raises(InputError) as caught:
        issue_documents(epaper(site, "/landing/"), DAY, CONFIG)
    assert "off the site's host" in caught.value.problem
    assert [path for _, path in seen] == ["/landing/"]


def test_a_page_in_gbk_declared_utf8_is_read_right_and_noted(site):
    site.routes[FOLDER + "node_1.htm"] = respond(
        '<html><head><meta charset="utf-8"></head><body><a href="content_1.htm">绿电 直供'
        "</a></body></html>".encode("gbk"), "text/html; charset=utf-8")
    site.routes[FOLDER + "content_1.htm"] = respond(
        ARTICLE.format("绿电直供园区").encode("gbk"), "text/html; charset=utf-8")
    issue = issue_documents(epaper(site), DAY, CONFIG)
    [document] = issue.documents
    assert (document.title, document.text) == ("绿电直供园区", "绿电直供园区，专业镇建设提速。")
    assert issue.problems == []
    assert issue.notes == [f"{site.base}{FOLDER}node_1.htm: declares utf-8 but is gb18030; "
                           "read as gb18030"]


def test_bad_sources_are_named_and_the_others_go_on(site, tmp_path):
    """One worker cycle: a site built by script, an index in a redirect loop and a landing page
    in a forward loop fail with their names; the good e-paper beside them is stored, its PDF
    page split into articles."""
    today = clock.now(ZoneInfo("Asia/Shanghai")).date()
    good = layouts.kjrb(site, today)
    spa = layouts.stdaily_spa(site, today)
    site.routes["/loop/node_1.htm"] = redirect("/loop/node_1.htm")
    site.routes["/a/"] = respond(b'<meta http-equiv="refresh" content="0;url=/a/">')
    instance = tmp_path / "instance"
    instance.mkdir()
    write_sources(instance, [
        source_entry("spa", url=spa.url, type="epaper"),
        source_entry("loop", url=f"{site.base}/loop/node_1.htm", type="epaper"),
        source_entry("landing", url=f"{site.base}/a/", layout="founder"),
        source_entry("kjrb", url=good.url)])
    config = load_config({"INSTANCE_PATH": str(instance), "RULES": "rules",
                          "HTTP_CONNECT_TIMEOUT": 2, "HTTP_READ_TIMEOUT": 2,
                          "HTTP_TOTAL_TIMEOUT": 5}, environ={})
    reports = {r.source: r for r in Worker(config).once()}
    assert {s: r.status for s, r in reports.items()} == {
        "spa": "error", "loop": "error", "landing": "error", "kjrb": "ok"}
    assert "script-built: this site loads its pages by script" in reports["spa"].error
    assert "redirect-loop: " in reports["loop"].error
    assert "forward-loop: " in reports["landing"].error
    stored = rows(config, "SELECT page, title FROM articles WHERE source_id = 'kjrb' ORDER BY id")
    assert [title for _, title in stored] == [*good.titles.values(), *good.pdf_titles]
    assert [page for page, _ in stored] == [*good.page_of.values(), "第03版 新闻", "第03版 新闻"]
