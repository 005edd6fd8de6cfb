"""A second round of attacks: variants of those the first round found, tried against the fixed
service (the real app, the real worker, servers on loopback that record every connection they
get). Each test here got through before its fix."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from conftest import csrf_token
from loopback import record_connections, respond, serve
from tracker.alerts.chat.send import check_chat_url
from tracker.config import load_config
from tracker.store import connect, transaction
from tracker.store.subscriptions import add_subscription, list_subscriptions
from tracker.worker.service import Worker

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "tracker/demo/pages/2025-04-09_demo-daily_p1.txt"  # ours: 专业镇 and 标准地


@pytest.fixture
def inside():
    """The host's own network: a server that records every request it gets."""
    with serve() as state:
        record_connections(state, ("/", "/secret", "/push"), respond(b"{}", "application/json"))
        yield state


def worker_config(tmp_path: Path, **extra) -> dict:
    instance = tmp_path / "instance"
    drop = tmp_path / "drop"
    drop.mkdir(parents=True)
    instance.mkdir(parents=True)
    (instance / "sources.yaml").write_text(
        f"sources:\n  - id: drop\n    name: 演示日报\n    path: {drop}\n", encoding="utf-8")
    return load_config({"INSTANCE_PATH": str(instance), "RULES": str(REPO / "rules"),
                        "FOLDER_SETTLE_SECONDS": 0, "RETRY_DELAYS": "0,0,0,0",
                        "BASE_URL": "https://tracker.example.org", "WEBHOOK_TIMEOUT": 2,
                        "HTTP_READ_TIMEOUT": 2, "HTTP_TOTAL_TIMEOUT": 5, **extra}, environ={})


def run_with_chat(tmp_path: Path, url: str, **extra) -> dict:
    """A worker cycle with one chat subscription to `url` (stored unchecked, as an older version
    or an admin's typo would have) and a page that matches it."""
    config = worker_config(tmp_path, **extra)
    db = connect(Path(config["INSTANCE_PATH"]) / "tracker.db")
    with transaction(db):
        add_subscription(db, "chat", url, ["zhuanyezhen"], "instant", active=True)
    (tmp_path / "drop" / PAGE.name).write_bytes(PAGE.read_bytes())
    Worker(config).once()
    return config


# ---- chat robots: several URLs in one --------------------------------------------------------

def several(inside) -> list[str]:
    inner = inside.base.replace("http://", "json://") + "/secret"
    return [f"dingtalk://abcdef0123456789abcdef, {inner}",
            f"dingtalk://abcdef0123456789abcdef {inner}",
            f"wecombot://abcdef0123456789;{inner}"]


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


# ---- a dropped file: a link out of the folder --------------------------------------------------

def test_a_symlink_in_a_drop_folder_does_not_read_files_outside_it(tmp_path):
    """Whoever may drop files (an upload share) may drop a symbolic link: `leak.txt` pointing at
    a file of the host's is not read, and nothing of it reaches the archive."""
    config = worker_config(tmp_path)
    outside = tmp_path / "host-secret.txt"
    outside.write_text("内部机密：" + PAGE.read_text(encoding="utf-8"), encoding="utf-8")
    drop = tmp_path / "drop"
    (drop / "leak.txt").symlink_to(outside)
    (drop / "sub").mkdir()
    (drop / "sub" / "inner.txt").symlink_to(outside)
    Worker(config).once()
    db = connect(Path(config["INSTANCE_PATH"]) / "tracker.db")
    texts = [t or "" for (t,) in db.execute("SELECT text FROM articles")]
    assert not any("内部机密" in t for t in texts)
    errors = " ".join(e or "" for (e,) in db.execute("SELECT error FROM runs"))
    assert "leak.txt: a link to a file outside the folder" in errors  # the admin is told


