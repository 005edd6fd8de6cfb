"""Reading files, web pages and feeds into Documents; every failure an InputError naming the input.

HTTP cases run against a real ThreadingHTTPServer on 127.0.0.1 (port 0) in a daemon thread.

Peer bugs turned into cases here:
- kurtmckee/feedparser#76, #263, #105: feedparser fetching URLs itself hangs with no timeout;
  feedparser must only ever get bytes in hand (spied), and a silent server must time out.
- kurtmckee/feedparser#107: feedparser opened a file named in the feed's DOCTYPE; an external
  DTD must be neither read nor fetched.
- big-list-of-naughty-strings#58, NousResearch/hermes-agent#27380: "billion laughs" in a feed.
- rbren/rss-parser#76, kurtmckee/feedparser#478, miniflux/v2#255: GBK feeds and pages declared
  as UTF-8 came out garbled.
"""

from __future__ import annotations

import html
import os
import socket
from pathlib import Path
from typing import Callable

import feedparser
import pytest

from tracker.config import load_config
from loopback import respond, stream
from tracker.documents import InputError
from tracker.sources import read
from tracker.sources.reader import detect_kind
from builders import as_rss, billion_laughs, make_pdf
from slow_peers import trickled_body

LIMIT = 100_000


@pytest.fixture
def config(tmp_path):
    return load_config({"MAX_DOCUMENT_BYTES": LIMIT, "HTTP_CONNECT_TIMEOUT": 2.0,
                        "HTTP_READ_TIMEOUT": 0.5, "HTTP_TOTAL_TIMEOUT": 5.0},
                       environ={"TRACKER_INSTANCE": str(tmp_path / "instance")})


@pytest.fixture
def page(seed_texts) -> str:
    """A seed page (the one with the most 专业镇)."""
    return max(seed_texts.values(), key=lambda text: text.count("专业镇"))


def as_html(text: str, meta: str = "utf-8", title: str = "数字报") -> str:
    paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in text.splitlines() if line.strip())
    return (f'<!DOCTYPE html><html><head><meta charset="{meta}"><title>{title}</title></head>'
            f"<body>{paragraphs}</body></html>")


def as_pdf(text: str) -> bytes:
    """A one-page PDF of short pieces of the seed lines around 专业镇."""
    lines = [line.strip() for line in text.splitlines() if "专业镇" in line][:5]
    return make_pdf([[line[max(0, line.index("专业镇") - 10):line.index("专业镇") + 13] for line in lines]])


def paragraphs(text: str, count: int) -> list[str]:
    return [line.strip() for line in text.splitlines() if len(line.strip()) > 30][:count]


def problem(call: Callable[[], object]) -> tuple[str, str]:
    with pytest.raises(InputError) as caught:
        call()
    return caught.value.where, caught.value.problem


# ---------------------------------------------------------------- files


def test_a_gbk_text_file_is_one_document_named_as_typed(tmp_path, monkeypatch, config, page):
    (tmp_path / "page.txt").write_bytes(page.replace("\n", "\r\n").encode("gbk"))
    monkeypatch.chdir(tmp_path)
    [document] = read("./page.txt", config)
    assert (document.name, document.kind, document.text) == ("./page.txt", "text", page)
    assert document.meta["encoding"] == "gb18030"


@pytest.mark.parametrize("filename, build, kind", [
    ("page.txt", lambda text: text.encode("gbk"), "text"),
    ("page", lambda text: text.encode(), "text"),
    ("page.html", lambda text: as_html(text).encode(), "html"),
    ("page.htm", lambda text: as_html(text, meta="gb2312").encode("gbk"), "html"),
    ("page", lambda text: as_html(text).encode(), "html"),  # no extension: sniffed
    ("page.txt", lambda text: as_html(text).encode(), "html"),  # an HTML root beats the extension
    ("fragment.html", lambda text: html.escape(text).encode(), "html"),
    ("feed.xml", lambda text: as_rss([{"title": "t", "description": text}]).encode(), "feed-entry"),
    ("feed.txt", lambda text: as_rss([{"title": "t", "description": text}]).encode(), "feed-entry"),
    ("feed", lambda text: as_rss([{"title": "t", "description": text}], "gbk").encode("gbk"), "feed-entry"),
    ("page.pdf", lambda text: as_pdf(text), "pdf"),
    ("page.bin", lambda text: as_pdf(text), "pdf"),  # %PDF- beats the extension
])
def test_kind_from_content_and_extension(tmp_path, config, page, filename, build, kind):
    path = tmp_path / filename
    path.write_bytes(build(page))
    documents = read(str(path), config)
    assert [d.kind for d in documents] == [kind]
    assert "专业镇" in documents[0].text


