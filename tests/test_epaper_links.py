"""The links of an e-paper page read once (tracker.sources.epaper.links.PageLinks): a plain href
joined as two strings leads where urljoin takes it, the count the link limit is held against is
the number of article links made, and an issue reads a page's links once however often it asks
(how fast a page of 10,000 links is refused: bench/refusal_bench.py)."""

from __future__ import annotations

import datetime
import itertools
from urllib.parse import urldefrag, urljoin, urlsplit, urlunsplit

import pytest

from loopback import respond
from tracker.sources.catalog import Source
from tracker.sources.epaper import issue as issue_module
from tracker.sources.epaper import issue_documents
from tracker.sources.epaper.links import PageLinks, same_host

BASES = [
    "http://paper.example.cn/sxrb/html/2025-04/09/node_1.htm",
    "https://paper.example.cn:8443/rmrb/pc/layout/202504/09/node_01.html?x=1#top",
    "http://paper.example.cn", "http://paper.example.cn/", "http://Paper.Example.CN/a/../b/./c/",
    "http://paper.example.cn/a//b/node_1.htm", "http://[::1]:8000/p/node_1.htm",
    "ftp://paper.example.cn/a/b", "relative/base.htm",
]
LEADS = ["", "./", "../", "../../../", "/", "/../", "./../", "//paper.example.cn/", "//other.cn/",
         "https://paper.example.cn/z/", "http://other.cn/", "a/./", "a/../", "a//", "x;y/", " ",
         "javascript:"]
NAMES = ["content_1.htm", "content/202504/09/content_1.html", "p/1.PDF", "a+b=c@d,e-f~g%20",
         ".hidden", "..", ".", "中文.htm", "a/"]
TAILS = ["", "?div=-1", "#top", "?", ";p", "/"]


@pytest.mark.parametrize("base", BASES)
def test_each_href_leads_where_urljoin_takes_it(base):
    """PageLinks joins a plain href to what its lead resolves to, as two strings; for every shape
    that must be urljoin's URL, #fragment dropped (?query too, when the pattern matches without
    it: here any URL does), and only on the page's host."""
    for href in map("".join, itertools.product(LEADS, NAMES, TAILS)):
        url = urldefrag(urljoin(base, href.strip()))[0]
        parts = urlsplit(url)
        canonical = urlunsplit(parts._replace(query="")) if parts.query else url
        expected = [canonical] if same_host(url, base) and not href.startswith("javascript:") else []
        assert list(PageLinks(f'<a href="{href}">x</a>', base).found("")) == expected, href


def test_the_count_is_of_the_article_links_made():
    """A credit (本版责编) is no article; links to one article (?div=-1 and ?div=0, #top) are one;
    links off the host are none: the count the limit meets is len(article_links)."""
    base = "http://paper.example.cn/sxrb/html/2025-04/09/node_1.htm"
    html = ("".join(f'<a href="content_{n}.htm">稿件{n}</a>' for n in range(500)) +
            '<a href="content_1.htm?div=-1">稿件1</a><a href="content_2.htm#top"></a>'
            '<a href="content_501.htm">本版责编：张三</a><a href="http://other.cn/content_9.htm">外站</a>')
    links = PageLinks(html, base)
    assert links.article_count(r"content_\d+\.htm") == 500
    assert len(links.article_links(r"content_\d+\.htm")) == 500


def test_a_page_of_many_links_is_read_once(site, monkeypatch):
    """The index of 10,000 links is asked for its article links, its pages, their count and its
    PDF: it is parsed once and each of its hrefs resolved once, before its count refuses it."""
    made: list[str] = []
    resolved: list[str] = []

    class Counted(PageLinks):
        def __init__(self, html: str, base_url: str) -> None:
            made.append(base_url)
            super().__init__(html, base_url)

        def _resolve(self, href: str) -> str:
            resolved.append(href)
            return super()._resolve(href)

    monkeypatch.setattr(issue_module, "PageLinks", Counted)
    day = datetime.date(2024, 3, 1)
    folder = f"/paper/html/{day:%Y-%m}/{day:%d}/"
    body = "".join(f'<a href="content_{n}.htm">稿件{n}</a>' for n in range(10_000))
    site.routes[folder + "node_1.htm"] = respond(f"<html><body>{body}</body></html>".encode())
    source = Source(id="many", name="坏报", type="epaper",
                    url=site.base + "/paper/html/{date:%Y-%m}/{date:%d}/node_1.htm")
    issue = issue_documents(source, day, {"HTTP_TOTAL_TIMEOUT": 5.0})
    assert [problem.split(": ")[1] for problem in issue.problems] == ["too-many-links"]
    assert made == [site.base + folder + "node_1.htm"]
    assert len(resolved) == len(set(resolved)) == 10_000
