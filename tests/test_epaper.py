"""The e-paper source against a small e-paper of our own on 127.0.0.1 (tests/epaper_site.py), and
its pure parts (links, page names, article parsing, issue dates) one by one.

Peer bugs turned into cases here:
- DIYgod/RSSHub#16388 and #16734, and e-paper scrapers forcing `r.encoding = "utf-8"`: one
  charset assumed for every page garbled the others; here one page is GBK declared gb2312 and
  the other GBK declared utf-8 (a lie), in the same issue.
- People's Daily scrapers cutting `<!--enpcontent-->` "excluding the repeated second copy":
  Founder article pages carry a hidden duplicate of the body; the text must hold it once.
- DIYgod/RSSHub#22874 (review: scope article links) and 上一期/下一期 links on every page:
  page links to other dates and links to other hosts must never be fetched.
- caspiankexin/people-daily-crawler-date#1 (a date answering 404), Kings-en/rmrb-pdf-fetcher
  (falling back to the previous day or today's date when the issue is missing) and sites that
  redirect a missing date to the newest issue: a missing issue is NoIssue, never another
  date's articles filed under this date.
- kingname/GeneralNewsExtractor#12 and #106 (wrong headline, or one character of it): the
  headline is the article's, not the site logo <h1> nor <title>; the link text is the fallback.
- raddyfiy/The-Peoples-Daily-download#4 and l0o0/translators_CN#941 (People's Daily moved from
  .htm to .html pages): the default patterns still find node_01.html / content_1.html.
- DIYgod/RSSHub#22831 (an index that became a META REFRESH page): an index yielding no article
  is reported, not silently empty.
"""

from __future__ import annotations

import dataclasses
import datetime

import pytest

from epaper_site import ARTICLES, DAY, FOOTER, MISSING, NAV, build, expected_title
from loopback import respond
from tracker.documents import InputError
from tracker.sources.catalog import DEFAULT_ARTICLES, DEFAULT_PAGES, Source
from tracker.sources.epaper import (Issue, NoIssue, article_links, issue_dates, issue_documents,
                                    page_label, page_links, page_name, parse_article)

CONFIG = {"HTTP_CONNECT_TIMEOUT": 2.0, "HTTP_READ_TIMEOUT": 2.0, "HTTP_TOTAL_TIMEOUT": 5.0}
BASE = "http://paper.example.cn/sxrb/html/2025-04/09/node_1.htm"


def source_for(paper, **changes) -> Source:
    return dataclasses.replace(Source(id="sxrb", name="山西日报", type="epaper", url=paper.template),
                               **changes)


# ------------------------------------------------------------------------------- the whole issue

@pytest.fixture
def paper(site):
    return build(site)


@pytest.fixture
def issue(paper) -> Issue:
    return issue_documents(source_for(paper), DAY, CONFIG)


def test_issue_articles_in_page_then_link_order_once_each(paper, issue):
    names = [document.name for document in issue.documents]
    assert names == [paper.url(name) for name in
                     ("content_101.htm", "content_102.htm", "content_201.htm", "content_202.htm")]


def test_issue_documents_fields(paper, issue):
    pages = {1: "第01版 要闻", 2: "第02版 专业镇"}
    for document in issue.documents:
        article = ARTICLES[document.name.rsplit("/", 1)[1]]
        page_url = paper.url(f"node_{article['page']}.htm")
        assert document.kind == "epaper"
        assert document.url == document.name
        assert document.title == expected_title(article)
        assert document.published == "2025-04-09"
        assert document.source == "sxrb"
        assert document.meta == {"page": pages[article["page"]], "page_url": page_url,
                                 "issue_date": "2025-04-09"}


def test_issue_titles_read_from_gbk_pages_whatever_they_declare(issue):
    # page 1 is GBK declared gb2312, page 2 GBK declared utf-8: both read right
    assert [document.title for document in issue.documents] == [
        "县域经济提质增效 我省新认定十二个省级专业镇",
        "标准地出让提速 企业拿地即开工 全省已累计出让标准地三百余宗",
        "晋中零碳产业园 绿电直供 让园区企业用上“绿色电”",
        "科技 赋能 专业镇 转型",
    ]


def test_issue_text_is_the_body_once_without_navigation(issue):
    for document in issue.documents:
        paragraphs = ARTICLES[document.name.rsplit("/", 1)[1]]["paragraphs"]
        assert document.text.split("\n") == paragraphs  # one line per paragraph, nothing else
        assert document.text.count(paragraphs[0]) == 1  # the hidden second copy is not read
        for chrome in (NAV, FOOTER, "首页", "上一篇", "山西日报数字报", "返回版面"):
            assert chrome not in document.text


