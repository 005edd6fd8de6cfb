"""Attacks through links found in a source: what the worker fetches because a feed or an
e-paper said so, run by the real worker against servers on loopback that record every connection
they get. One server (`site`, port A) is the source the administrator configured; another
(`inside`, port B) stands for this host's own network and must never be reached.

What must hold: a feed's links are read only at public addresses or on the feed's own site, not
through a redirect and not under another name for that site; an e-paper's links and redirects
stay on the configured site; the app never shows, nor finds, a page from inside.

The worker's settings for these attacks (`worker_config`), the `inside` server, and the page that
matches the starter rules (`PAGE`) live here, and are imported by the other security files that
run the worker (tests/test_security_chat.py, tests/test_security_own_keywords.py, …)."""

from __future__ import annotations

import datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from loopback import record_connections, respond, serve
from tracker.config import load_config
from tracker.store import connect
from tracker.worker.service import Worker

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "tracker/demo/pages/2025-04-09_demo-daily_p1.txt"  # ours: 专业镇 and 标准地
SECRET = "内部系统机密页面"


@pytest.fixture
def inside():
    """The host's own network: a server that must get no connection at all."""
    with serve() as state:
        record_connections(state, ("/", "/secret", "/secret2", "/push", "/paper/content_9.htm"),
                           respond(f"<html><body><p>{SECRET}。{'机密' * 200}</p></body></html>".encode()))
        yield state


def worker_config(tmp_path: Path, sources: str | None = None, **extra) -> dict:
    """The worker's settings, its instance in `tmp_path`; without `sources`, one drop folder:
    `tmp_path/drop`."""
    if sources is None:
        drop = tmp_path / "drop"
        drop.mkdir(parents=True)
        sources = f"sources:\n  - id: drop\n    name: 演示日报\n    path: {drop}\n"
    instance = tmp_path / "instance"
    instance.mkdir(exist_ok=True)
    (instance / "sources.yaml").write_text(sources, encoding="utf-8")
    return load_config({"INSTANCE_PATH": str(instance), "RULES": str(REPO / "rules"),
                        "FOLDER_SETTLE_SECONDS": 0, "RETRY_DELAYS": "0,0,0,0",
                        "BASE_URL": "https://tracker.example.org", "WEBHOOK_TIMEOUT": 2,
                        "HTTP_READ_TIMEOUT": 2, "HTTP_TOTAL_TIMEOUT": 5, **extra}, environ={})


def db_of(config: dict):
    return connect(Path(config["INSTANCE_PATH"]) / "tracker.db")


def articles_text(config: dict) -> str:
    return "\n".join(t or "" for (t,) in db_of(config).execute("SELECT text FROM articles"))


