"""Attacks through the worker: what the service fetches or posts to because a source or a
subscriber said so, run by the real worker against servers on loopback that record every
connection they get. One server (`site`, port A) is the source the administrator configured;
another (`inside`, port B) stands for this host's own network and must never be reached.

Chat robots: a chat URL reaches no host inside, not through a second URL hidden in it, not
through a redirect from its server; a megabyte of chat URL is refused, not stored; a source's
title and link cannot forge a link in the Markdown a chat window shows.

Also: own keywords are matched for their subscriber alone and only once confirmed, and the
archive never shows them, not even the files and hits an earlier version left; YAML anchors and
aliases are refused in rule and source files."""

from __future__ import annotations

import datetime
import email
import re
import time
from email import policy
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from conftest import csrf_token
from loopback import record_connections, respond, serve
from tracker.alerts.chat.send import check_chat_url
from tracker.sources.ssrf import UnsafeURL
from tracker.config import load_config
from tracker.store import connect, transaction
from tracker.store.subscriptions import add_subscription, find_subscription, list_subscriptions
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


# ---- 2. chat robots that name a host ------------------------------------------------------------

def chat_subscription(config: dict, url: str) -> int:
    """A chat subscription stored as an older version would have accepted it (no check)."""
    db = db_of(config)
    with transaction(db):
        sub, _ = add_subscription(db, "chat", url, ["zhuanyezhen"], "instant", active=True)
    return sub.id


@pytest.mark.parametrize("make_url", [
    lambda inside: inside.base.replace("http://", "bark://") + "/key",
    lambda inside: inside.base.replace("http://", "bark://").replace("127.0.0.1", "localhost")
    + "/key",
    lambda inside: inside.base.replace("http://", "bark://").replace("127.0.0.1", "0x7f000001")
    + "/key",
])
def test_the_worker_posts_to_no_chat_host_inside(tmp_path, inside, make_url):
    drop = tmp_path / "drop"
    drop.mkdir()
    config = worker_config(tmp_path, f"sources:\n  - id: drop\n    name: 演示日报\n    path: {drop}\n")
    chat_subscription(config, make_url(inside))
    (drop / PAGE.name).write_bytes(PAGE.read_bytes())
    Worker(config).once()
    assert inside.connections == []
    [(status, error)] = db_of(config).execute("SELECT status, last_error FROM deliveries")
    assert status in ("dead", "failed") and "refused" in error


def test_a_chat_host_allowed_by_configuration_gets_the_message_at_the_checked_address(
        tmp_path, inside):
    """TRACKER_WEBHOOK_ALLOW_PRIVATE=1 (development): the Bark server on loopback is reached,
    through the address that was checked."""
    drop = tmp_path / "drop"
    drop.mkdir()
    config = worker_config(tmp_path, f"sources:\n  - id: drop\n    name: 演示日报\n    path: {drop}\n",
                           WEBHOOK_ALLOW_PRIVATE=True)
    chat_subscription(config, inside.base.replace("http://", "bark://") + "/key")
    (drop / PAGE.name).write_bytes(PAGE.read_bytes())
    Worker(config).once()
    assert inside.connections == ["POST /push"]


@pytest.mark.parametrize("url", ["bark://127.0.0.1:8080/key", "barks://169.254.169.254/key",
                                 "bark://[::1]:8080/key", "bark://localhost/key",
                                 "barks://100.100.100.200/key", "bark://2130706433/key"])
def test_the_public_form_refuses_chat_hosts_inside(url):
    assert check_chat_url(url) is not None
    assert check_chat_url(url, admin=True) is not None  # an admin's too: checked the same way


def test_tls_to_a_host_of_the_subscribers_choice_is_not_offered_publicly():
    from tracker.alerts.chat.target import vet_chat_url

    public = {"hooks.example.org": ["93.184.216.34"], "api.day.app": ["93.184.216.34"]}

    def resolve(host, _port):
        return public[host]

    with pytest.raises(UnsafeURL):
        vet_chat_url("barks://hooks.example.org/key", public=True, resolve=resolve)
    assert vet_chat_url("barks://api.day.app/key", public=True, resolve=resolve) \
        == "barks://api.day.app/key"
    # plain http: pinned to the address that was checked
    assert vet_chat_url("bark://hooks.example.org:8080/key", resolve=resolve) \
        .startswith("bark://93.184.216.34:8080/key")
    # the host Apprise reads is the host checked, whatever our own URL parser would say
    with pytest.raises(UnsafeURL):
        vet_chat_url("bark://hooks.example.org\\@127.0.0.1/key", resolve=resolve)
    # a name that moves inside between two sends is refused at the second
    with pytest.raises(UnsafeURL):
        vet_chat_url("bark://hooks.example.org/key", resolve=lambda h, p: ["127.0.0.1"])
    assert vet_chat_url("dingtalk://abcdef0123456789abcdef") == "dingtalk://abcdef0123456789abcdef"