def test_issue_reports_the_missing_article_and_keeps_the_rest(paper, issue):
    assert issue.problems == [f"{paper.url(MISSING)}: server answered HTTP 404 Not Found"]
    assert len(issue.documents) == 4


def test_issue_requests_only_its_own_pages_and_articles_once(paper, issue, site):
    own = {paper.path(name) for name in ("node_1.htm", "node_2.htm", MISSING, *ARTICLES)}
    assert sorted(site.requested) == sorted(own)  # each once: the index is page 1, 102 read once
    assert all("/08/" not in path and "/10/" not in path for path in site.requested)
    assert not any("elsewhere" in path or "node_3" in path for path in site.requested)
    assert not any("localhost" in problem for problem in issue.problems)


@pytest.mark.parametrize("day", [datetime.date(2025, 4, 8), datetime.date(2025, 4, 10),
                                 datetime.date(2025, 3, 1), datetime.date(2024, 12, 31)])
def test_any_issue_date_reads_its_own_pages_only(site, day):
    # 上一期/下一期 point at the days around the issue, whatever its date: on the 8th or 10th
    # they once pointed at the issue itself and "上一期" was stored as a page name
    paper = build(site, day)
    issue = issue_documents(source_for(paper), day, CONFIG)
    assert {document.meta["page"] for document in issue.documents} == {"第01版 要闻", "第02版 专业镇"}
    assert {document.published for document in issue.documents} == {day.isoformat()}
    own = {paper.path(name) for name in ("node_1.htm", "node_2.htm", MISSING, *ARTICLES)}
    assert sorted(site.requested) == sorted(own)


def test_page_that_fails_is_reported_and_other_pages_read(site):
    paper = build(site, broken_page=True)
    issue = issue_documents(source_for(paper), DAY, CONFIG)
    assert [d.name for d in issue.documents] == [paper.url("content_101.htm"), paper.url("content_102.htm")]
    assert f"{paper.url('node_2.htm')}: server answered HTTP 500 Internal Server Error" in issue.problems


def test_article_redirected_off_host_is_discarded(paper, site):
    # http.fetch follows the redirect (see the report); the page it lands on is not used
    site.routes[paper.path("content_202.htm")] = respond(
        b"", status=302, headers={"Location": f"{paper.other_host}/elsewhere/landing.htm"})
    site.routes["/elsewhere/landing.htm"] = respond("<h1>外站</h1><div id=ozoom>外站正文</div>".encode())
    issue = issue_documents(source_for(paper), DAY, CONFIG)
    assert paper.url("content_202.htm") not in [d.name for d in issue.documents]
    problems = [p for p in issue.problems if p.startswith(paper.url("content_202.htm") + ": ")]
    assert len(problems) == 1
    if "/elsewhere/landing.htm" in site.requested:  # `localhost` reached this server
        assert problems[0].endswith(f": redirected off the e-paper's host to {paper.other_host}"
                                    "/elsewhere/landing.htm; not read")


@pytest.mark.parametrize("status", [404, 410])
def test_missing_index_is_no_issue(paper, site, status):
    later = DAY + datetime.timedelta(days=1)
    site.routes[paper.path("node_1.htm", later)] = respond(b"gone", status=status)
    with pytest.raises(NoIssue):
        issue_documents(source_for(paper), later, CONFIG)


def test_unrouted_date_is_no_issue(paper):
    with pytest.raises(NoIssue):
        issue_documents(source_for(paper), datetime.date(2025, 4, 20), CONFIG)


def test_index_redirected_to_another_date_is_no_issue(paper, site):
    later = DAY + datetime.timedelta(days=2)
    site.routes[paper.path("node_1.htm", later)] = respond(
        b"", status=302, headers={"Location": paper.path("node_1.htm")})
    with pytest.raises(NoIssue, match="redirected"):
        issue_documents(source_for(paper), later, CONFIG)
    assert not any("content_" in path for path in site.requested)


def test_index_failing_otherwise_is_input_error(paper, site):
    later = DAY + datetime.timedelta(days=3)
    site.routes[paper.path("node_1.htm", later)] = respond(b"busy", status=500)
    with pytest.raises(InputError) as caught:
        issue_documents(source_for(paper), later, CONFIG)
    assert caught.value.where == paper.url("node_1.htm", later)
    assert "HTTP 500" in caught.value.problem