@pytest.mark.parametrize("head, suffix, content_type, kind", [
    ('<?xml version="1.0"?>\n<!-- c -->\n<feed xmlns="http://www.w3.org/2005/Atom">', "", None, "feed"),
    ("<rdf:RDF xmlns:rdf='x'>", ".html", "text/html", "feed"),
    ("<!doctype html><p>x", ".xml", "application/xml", "html"),
    ("专业镇 <p> 其实是文字", ".txt", None, "text"),
    ("专业镇 <p> 没有扩展名", "", None, "html"),
    ("专业镇 纯文字", ".htm", None, "html"),
    ("专业镇 纯文字", "", "text/html", "html"),
    ("专业镇 纯文字", "", None, "text"),
    ("<html><p>文字</p>", "", "text/plain", "html"),
])
def test_detect_kind(head, suffix, content_type, kind):
    assert detect_kind(head, suffix, content_type) == kind


def test_a_file_over_the_limit_is_refused_without_reading_it(tmp_path, monkeypatch, config):
    path = tmp_path / "huge.txt"
    with path.open("wb") as file:
        file.truncate(10 * 1024**3)  # sparse: 10 GB that take no space
    monkeypatch.setattr(Path, "open", lambda *a, **k: pytest.fail("opened a file over the limit"))
    monkeypatch.setattr(Path, "read_bytes", lambda *a, **k: pytest.fail("read a file over the limit"))
    where, why = problem(lambda: read(str(path), config))
    assert where == str(path)
    assert "MAX_DOCUMENT_BYTES" in why and f"{LIMIT:,}" in why