# ---- chat robots: several URLs in one --------------------------------------------------------

def several(inside) -> list[str]:
    inner = inside.base.replace("http://", "json://") + "/secret"
    return [f"dingtalk://abcdef0123456789abcdef, {inner}",
            f"dingtalk://abcdef0123456789abcdef {inner}",
            f"wecombot://abcdef0123456789;{inner}"]


def run_with_chat(tmp_path: Path, url: str, **extra) -> dict:
    """A worker cycle with one chat subscription to `url` (stored unchecked, as an older version
    or an admin's typo would have) and a page that matches it."""
    config = worker_config(tmp_path, **extra)
    chat_subscription(config, url)
    (tmp_path / "drop" / PAGE.name).write_bytes(PAGE.read_bytes())
    Worker(config).once()
    return config


def test_a_chat_url_holding_several_urls_is_refused(inside):
    """Apprise reads `dingtalk://t, json://127.0.0.1/` as two URLs and sends to both; only the
    first was checked."""
    for url in several(inside):
        assert check_chat_url(url) is not None, url
        assert check_chat_url(url, admin=True) is not None, url


def test_the_public_form_takes_no_second_url_in_a_chat_address(client, inside):
    for url in several(inside):
        token = csrf_token(client, "/subscribe")
        response = client.post("/subscribe", data={
            "csrf_token": token, "channel": "chat", "chat_url": url, "rules": ["zhuanyezhen"],
            "frequency": "instant"})
        assert response.status_code == 400
        assert "一次只能填写一个地址" in response.get_data(as_text=True)
    db = connect(Path(client.application.config["INSTANCE_PATH"]) / "tracker.db")
    assert list_subscriptions(db) == []


def test_the_worker_sends_to_no_second_url_hidden_in_a_chat_address(tmp_path, inside):
    run_with_chat(tmp_path, several(inside)[0])
    assert inside.connections == []


# ---- chat robots: redirects ------------------------------------------------------------------

def test_a_chat_server_cannot_redirect_the_worker_inside(tmp_path, inside):
    """A Bark server at an address that passed the check (here: loopback, allowed by
    configuration) answers 307 to the host's own network: Apprise would follow it, past the
    check. `?redirect=yes` in the URL must not turn following back on."""
    with serve() as bark:
        def bounce(handler: BaseHTTPRequestHandler) -> None:
            bark.requested.append("bounced")
            handler.send_response(307)
            handler.send_header("Location", inside.base + "/secret")
            handler.send_header("Content-Length", "0")
            handler.end_headers()

        bark.routes["/push"] = bounce
        for query in ("", "?redirect=yes"):
            inside.connections.clear()
            bark.requested.clear()
            run_with_chat(tmp_path / query.strip("?=") if query else tmp_path / "plain",
                          bark.base.replace("http://", "bark://") + "/key" + query,
                          WEBHOOK_ALLOW_PRIVATE=True)
            assert "bounced" in bark.requested
            assert inside.connections == []


# ---- chat robots: a hostile source's title and link in a message -----------------------------

def test_a_chat_message_carries_no_script_link_and_no_forged_link_from_a_source():
    """Chat windows render Markdown: an article link that is not http(s) is not made a link, and
    brackets in a title cannot close its link early and open another."""
    from tracker.alerts.chat.send import markdown
    from tracker.alerts.model import Alert, AlertItem

    items = (AlertItem(1, "zhuanyezhen", "专业镇", "坏链接", "javascript:alert(1)", "s", "源", None,
                       None, ("【专业镇】",)),
             AlertItem(2, "zhuanyezhen", "专业镇", "标题](https://phish.example/x) [点此", "https://news.example.org/a",
                       "s", "源", None, None, ("【专业镇】",)))
    alert = Alert(7, 3, "instant", "2025-04-09T00:00:00Z", "<m@x>", "msg_1", items,
                  "https://tracker.example.org/manage/t", "https://tracker.example.org/unsubscribe/t")
    text = markdown(alert, "政策追踪")
    assert "javascript:" not in text
    assert "](https://phish.example/x)" not in text
    assert "(https://news.example.org/a)" in text


# ---- chat robots: a URL of a megabyte ---------------------------------------------------------