def test_a_symlink_inside_the_drop_folder_is_still_read(tmp_path):
    config = worker_config(tmp_path)
    drop = tmp_path / "drop"
    (drop / "real").mkdir()
    (drop / "real" / PAGE.name).write_bytes(PAGE.read_bytes())
    (drop / "alias.txt").symlink_to(drop / "real" / PAGE.name)
    Worker(config).once()
    db = connect(Path(config["INSTANCE_PATH"]) / "tracker.db")
    assert db.execute("SELECT count(*) FROM articles").fetchone()[0] >= 1


# ---- the per-address limit counts the address, not its spelling -------------------------------

def test_the_per_address_limit_holds_for_every_spelling_of_an_address(app):
    """Each submission of a known address mails its owner: spelling the domain in full-width
    letters (the same address once normalised) must not open a fresh counter each time."""
    app.config["SUBSCRIBE_LIMIT"] = "2 per hour"
    spellings = ["target@example.com", "target@ｅｘａｍｐｌｅ.com", "Target@ＥＸＡＭＰＬＥ.ｃｏｍ"]
    statuses = []
    for n, address in enumerate(spellings):
        other = app.test_client()
        other.environ_base["REMOTE_ADDR"] = f"198.51.100.{n + 1}"
        token = csrf_token(other, "/subscribe")
        statuses.append(other.post("/subscribe", data={
            "csrf_token": token, "channel": "email", "email": address,
            "rules": ["zhuanyezhen"], "frequency": "daily"}).status_code)
    assert statuses == [200, 200, 429]


# ---- a hostile source's title and link in a chat message --------------------------------------

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


# ---- request size: a chunked body through `tracker serve` --------------------------------------

def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _chunked_upload(port: int, total: int) -> tuple[int, bytes]:
    """POST a chunked body of up to `total` bytes to /subscribe; (bytes the server took before
    it answered or hung up, the answer's first bytes)."""
    import select
    import socket

    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(b"POST /subscribe HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
                 b"Content-Type: application/x-www-form-urlencoded\r\n\r\n")
    chunk = b"a" * 65536
    frame = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
    sent = 0
    try:
        while sent < total:
            if select.select([sock], [], [], 0)[0]:  # the server has answered: stop
                break
            sock.sendall(frame)
            sent += len(chunk)
        else:
            sock.sendall(b"0\r\n\r\n")
    except OSError:  # the server closed the connection on us
        pass
    answer = b""
    try:
        answer = sock.recv(200)
    except OSError:
        pass
    sock.close()
    return sent, answer


def test_tracker_serve_stops_reading_a_huge_chunked_body(tmp_path):
    """Without Content-Length the app cannot refuse a body before waitress has read all of it
    (up to 1 GB by default, into a temporary file): the server stops near the app's limit."""
    import os
    import subprocess
    import sys
    import time
    import urllib.request

    port, limit = _free_port(), 64 * 1024
    env = {**os.environ, "TRACKER_INSTANCE": str(tmp_path / "instance"),
           "TRACKER_RULES": str(REPO / "rules"), "TRACKER_MAX_CONTENT_LENGTH": str(limit)}
    server = subprocess.Popen([sys.executable, "-m", "tracker", "serve", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "serve did not start"
                time.sleep(0.1)
        sent, answer = _chunked_upload(port, 64 * 1024 * 1024)
        assert sent < 32 * 1024 * 1024, f"the server read {sent:,} bytes"  # socket buffers: MBs
        assert answer.startswith(b"HTTP/1.1 413"), answer
    finally:
        server.terminate()
        server.wait(timeout=30)


# ---- behind the proxy: forwarded headers the proxy does not set ---------------------------------

def proxied(tmp_path, **config):
    from tracker.web import create_app

    return create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "proxied"),
                       "RULES": str(REPO / "rules"), "BASE_URL": "https://tracker.example.org",
                       "ADMIN_PASSWORD": "pw", "SUBSCRIBE_LIMIT": "100 per hour",
                       "TRUSTED_PROXIES": 1, **config})