@pytest.mark.parametrize("name, content, expected", [
    ("missing.txt", None, "no such file"),
    ("empty.txt", b"", "is empty"),
    ("x.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "looks like binary data, not text"),
    ("fake.pdf", "专业镇".encode(), "is said to be a PDF but does not start like one (no %PDF- header)"),
    ("scan.pdf", make_pdf([[]]), "PDF has no text layer (scanned?); OCR is not supported"),
    ("bomb.xml", billion_laughs().encode(), "feed declares XML entities; refused"),
])
def test_unreadable_files(tmp_path, config, name, content, expected):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    assert problem(lambda: read(str(path), config)) == (str(path), expected)


def test_a_directory_is_refused(tmp_path, config):
    assert problem(lambda: read(str(tmp_path), config)) == (str(tmp_path), "is a directory, not a file")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_is_refused_not_read_forever(tmp_path, config):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert problem(lambda: read(str(fifo), config)) == (str(fifo), "is not a regular file")


@pytest.mark.parametrize("ref", ["ftp://example.org/page.txt", "file:///etc/hosts", "", "   "])
def test_unsupported_references(config, ref):
    assert problem(lambda: read(ref, config))[0] == ref


# ---------------------------------------------------------------- feeds (from files)


def test_feed_entries_become_documents(tmp_path, config, page):
    first, second, third = paragraphs(page, 3)
    items = [
        {"title": "专业镇 <一>", "link": "http://example.org/1", "pubDate": "Tue, 01 Apr 2025 07:30:00 +0800",
         "description": f"<p>{first}</p><p>专业<b>镇</b></p>"},
        {"title": "二", "description": "短摘要", "content:encoded": f"<p>{second}</p><p>{third}</p>"},
        {"title": "三"},
    ]
    path = tmp_path / "feed.rss"
    path.write_bytes(as_rss(items, encoding="utf-8").encode("gbk"))  # GBK bytes declared UTF-8
    documents = read(str(path), config)
    assert [d.name for d in documents] == [f"{path}#1", f"{path}#2", f"{path}#3"]
    assert [d.kind for d in documents] == ["feed-entry"] * 3
    one, two, three = documents
    assert (one.title, one.url, one.text) == ("专业镇 <一>", "http://example.org/1", f"{first}\n专业镇")
    assert one.published == "2025-04-01T07:30:00+08:00"  # the paper's own day, not UTC's
    assert two.text == f"{second}\n{third}"  # the full content, not the summary
    assert (three.title, three.text, three.published) == ("三", "", None)


def test_the_longest_content_wins_and_html_titles_become_text(tmp_path, config, page):
    short, long = paragraphs(page, 2)[0][:10], "".join(paragraphs(page, 2))
    rss = as_rss([{"title": "x", "description": "摘要"}]).replace(
        "<description>摘要</description>",
        f"<description>摘要</description><content:encoded>{short}</content:encoded>"
        f"<content:encoded>&lt;p&gt;{long}&lt;/p&gt;</content:encoded>")
    atom = ('<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>报</title><entry>'
            '<title type="html">&lt;b&gt;专业&lt;/b&gt;镇</title><id>urn:1</id>'
            '<updated>2025-04-01T07:30:00+08:00</updated><summary>摘要</summary>'
            f'<content type="text">{short}</content><content type="html">&lt;p&gt;{long}&lt;/p&gt;</content>'
            "</entry></feed>")
    for name, feed in (("rss.xml", rss), ("atom.xml", atom)):
        (tmp_path / name).write_text(feed, encoding="utf-8")
        [document] = read(str(tmp_path / name), config)
        assert document.text == long, name
    assert (document.title, document.published) == ("专业镇", "2025-04-01T07:30:00+08:00")


def test_a_malformed_feed_is_still_read_leniently(tmp_path, config, page):
    text = paragraphs(page, 1)[0]
    feed = as_rss([{"title": "A", "description": text}]).replace("<title>A</title>", "<title>A & B</title>")
    path = tmp_path / "feed.xml"
    path.write_text(feed, encoding="utf-8")
    [document] = read(str(path), config)
    assert (document.title, document.text) == ("A & B", text)


@pytest.mark.parametrize("content", [
    '<?xml version="1.0"?><rss version="2.0"><channel><title>只有标题',
    "<rss",
    '<?xml version="1.0"?><urlset><url><loc>http://example.org/</loc></url></urlset>',
])
def test_an_unreadable_feed_is_refused(tmp_path, config, content):
    path = tmp_path / "feed.xml"
    path.write_text(content)
    where, why = problem(lambda: read(str(path), config))
    assert where == str(path) and why.startswith("not a readable RSS/Atom feed: ")


def test_a_billion_laughs_feed_is_refused_fast(tmp_path, config):
    path = tmp_path / "feed.xml"
    path.write_text(billion_laughs())
    assert problem(lambda: read(str(path), config)) == (str(path), "feed declares XML entities; refused")


def test_an_external_dtd_is_not_read(tmp_path, config):
    dtd = tmp_path / "evil.dtd"
    dtd.write_text('<!ENTITY secret "LEAKED">')
    feed = as_rss([{"title": "a", "description": "b"}], doctype=f'<!DOCTYPE rss SYSTEM "{dtd.as_uri()}">')
    path = tmp_path / "feed.xml"
    path.write_text(feed.replace("<title>a</title>", "<title>a &secret; z</title>"))
    documents = read(str(path), config)
    assert "LEAKED" not in repr(documents)


# ---------------------------------------------------------------- HTTP


def test_a_web_page(site, config, page):
    site.routes["/a/page.html"] = respond(as_html(page).encode())
    ref = f"{site.base}/a/page.html"
    [document] = read(ref, config)
    assert (document.name, document.kind, document.title, document.url) == (ref, "html", None, ref)
    assert document.meta["html_title"] == "数字报"
    assert document.text.count("专业镇") == page.count("专业镇")


def test_a_gbk_page_declared_utf8_in_header_and_meta(site, config, page):
    site.routes["/gbk"] = respond(as_html(page, meta="utf-8").encode("gbk"), "text/html; charset=utf-8")
    [document] = read(f"{site.base}/gbk", config)
    assert document.meta["encoding"] == "gb18030"
    assert document.text.count("专业镇") == page.count("专业镇")


def test_a_redirect_keeps_the_name_and_records_the_url(site, config, page):
    site.routes["/old"] = respond(b"", status=301, headers={"Location": "/new.html"})
    site.routes["/new.html"] = respond(as_html(page).encode())
    [document] = read(f"{site.base}/old", config)
    assert (document.name, document.url) == (f"{site.base}/old", f"{site.base}/new.html")


def test_a_web_feed_is_parsed_from_bytes_in_hand(site, config, monkeypatch, page):
    items = [{"title": f"第{n}条", "link": f"/item/{n}", "description": text}
             for n, text in enumerate(paragraphs(page, 3), 1)]
    site.routes["/feed"] = respond(as_rss(items, encoding="utf-8").encode("gbk"),
                                   "application/rss+xml; charset=utf-8")
    given: list[object] = []
    real_parse = feedparser.parse
    monkeypatch.setattr(feedparser, "parse",
                        lambda source, **kw: given.append(source) or real_parse(source, **kw))
    ref = f"{site.base}/feed"
    documents = read(ref, config)
    assert given and all(hasattr(source, "read") for source in given)  # never a URL or a path
    assert [d.name for d in documents] == [f"{ref}#1", f"{ref}#2", f"{ref}#3"]
    assert [d.text for d in documents] == paragraphs(page, 3)
    assert [d.url for d in documents] == [f"{site.base}/item/{n}" for n in (1, 2, 3)]
    assert site.requested == ["/feed"]


def test_a_feed_dtd_on_the_web_is_not_fetched(site, config):
    site.routes["/rss-0.91.dtd"] = respond(b'<!ENTITY secret "LEAKED">', "application/xml-dtd")
    feed = as_rss([{"title": "a", "description": "b"}],
                  doctype=f'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
                          f'"{site.base}/rss-0.91.dtd">')
    site.routes["/feed.xml"] = respond(feed.encode(), "application/rss+xml")
    [document] = read(f"{site.base}/feed.xml", config)
    assert (document.title, document.text) == ("a", "b")
    assert site.requested == ["/feed.xml"]


def test_a_billion_laughs_feed_on_the_web(site, config):
    site.routes["/bomb.xml"] = respond(billion_laughs().encode(), "application/rss+xml")
    ref = f"{site.base}/bomb.xml"
    assert problem(lambda: read(ref, config)) == (ref, "feed declares XML entities; refused")


def test_a_pdf_on_the_web(site, config, page):
    lines = paragraphs(page, 2)
    site.routes["/page.pdf"] = respond(make_pdf([[line[:30]] for line in lines]), "application/pdf")
    [document] = read(f"{site.base}/page.pdf", config)
    assert (document.kind, document.text) == ("pdf", "\n\n".join(line[:30] for line in lines))


@pytest.mark.parametrize("path, expected", [
    ("/missing", "server answered HTTP 404 Not Found"),
    ("/broken", "server answered HTTP 500 Internal Server Error"),
    ("/empty", "is empty"),
    ("/loop", "more than 5 redirects"),
    ("/to-ftp", "unsupported URL ("),
])
def test_http_failures_name_the_problem(site, config, path, expected):
    site.routes["/broken"] = respond(b"oops", status=500)
    site.routes["/empty"] = respond(b"")
    site.routes["/loop"] = respond(b"", status=302, headers={"Location": "/loop"})
    site.routes["/to-ftp"] = respond(b"", status=302, headers={"Location": "ftp://127.0.0.1/x"})
    ref = f"{site.base}{path}"
    where, why = problem(lambda: read(ref, config))
    assert where == ref and why.startswith(expected)


def test_a_declared_length_over_the_limit_is_refused_before_the_body(site, config):
    site.routes["/declared"] = stream(site, "declared", 64 * 1024 * 1024, content_length=True)
    ref = f"{site.base}/declared"
    where, why = problem(lambda: read(ref, config))
    assert where == ref and f"{64 * 1024 * 1024:,} bytes" in why and "MAX_DOCUMENT_BYTES" in why
    assert site.finished["declared"].wait(10)
    assert site.sent["declared"] < 16 * 1024 * 1024  # at most what socket buffers took


def test_an_undeclared_body_over_the_limit_is_cut_off(site, config):
    site.routes["/endless"] = stream(site, "endless", 64 * 1024 * 1024, content_length=False)
    ref = f"{site.base}/endless"
    where, why = problem(lambda: read(ref, config))
    assert where == ref and "download stopped" in why and f"{LIMIT:,}" in why
    assert site.finished["endless"].wait(10)
    assert site.sent["endless"] < 16 * 1024 * 1024  # the client hung up long before the end


def test_a_server_that_never_answers_times_out(site, config):
    site.routes["/silent"] = lambda handler: site.release.wait(30)
    ref = f"{site.base}/silent"
    assert problem(lambda: read(ref, config)) == (ref, "timed out after 0.5 s")


def test_a_trickling_server_hits_the_total_deadline(site, config):
    """A byte every 50 ms never trips the read timeout; the total limit ends the read (its error
    says so: a server that gave up would end it without one). How soon after the limit:
    bench/deadline_bench.py. The server gives up after a minute (slow_peers.GIVE_UP)."""
    site.routes["/trickle"] = trickled_body(site)
    config.update(HTTP_READ_TIMEOUT=2.0, HTTP_TOTAL_TIMEOUT=0.5)
    ref = f"{site.base}/trickle"
    assert problem(lambda: read(ref, config)) == (ref, "timed out after 0.5 s")


def test_a_closed_port_cannot_connect(config):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ref = f"http://127.0.0.1:{port}/page.html"
    where, why = problem(lambda: read(ref, config))
    assert where == ref and why.startswith("cannot connect")