def redirect(location: str):
    def handle(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(302)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()
    return handle


def hosts_seen(site) -> list[tuple[str, str]]:
    """Wrap every route of `site` to record (Host header, path) of each request it gets."""
    seen: list[tuple[str, str]] = []
    for path, route in list(site.routes.items()):
        def wrapped(handler, route=route):
            seen.append((handler.headers.get("Host", ""), handler.path))
            route(handler)
        site.routes[path] = wrapped
    return seen


# ---- 3. links found in a source -----------------------------------------------------------------

def feed(entries: list[tuple[str, str]]) -> bytes:
    items = "".join(f"<item><title>{title}</title><link>{link}</link>"
                    f"<guid>{link}#{n}</guid><description>短摘要{n}</description></item>"
                    for n, (title, link) in enumerate(entries))
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>测试源</title>{items}</channel></rss>").encode()


def test_feed_links_reach_only_public_addresses_or_the_feeds_own_site(tmp_path, site, inside):
    port_a = site.base.rsplit(":", 1)[1]
    site.routes["/feed.xml"] = respond(feed([
        ("内网", f"{inside.base}/secret"),                       # 127.0.0.1, another port
        ("别名", f"http://localhost:{port_a}/full"),             # the same server, another name
        ("跳转", f"{site.base}/hop"),                            # our site, redirecting inside
        ("文件", "file:///etc/hostname"),
        ("正文", f"{site.base}/full"),                           # the feed's own site: read
    ]), "application/rss+xml")
    site.routes["/hop"] = redirect(f"{inside.base}/secret2")
    site.routes["/full"] = respond(("<html><body><article><p>" + "本站正文，专业镇。" * 40
                                    + "</p></article></body></html>").encode())
    seen = hosts_seen(site)
    config = worker_config(tmp_path, f"sources:\n  - id: feed\n    name: 测试源\n"
                                     f"    url: {site.base}/feed.xml\n    fetch_full: true\n")
    Worker(config).once()

    assert inside.connections == []  # not one connection inside, not even through the redirect
    assert ("127.0.0.1:" + port_a, "/full") in seen and ("127.0.0.1:" + port_a, "/hop") in seen
    assert not [host for host, _ in seen if host.startswith("localhost")]
    text = articles_text(config)
    assert "本站正文" in text and SECRET not in text and "机密" not in text


def test_the_app_never_shows_an_inside_page_fetched_from_a_feed(tmp_path, site, inside):
    from tracker.web import create_app

    site.routes["/feed.xml"] = respond(feed([("内网", f"{inside.base}/secret")]),
                                       "application/rss+xml")
    config = worker_config(tmp_path, f"sources:\n  - id: feed\n    name: 测试源\n"
                                     f"    url: {site.base}/feed.xml\n    fetch_full: true\n")
    Worker(config).once()
    app = create_app({"TESTING": True, "INSTANCE_PATH": config["INSTANCE_PATH"],
                      "RULES": str(REPO / "rules")})
    client = app.test_client()
    [(article_id,)] = db_of(config).execute("SELECT id FROM articles").fetchall()
    page = client.get(f"/articles/{article_id}").get_data(as_text=True)
    assert "短摘要" in page and SECRET not in page  # the teaser is kept, the inside is not read
    assert f'href="/articles/{article_id}"' not in client.get("/articles?q=系统机密").get_data(
        as_text=True)  # nothing found
    assert f'href="/articles/{article_id}"' in client.get("/articles?q=短摘要").get_data(
        as_text=True)  # while the search works
    assert inside.connections == []


def epaper_sources(site) -> str:
    return (f"sources:\n  - id: paper\n    name: 测试数字报\n    type: epaper\n"
            f"    url: {site.base}/paper/{{date:%Y-%m}}/{{date:%d}}/node_1.htm\n"
            f"    pages: 'node_\\d+\\.htm'\n    articles: 'content_\\d+\\.htm'\n")


def test_epaper_links_and_redirects_stay_on_the_configured_site(tmp_path, site, inside):
    port_a = site.base.rsplit(":", 1)[1]
    today = datetime.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    folder = f"/paper/{today:%Y-%m}/{today:%d}/"
    article = ("<html><body><h1>{0}</h1><div id='ozoom'><p>" + "{0}，专业镇发展。" * 10
               + "</p></div></body></html>")
    site.routes[folder + "node_1.htm"] = respond((
        "<html><body><a href='content_1.htm'>第一篇</a>"
        f"<a href='{inside.base}/paper/content_9.htm'>内网同名主机</a>"
        "<a href='content_2.htm'>跳转到别的主机名</a><a href='content_3.htm'>跳转到内网</a>"
        "</body></html>").encode())
    site.routes[folder + "content_1.htm"] = respond(article.format("本报正文").encode())
    site.routes[folder + "content_2.htm"] = redirect(f"http://localhost:{port_a}{folder}content_1.htm")
    site.routes[folder + "content_3.htm"] = redirect(f"{inside.base}/secret")
    seen = hosts_seen(site)
    config = worker_config(tmp_path, epaper_sources(site))
    Worker(config).once()

    assert inside.connections == []
    assert not [host for host, _ in seen if host.startswith("localhost")]  # not followed
    text = articles_text(config)
    assert "本报正文" in text and SECRET not in text