def test_a_chat_url_of_a_megabyte_is_refused_not_stored(client):
    """Apprise's parsers spend seconds on a long URL, and the form would store whatever it
    accepted as the address: a chat URL is as short as a webhook's (2048 characters)."""
    long_urls = ["dingtalk://" + "a" * 100_000, "slack://" + "/".join(["T1JJ3T3L2"] * 5000)]
    for url in long_urls:
        assert check_chat_url(url) is not None
        assert check_chat_url(url, admin=True) is not None
        token = csrf_token(client, "/subscribe")
        answer = client.post("/subscribe", data={
            "csrf_token": token, "channel": "chat", "chat_url": url, "rules": ["zhuanyezhen"],
            "frequency": "instant"})
        assert answer.status_code == 400
    db = connect(Path(client.application.config["INSTANCE_PATH"]) / "tracker.db")
    assert list_subscriptions(db) == []
    assert check_chat_url("dingtalk://abcdef0123456789abcdef") is None  # a real one still is


# ---- 5. own keywords: matched for their subscriber alone, once confirmed ------------------------

def test_own_keywords_are_matched_for_their_subscriber_only_once_confirmed(tmp_path, smtp):
    from tracker.web import create_app

    drop = tmp_path / "drop"
    drop.mkdir()
    mail = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp.port, "SMTP_SECURITY": "none",
            "SMTP_TIMEOUT": 5}
    config = worker_config(tmp_path, f"sources:\n  - id: drop\n    name: 演示日报\n    path: {drop}\n",
                           **mail)
    app = create_app({"TESTING": True, "INSTANCE_PATH": config["INSTANCE_PATH"],
                      "RULES": str(REPO / "rules"), "BASE_URL": "https://tracker.example.org",
                      "SUBSCRIBE_LIMIT": "1000 per hour", **mail})
    client = app.test_client()
    for address, keywords in (("own@example.com", "杏林镇 法兰车间"), ("other@example.com", "")):
        client.post("/subscribe", data={"csrf_token": csrf_token(client, "/subscribe"),
                                        "channel": "email", "email": address, "rules": "lvdian",
                                        "frequency": "instant", "keywords": keywords})
    own = find_subscription(db_of(config), "email", "own@example.com")
    other = find_subscription(db_of(config), "email", "other@example.com")

    (drop / "2025-04-09_first.txt").write_bytes(PAGE.read_bytes())  # holds 杏林镇, 法兰车间
    Worker(config).once()
    db = db_of(config)
    assert db.execute("SELECT count(*) FROM personal_hits").fetchone() == (0,)  # not confirmed
    assert db.execute("SELECT count(*) FROM outbox").fetchone() == (0,)

    deadline = time.monotonic() + 30  # confirmation mails are queued and sent apart from the request
    while time.monotonic() < deadline and not all(
            any("/confirm/" in m and _to(m, sub.address) for m in mails(smtp)) for sub in (own, other)):
        time.sleep(0.05)
    for sub in (own, other):  # both confirm, from their mail
        [link] = [re.search(r"https://tracker\.example\.org(/confirm/\S+)", m).group(1)
                  for m in mails(smtp) if m.count("/confirm/") and _to(m, sub.address)]
        client.post(link, data={"csrf_token": csrf_token(client, link)})
    before = len(smtp.recorder.messages)
    (drop / "2025-04-10_second.txt").write_text(
        "测试日报    2025年4月10日    第2版 经济\n\n杏林镇法兰车间扩建\n\n本报讯 杏林镇的法兰车间"
        "今年扩建，新增两条生产线。（测试稿件，内容虚构）\n", encoding="utf-8")
    Worker(config).once()

    db = db_of(config)
    rows = db.execute("SELECT subscription_id, rule_id FROM outbox").fetchall()
    assert rows and {s for s, _ in rows} == {own.id}  # the other subscriber gets nothing
    assert db.execute("SELECT count(*) FROM hits WHERE rule_id LIKE 'personal%'").fetchone() == (0,)
    sent = mails(smtp)[before:]
    assert [m for m in sent if _to(m, "own@example.com") and "自定义关键词" in m]
    assert not [m for m in sent if _to(m, "other@example.com")]
    for page in ("/articles", "/trends"):
        shown = client.get(page).get_data(as_text=True)
        assert "自定义" not in shown and "personal" not in shown


def mails(smtp) -> list[str]:
    out = []
    for m in smtp.recorder.messages:
        msg = email.message_from_bytes(m.data, policy=policy.default)
        body = msg.get_body(("plain",))
        out.append(f"To: {msg['To']}\n{msg['Subject']}\n{body.get_content() if body else ''}")
    return out


def _to(text: str, address: str) -> bool:
    return text.startswith(f"To: {address}")


# ---- own keywords left by earlier versions, before the worker has moved them --------------------