def test_page_cap(paper, site):
    issue = issue_documents(source_for(paper), DAY, {**CONFIG, "EPAPER_MAX_PAGES": 1})
    assert [d.meta["page"] for d in issue.documents] == ["第01版 要闻", "第01版 要闻"]
    assert paper.path("node_2.htm") not in site.requested
    assert any("EPAPER_MAX_PAGES" in problem for problem in issue.problems)


def test_article_cap(paper, site):
    issue = issue_documents(source_for(paper), DAY, {**CONFIG, "EPAPER_MAX_ARTICLES": 1})
    assert [d.name for d in issue.documents] == [paper.url("content_101.htm")]
    assert paper.path("content_102.htm") not in site.requested
    assert paper.path("node_2.htm") not in site.requested
    assert any("EPAPER_MAX_ARTICLES" in problem for problem in issue.problems)


def test_issue_deadline_stops_a_hanging_issue(site):
    """The deadline ends the issue at the article that hangs: named, nothing after it asked. How
    soon after the deadline: bench/deadline_bench.py (the article gives up after 10 s)."""
    paper = build(site, hang="content_101.htm")
    issue = issue_documents(source_for(paper), DAY, {**CONFIG, "EPAPER_DEADLINE": 1.0})
    assert issue.documents == []
    assert issue.problems[0].startswith(paper.url("content_101.htm") + ": timed out")
    assert issue.problems[-1].startswith(paper.url("node_1.htm") + ": ")
    assert "EPAPER_DEADLINE" in issue.problems[-1]
    assert paper.path("content_102.htm") not in site.requested


def test_index_without_article_links_is_a_named_error(paper):
    with pytest.raises(InputError) as caught:
        issue_documents(source_for(paper, articles=r"article_\d+\.html"), DAY, CONFIG)
    assert caught.value.where == paper.url("node_1.htm")
    assert caught.value.problem.startswith("unknown-layout: no page, article or PDF links of "
                                           "the layout `founder`")


def test_defaults_when_config_lacks_the_keys(paper):
    assert len(issue_documents(source_for(paper), DAY, {}).documents) == 4


# ------------------------------------------------------------------------------- pure functions

@pytest.mark.parametrize("days, expected", [
    (1, ["2025-03-01"]),
    (3, ["2025-03-01", "2025-02-28", "2025-02-27"]),
])
def test_issue_dates(days, expected):
    source = Source(id="x", name="x", type="epaper", url=BASE, days=days)
    assert [d.isoformat() for d in issue_dates(source, datetime.date(2025, 3, 1))] == expected


@pytest.mark.parametrize("text, expected", [
    ("第1版：要闻", "第1版 要闻"),
    ("第01版:要闻", "第01版 要闻"),
    ("02版 综合新闻", "02版 综合新闻"),
    (" 第 3 版 ： 要　闻 ", "第3版 要闻"),
    ("A04版：专业镇", "A04版 专业镇"),
    ("要闻", "要闻"),
    ("", ""),
])
def test_page_label(text, expected):
    assert page_label(text) == expected


@pytest.mark.parametrize("html, expected", [
    ('<a href="node_1.htm">第1版：要闻</a><a href="node_2.htm">第2版：综合</a>',
     [("node_1.htm", "第1版 要闻"), ("node_2.htm", "第2版 综合")]),
    # an image link first, the text link later: first place, first text
    ('<a href="node_2.htm"><img src="p.jpg"></a><a href="./node_2.htm#top">02版 综合新闻</a>',
     [("node_2.htm", "02版 综合新闻")]),
    # other dates, other hosts, scripts and non-page links are not pages
    ('<a href="../08/node_1.htm">上一期</a><a href="http://other.cn/sxrb/html/2025-04/09/node_2.htm">x</a>'
     '<a href="javascript:go(\'node_3.htm\')">3</a><a href="content_1.htm">文章</a>', []),
    ('<a href="/sxrb/html/2025-04/09/node_4.htm">第4版</a>', [("node_4.htm", "第4版")]),
    # People's Daily's 2024 layout: .html pages still match the default pattern
    ('<a href="node_01.html">第01版：要闻</a>', [("node_01.html", "第01版 要闻")]),
])
def test_page_links(html, expected):
    folder = BASE.rsplit("/", 1)[0] + "/"
    assert page_links(html, BASE, DEFAULT_PAGES) == [(folder + u, t) for u, t in expected]


def test_base_href_off_host_does_not_carry_links_off_host():
    html = '<base href="http://other.cn/sxrb/html/2025-04/09/"><a href="content_1.htm">外站</a>'
    assert article_links(html, BASE, DEFAULT_ARTICLES) == []