def test_a_forwarded_prefix_from_a_visitor_cannot_send_anyone_elsewhere(tmp_path):
    """Proxies set X-Forwarded-For, rarely X-Forwarded-Prefix, and pass a visitor's own on: the
    app must not build its redirects and links on it (`//evil.example/…` leaves the site)."""
    import re

    client = proxied(tmp_path).test_client()
    headers = {"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Prefix": "//evil.example"}
    for path in ("/", "/admin", "/admin/rules"):
        location = client.get(path, headers=headers).headers.get("Location", "")
        assert location.startswith("/") and not location.startswith("//"), location
    page = client.get("/subscribe", headers=headers).get_data(as_text=True)
    assert "evil.example" not in page
    assert all(not u.startswith("//") for u in re.findall(r'(?:href|action)="([^"]*)"', page))


def test_the_forms_work_over_https_behind_the_proxy(tmp_path):
    """Over https (X-Forwarded-Proto from the TLS proxy) Flask-WTF wants a same-site Referer on
    every POST; a browser sends one only if the Referrer-Policy lets it. `no-referrer` made every
    form fail with 表单已失效 in production."""
    import re

    client = proxied(tmp_path).test_client()
    headers = {"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https",
               "X-Forwarded-Host": "tracker.example.org"}
    page = client.get("/subscribe", headers=headers, base_url="https://tracker.example.org")
    policy = page.headers["Referrer-Policy"]
    assert policy in ("same-origin", "strict-origin", "strict-origin-when-cross-origin", "origin")
    # what a browser sends back under that policy, from the page to the same site
    referer = ("https://tracker.example.org/subscribe" if policy == "same-origin"
               else "https://tracker.example.org/")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True))[1]
    answer = client.post("/subscribe", headers={**headers, "Referer": referer},
                         base_url="https://tracker.example.org",
                         data={"csrf_token": token, "channel": "email", "email": "a@example.com",
                               "rules": "zhuanyezhen", "frequency": "daily"})
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    # and a page elsewhere still learns nothing of our paths (they carry tokens)
    assert policy != "unsafe-url" and policy != "no-referrer-when-downgrade"


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


# ---- DNS rebinding against what only this machine may see --------------------------------------

def test_pages_for_this_machine_refuse_a_foreign_host_name(app, client):
    """A page on evil.example can rebind its name to 127.0.0.1: the browser of someone running
    the demo then sends `Host: evil.example` from loopback, and may read the answer. The
    mailbox (confirmation and manage links) and the metrics are not given to it."""
    app.config["DEMO"] = True
    app.config["SMTP_HOST"] = ""
    for url in ("/mailbox/", "/metrics"):
        assert client.get(url).status_code == 200, url  # Host: localhost
        assert client.get(url, headers={"Host": "127.0.0.1:5000"}).status_code == 200, url
        for host in ("evil.example", "evil.example:5000", "127.0.0.1.evil.example"):
            assert client.get(url, headers={"Host": host}).status_code == 403, (url, host)


# ---- rate limits: one IPv6 visitor holds a whole /64 --------------------------------------------

def test_an_ipv6_visitor_cannot_dodge_the_limit_by_changing_address_in_their_network(app):
    """An IPv6 customer is given a /64 (2^64 addresses): the per-client limit counts the
    network, not each address, or every submission could come from a fresh one."""
    app.config["SUBSCRIBE_LIMIT"] = "2 per hour"
    statuses = []
    for n in range(3):
        other = app.test_client()
        other.environ_base["REMOTE_ADDR"] = f"2001:db8:1:2::{n + 1:x}"
        token = csrf_token(other, "/subscribe")
        statuses.append(other.post("/subscribe", data={
            "csrf_token": token, "channel": "email", "email": f"v{n}@example.com",
            "rules": ["zhuanyezhen"], "frequency": "daily"}).status_code)
    assert statuses == [200, 200, 429]
    neighbour = app.test_client()
    neighbour.environ_base["REMOTE_ADDR"] = "2001:db8:1:3::1"  # another customer's /64
    token = csrf_token(neighbour, "/subscribe")
    assert neighbour.post("/subscribe", data={
        "csrf_token": token, "channel": "email", "email": "w@example.com",
        "rules": ["zhuanyezhen"], "frequency": "daily"}).status_code == 200


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