def test_own_keyword_files_and_hits_of_earlier_versions_never_show_in_the_archive(app, tmp_path):
    """An upgrade leaves `personal-<id>.yaml` in the rules folder and its hits in the archive
    until the worker's next cycle moves them (or for good, if the file was removed by hand):
    the web app, a process of its own, must not list them meanwhile."""
    import json
    import shutil
    from datetime import datetime, timezone

    rules = tmp_path / "rules"
    shutil.copytree(REPO / "rules", rules)
    (rules / "personal-7.yaml").write_text(
        "id: personal-7\nname: 自定义：私人词条乙\nkeywords: [买药加微信]\n", encoding="utf-8")
    app.config["RULES"] = str(rules)
    client = app.test_client()
    assert client.get("/healthz").status_code == 200  # the database is made
    db = connect(Path(app.config["INSTANCE_PATH"]) / app.config["DATABASE"])
    stamp = datetime.now(timezone.utc).isoformat()
    day = stamp[:10]
    with transaction(db):
        article = db["articles"].insert({
            "title": "某地专业镇买药加微信调查", "text": "专业镇发展。买药加微信的广告。",
            "content_hash": "h1", "first_seen": stamp, "issue_date": day}).last_pk
        for rule_id, name in (("personal-7", "自定义：私人词条乙"), ("zhuanyezhen", "专业镇")):
            db["hits"].insert({"article_id": article, "rule_id": rule_id, "rule_name": name,
                               "count": 1, "matched_at": stamp, "snippets": json.dumps(
                                   [{"keyword": "买药加微信", "field": "text", "offset": 0,
                                     "snippet": "【买药加微信】"}], ensure_ascii=False)})
    for url in ("/trends", "/articles", "/articles?q=专业镇", "/articles?rule=personal-7",
                f"/articles/{article}", "/subscribe"):
        page = client.get(url).get_data(as_text=True)
        assert "私人词条乙" not in page and "personal-7" not in page, url


# ---- 7. YAML anchors and aliases ----------------------------------------------------------------

def alias_bomb(levels: int = 6) -> str:
    lines = ['a0: &a0 ["光伏", "光伏", "光伏", "光伏", "光伏", "光伏", "光伏", "光伏", "光伏"]']
    for n in range(1, levels):
        lines.append(f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]")
    return "\n".join(lines) + f"\nid: bomb\nname: 炸弹\nkeywords: *a{levels - 1}\n"


def test_rule_files_with_aliases_are_refused_with_file_and_line(tmp_path):
    from tracker.rules import RulesError, load_rules

    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "bomb.yaml").write_text(alias_bomb(), encoding="utf-8")
    with pytest.raises(RulesError) as caught:
        load_rules(folder)
    problems = [str(p) for p in caught.value.problems]
    assert problems[0].startswith(f"{folder / 'bomb.yaml'}:1: anchor &a0")
    assert len(problems) <= 7  # a few named, the rest counted: not 531,441 keywords


def test_the_admin_editor_refuses_an_alias_bomb(tmp_path):
    import shutil

    from conftest import REPO_RULES
    from tracker.web import create_app

    rules = tmp_path / "rules"
    shutil.copytree(REPO_RULES, rules)
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"),
                      "RULES": str(rules), "ADMIN_PASSWORD": "pw"})
    client = app.test_client()
    client.post("/admin/login", data={"csrf_token": csrf_token(client, "/admin/login"),
                                      "password": "pw"})
    answer = client.post("/admin/rules/new", data={
        "csrf_token": csrf_token(client, "/admin/rules/new"), "action": "save",
        "yaml": alias_bomb()})
    assert answer.status_code == 422 and "anchor" in answer.get_data(as_text=True)
    assert not (rules / "bomb.yaml").exists()


def test_a_sources_file_with_aliases_is_refused(tmp_path):
    from tracker.sources.catalog import SourcesError, load_sources

    path = tmp_path / "sources.yaml"
    path.write_text("common: &c {name: 报, url: 'https://example.cn/rss.xml'}\n"
                    "sources:\n  - <<: *c\n    id: one\n", encoding="utf-8")
    with pytest.raises(SourcesError) as caught:
        load_sources(path)
    assert str(caught.value).startswith(f"{path}:1: anchor &c")


def test_ampersands_and_stars_in_values_still_load(tmp_path):
    """A file without anchors is unaffected, even with & and * in its text."""
    from tracker.rules import load_rules

    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "ok.yaml").write_text("id: ok\nname: 'R&D * 研发'\nkeywords: ['研发&创新']\n",
                                    encoding="utf-8")
    assert [r.id for r in load_rules(folder)] == ["ok"]