def test_page_links_honour_base_href():
    html = '<base href="http://paper.example.cn/sxrb/html/2025-04/09/"><a href="node_2.htm">第2版</a>'
    assert page_links(html, "http://paper.example.cn/sxrb/", DEFAULT_PAGES) == [
        ("http://paper.example.cn/sxrb/html/2025-04/09/node_2.htm", "第2版")]


@pytest.mark.parametrize("html, expected", [
    ('<map><area href="content_7.htm"></map><a href="content_7.htm">绿电 直供 园区</a>',
     [("content_7.htm", "绿电 直供 园区")]),  # a headline as linked keeps its spaces
    ('<a href="content_1_2.htm">甲</a><a href="content_12345.htm">乙</a><a href="node_2.htm">版</a>',
     [("content_1_2.htm", "甲"), ("content_12345.htm", "乙")]),
    ('<a href="../../2025-03/01/content_9.htm">旧文</a>', [("../../2025-03/01/content_9.htm", "旧文")]),
    ('<a href="https://elsewhere.cn/content_1.htm">外站</a><a href="mailto:content_1.htm">信</a>', []),
    ('<a href="content_1.html">人民日报新版</a>', [("content_1.html", "人民日报新版")]),
])
def test_article_links(html, expected):
    from urllib.parse import urljoin
    assert article_links(html, BASE, DEFAULT_ARTICLES) == [(urljoin(BASE, u), t) for u, t in expected]


@pytest.mark.parametrize("html, expected", [
    ('<table><tr><td><a href="node_1.htm">第01版：要闻</a></td><td>第02版：专业镇</td>'
     "<td>2025年4月9日</td></tr></table>", "第02版 专业镇"),
    ("<p>02版</p>", "02版"),
    ('<a href="node_1.htm">第01版：要闻</a>', None),
    ("<p>没有版面名</p>", None),
])
def test_page_name(html, expected):
    assert page_name(html) == expected


FOUNDER = ("<h3><founder-introtitle>引题 在此</founder-introtitle></h3>"
           "<h1><founder-title>主题 在此</founder-title></h1>"
           "<h2><founder-subtitle>{sub}</founder-subtitle></h2>"
           "<founder-content><p>　　第一段。</p><p>第二<b>段</b>。</p></founder-content>")


@pytest.mark.parametrize("html, title, text", [
    (FOUNDER.format(sub=""), "引题 在此 主题 在此", "第一段。\n第二段。"),
    (FOUNDER.format(sub="副题"), "引题 在此 主题 在此 副题", "第一段。\n第二段。"),
    # a site logo <h1> and a menu: neither is the headline nor the text
    ('<header><h1><a href="/">山西日报</a></h1></header><nav><h1>导航</h1></nav>'
     "<div>首页 绿电</div><h1>绿电 直供 5G 基站</h1><div id=ozoom><p>正文。</p></div><p>版权所有</p>",
     "绿电 直供 5G 基站", "正文。"),  # a headline keeps its spaces
    ('<div class="article-title">标题</div><div class="article-content"><p>甲。</p><p>乙。</p></div>',
     "标题", "甲。\n乙。"),
    ('<div id="title">标题</div><div id="content"><p>甲。</p></div>', "标题", "甲。"),
    ('<h3>引题</h3>\n<h1>主题</h1>\n<h2>副题</h2><div id="articleContent">甲。</div>',
     "引题 主题 副题", "甲。"),
    # a hidden copy first, then the one shown: the shown one
    ('<h1>标题</h1><div hidden><div id=ozoom><p>旧稿</p></div></div><div id=ozoom><p>新稿</p></div>',
     "标题", "新稿"),
    ('<div style="DISPLAY: none"><founder-content>旧稿</founder-content></div>'
     "<founder-content>新稿</founder-content>", None, "新稿"),
    # only a <title> (the site's name): no headline; no known body: no text
    ("<html><head><title>山西日报数字报</title></head><body><p>某段</p></body></html>", None, ""),
])
def test_parse_article(html, title, text):
    assert parse_article(html) == (title, text)


def test_parse_article_script_inside_body_is_not_text():
    html = "<h1>题</h1><div id=ozoom><script>var a = '绿电';</script><p>正文</p></div>"
    assert parse_article(html) == ("题", "正文")


def test_title_falls_back_to_link_text(site):
    paper = build(site)
    site.routes[paper.path("content_202.htm")] = respond(
        "<html><body><div id=ozoom><p>只有正文的一篇稿件，标题只印在版面上。</p></div></body></html>".encode("gbk"),
        "text/html; charset=gbk")
    issue = issue_documents(source_for(paper), DAY, CONFIG)
    assert issue.documents[-1].title == "科技 赋能 专业镇 转型"  # as linked on page 2
