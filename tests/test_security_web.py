"""Attacks on the web app: what an attacker tried against the running service, each as a
test through the real app (Flask's test client, or waitress on loopback) on a real SQLite file.

HEAD never changes anything; a stranger cannot reset a subscription; own keywords are private;
requests have a size limit, and `tracker serve` stops reading a chunked body near it; behind a
proxy each visitor has their own rate limit, a visitor's X-Forwarded-Prefix sends nobody elsewhere
and the forms work over https; an IPv6 visitor's /64 counts as one client; /mailbox and /metrics
stay closed, and refuse a foreign Host name; addresses have one spelling; admin sessions end;
failed logins from all addresses together slow every login down; CSRF tokens expire; an id past
SQLite's integers is no such page, not an error."""

from __future__ import annotations

import email
import logging
import time
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from email import policy
from pathlib import Path

import pytest

from conftest import REPO_RULES, csrf_token
import public_app
from public_app import db_of, keywords_of
from test_demo import free_port as _free_port
from test_security_flood import production_app as app_as_served
from tracker.alerts.links import CONFIRM, MANAGE, UNSUBSCRIBE, make_token
from tracker.store import connect, transaction
from tracker.store.subscriptions import (add_subscription, find_subscription, get_subscription,
                                         list_subscriptions, set_state)

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse"
HUGE = "99999999999999999999"
app, mail_app = public_app.app, public_app.mail_app  # the shared fixtures, by name


def made(app, channel="email", address="owner@example.com", state="active", rules=("lvdian",)):
    db = db_of(app)
    with transaction(db):
        sub, _ = add_subscription(db, channel, address, list(rules), "daily",
                                  active=state != "pending", secret="whsec_b3duZXI=")
        if state not in ("active", "pending"):
            set_state(db, sub.id, state)
    return get_subscription(db, sub.id)


def post_subscribe(client, **fields):
    data = {"csrf_token": csrf_token(client, "/subscribe"), "channel": "email",
            "email": "reader@example.com", "rules": ["zhuanyezhen"], "frequency": "daily"}
    data.update(fields)
    return client.post("/subscribe", data=data)


def text(response) -> str:
    return response.get_data(as_text=True)


def received(smtp, count: int = 0) -> list[email.message.EmailMessage]:
    """The mail the server got, once at least `count` arrived (mail to subscribers is queued
    and sent apart from the request): a bounded wait."""
    deadline = time.monotonic() + 30
    while len(smtp.recorder.messages) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return [email.message_from_bytes(m.data, policy=policy.default) for m in smtp.recorder.messages]


# ---- 1. GET and HEAD never change anything ------------------------------------------------------

def test_head_on_a_one_click_unsubscribe_link_changes_nothing(app, client):
    sub = made(app)
    path = f"/unsubscribe/{make_token(app.config, UNSUBSCRIBE, sub.id)}"
    for method in ("HEAD", "GET"):  # what mail scanners and link previewers send
        answer = client.open(path, method=method, data={"List-Unsubscribe": "One-Click"})
        assert answer.status_code == 200
        assert get_subscription(db_of(app), sub.id).state == "active", method
    assert client.head(path).get_data() == b""  # HEAD: headers only, as ever

    # a POST without the RFC 8058 body needs the page's CSRF token
    assert client.post(path, data={}).status_code == 400
    assert get_subscription(db_of(app), sub.id).state == "active"
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert get_subscription(db_of(app), sub.id).state == "unsubscribed"


def test_head_changes_nothing_anywhere(app, client):
    """Every route that takes a POST, sent a HEAD with a form that would change things."""
    pending = made(app, address="pending@example.com", state="pending")
    active = made(app, address="active@example.com")
    login(client)
    rules = Path(app.config["RULES"])
    before = sorted(p.name for p in rules.iterdir())
    bodies = {
        f"/confirm/{make_token(app.config, CONFIRM, pending.id)}": {},
        f"/manage/{make_token(app.config, MANAGE, active.id)}": {"action": "unsubscribe"},
        f"/unsubscribe/{make_token(app.config, UNSUBSCRIBE, active.id)}":
            {"List-Unsubscribe": "One-Click"},
        "/subscribe": {"channel": "email", "email": "head@example.com", "rules": "lvdian",
                       "frequency": "daily"},
        "/admin/rules/new": {"action": "save", "yaml": "id: headrule\nname: 头\nkeywords: [头条]\n"},
        "/admin/logout": {},
    }
    posting = {rule.rule for rule in app.url_map.iter_rules() if "POST" in rule.methods}
    assert {"/subscribe", "/admin/rules/new", "/admin/logout"} <= posting
    for path, body in bodies.items():
        client.open(path, method="HEAD", data=body)
    assert get_subscription(db_of(app), pending.id).state == "pending"
    assert get_subscription(db_of(app), active.id).state == "active"
    assert find_subscription(db_of(app), "email", "head@example.com") is None
    assert sorted(p.name for p in rules.iterdir()) == before
    assert client.get("/admin").status_code == 200  # still logged in: HEAD logged nobody out


# ---- 4. a stranger cannot reset a subscription --------------------------------------------------

@pytest.mark.parametrize("state", ["paused", "disabled", "unsubscribed", "active"])
def test_resubmitting_an_address_resets_nothing_and_tells_only_its_owner(mail_app, client, smtp,
                                                                         state):
    app = mail_app
    sub = made(app, address="owner@example.com", state=state, rules=("lvdian",))
    fresh = post_subscribe(client, email="newcomer@example.com")
    assert len(received(smtp, 1)) == 1  # the newcomer's confirmation request (sent apart)

    answer = post_subscribe(client, email="Owner@Example.com", rules=["zhuanyezhen"],
                            frequency="instant", keywords="买药加微信")
    # the same page as for a new address (no enumeration), the address aside
    assert answer.status_code == fresh.status_code == 200
    assert text(answer).replace("owner@", "X@") == text(fresh).replace("newcomer@", "X@")
    assert get_subscription(db_of(app), sub.id) == sub  # state, rules, frequency: untouched
    assert keywords_of(db_of(app), sub.id) == []
    assert len(list_subscriptions(db_of(app))) == 2

    mail = received(smtp, 2)[-1]
    assert smtp.recorder.messages[-1].rcpt_tos == ["owner@example.com"]
    if state in ("disabled", "unsubscribed"):  # left: asked to confirm coming back
        assert "/confirm/" in mail.get_content() and "/manage/" not in mail.get_content()
        return
    assert f"/manage/{make_token(app.config, MANAGE, sub.id)}" in mail.get_content()
    assert "/confirm/" not in mail.get_content()


def test_resubmitting_a_paused_webhook_keeps_its_secret_and_shows_none(app, client):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    url = "http://127.0.0.1:9/hook"
    sub = made(app, channel="webhook", address=url, state="paused")
    answer = post_subscribe(client, channel="webhook", webhook_url=url)
    assert answer.status_code == 200 and "whsec_" not in text(answer)
    assert get_subscription(db_of(app), sub.id) == sub


# ---- 5. own keywords: private, confirmed, capped, gone on leaving -------------------------------

def test_own_keywords_of_an_unconfirmed_visitor_are_nowhere_public(app, client):
    rules = Path(app.config["RULES"])
    before = sorted(p.name for p in rules.iterdir())
    assert post_subscribe(client, email="spam@example.com", keywords="买药加微信").status_code == 200
    assert sorted(p.name for p in rules.iterdir()) == before  # nothing in the shared folder
    for page in ("/subscribe", "/articles", "/trends", "/api/rules"):
        assert "买药加微信" not in text(client.get(page, headers={"Authorization": "Bearer t0ken"}))
    sub = find_subscription(db_of(app), "email", "spam@example.com")
    assert sub.rules == ("zhuanyezhen",) and keywords_of(db_of(app), sub.id) == ["买药加微信"]


def test_own_keywords_go_away_on_unsubscribe(app, client):
    post_subscribe(client, email="leaving@example.com", keywords="光伏 储能")
    sub = find_subscription(db_of(app), "email", "leaving@example.com")
    assert keywords_of(db_of(app), sub.id) == ["光伏", "储能"]
    client.post(f"/unsubscribe/{make_token(app.config, UNSUBSCRIBE, sub.id)}",
                data={"List-Unsubscribe": "One-Click"})
    assert keywords_of(db_of(app), sub.id) == []


def test_own_keywords_are_capped_on_the_manage_page_too(app, client):
    sub = made(app)
    path = f"/manage/{make_token(app.config, MANAGE, sub.id)}"
    answer = client.post(path, data={"csrf_token": csrf_token(client, path), "action": "save",
                                     "rules": ["lvdian"], "frequency": "daily",
                                     "keywords": " ".join(f"词语{i}" for i in range(11))})
    assert answer.status_code == 400 and "最多 10 个关键词" in text(answer)
    assert keywords_of(db_of(app), sub.id) == []


# ---- 6. request size --------------------------------------------------------------------------

def test_a_huge_post_is_refused_with_the_sites_own_page(app, client):
    token = csrf_token(client, "/subscribe")
    answer = client.post("/subscribe", data={"csrf_token": token, "channel": "email",
                                             "email": "a@example.com", "rules": "lvdian",
                                             "keywords": "光" * (5 * 1024 * 1024)})
    assert answer.status_code == 413
    page = text(answer)
    assert "提交的内容太大" in page and 'href="/articles"' in page  # the site's layout, in Chinese
    assert "光光光" not in page and list_subscriptions(db_of(app)) == []


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


# ---- 8. behind a reverse proxy ------------------------------------------------------------------

def proxied_app(tmp_path, **config):
    from tracker.web import create_app

    return create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "proxied"),
                       "RULES": str(REPO_RULES), "BASE_URL": "https://tracker.example.org",
                       "SUBSCRIBE_LIMIT": "2 per hour", **config})


def proxied(tmp_path, **config):
    """proxied_app with an admin password, one proxy trusted and a limit no test here reaches."""
    return proxied_app(tmp_path, **{"ADMIN_PASSWORD": "pw", "SUBSCRIBE_LIMIT": "100 per hour",
                                    "TRUSTED_PROXIES": 1, **config})


def test_behind_a_proxy_each_visitor_has_their_own_rate_limit(tmp_path):
    app = proxied_app(tmp_path, TRUSTED_PROXIES=1)
    client = app.test_client()

    def attempt(visitor: str, n: int):
        token = csrf_token(client, "/subscribe")
        return client.post("/subscribe", headers={"X-Forwarded-For": visitor},
                           data={"csrf_token": token, "channel": "email",
                                 "email": f"v{n}@example.com", "rules": "lvdian",
                                 "frequency": "daily"})

    assert [attempt("198.51.100.1", n).status_code for n in range(3)] == [200, 200, 429]
    assert attempt("198.51.100.2", 9).status_code == 200  # another visitor, another bucket
    # only the last hop is believed: a visitor cannot pick a fresh address per request
    spoofed = attempt("203.0.113.7, 198.51.100.1", 10)
    assert spoofed.status_code == 429


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


def test_a_429_says_when_to_come_back(tmp_path):
    app = proxied_app(tmp_path, SUBSCRIBE_LIMIT="1 per hour")
    client = app.test_client()
    for _ in range(2):
        token = csrf_token(client, "/subscribe")
        answer = client.post("/subscribe", data={"csrf_token": token, "channel": "email",
                                                 "email": "x@example.com", "rules": "lvdian",
                                                 "frequency": "daily"})
    assert answer.status_code == 429 and "提交太频繁" in text(answer)
    assert 0 < int(answer.headers["Retry-After"]) <= 3601


def test_mailbox_exists_only_in_demo_mode(tmp_path):
    app = proxied_app(tmp_path)  # no SMTP host: the mail goes to instance/mailbox
    assert app.test_client().get("/mailbox/").status_code == 404
    demo = proxied_app(tmp_path, DEMO=True)
    assert demo.test_client().get("/mailbox/").status_code == 200
    relayed = demo.test_client().get("/mailbox/", headers={"X-Forwarded-For": "203.0.113.9"})
    assert relayed.status_code == 403  # a proxy on this host relayed a stranger


def test_metrics_through_a_proxy_need_the_token(tmp_path):
    client = proxied_app(tmp_path).test_client()
    assert client.get("/metrics").status_code == 200  # this machine, directly
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 403
    with_token = proxied_app(tmp_path, METRICS_TOKEN="m3trics").test_client()
    answer = with_token.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9",
                                                "Authorization": "Bearer m3trics"})
    assert answer.status_code == 200


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


def test_waitress_behind_a_proxy_keys_limits_on_the_forwarded_client(tmp_path):
    """The deployed server (waitress, with `tracker serve`'s options) on loopback, a proxy's
    header in each request."""
    from waitress.server import create_server

    from tracker.web.security import WAITRESS_OPTIONS

    app = proxied_app(tmp_path, TRUSTED_PROXIES=1, SUBSCRIBE_LIMIT="1 per hour",
                      BASE_URL="http://127.0.0.1")  # plain http: the session cookie comes back
    server = create_server(app, host="127.0.0.1", port=0, threads=2, **WAITRESS_OPTIONS)
    stopping = threading.Event()

    def run() -> None:
        try:
            server.run()
        except (OSError, ValueError):  # its socket closed under select() when we stop it
            if not stopping.is_set():
                raise

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.effective_port}"
    try:
        def post(visitor: str) -> int:
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
            page = opener.open(urllib.request.Request(
                base + "/subscribe", headers={"X-Forwarded-For": visitor}), timeout=10).read()
            token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page).group(1).decode()
            body = urllib.parse.urlencode({"csrf_token": token, "channel": "email",
                                           "email": f"{visitor}@example.com".replace(".", "-", 3),
                                           "rules": "lvdian", "frequency": "daily"}).encode()
            try:
                return opener.open(urllib.request.Request(
                    base + "/subscribe", data=body, headers={"X-Forwarded-For": visitor}),
                    timeout=10).status
            except urllib.error.HTTPError as err:
                return err.code
        assert post("198.51.100.1") == 200
        assert post("198.51.100.1") == 429
        assert post("198.51.100.2") == 200
    finally:
        stopping.set()
        server.close()
        server.task_dispatcher.shutdown()
        thread.join(timeout=10)


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


# ---- 9. addresses, sessions, logins, CSRF ---------------------------------------------------------

def test_an_address_has_one_spelling(app, client):
    post_subscribe(client, email="Alice@Example.com")
    post_subscribe(client, email="alice@example.com")
    post_subscribe(client, email="ALICE@EXAMPLE.COM")
    [sub] = list_subscriptions(db_of(app))
    assert sub.address == "alice@example.com"


def test_an_address_that_cannot_be_sent_is_refused_in_the_form(app, client):
    answer = post_subscribe(client, email="张三@example.com")
    assert answer.status_code == 400
    assert "非 ASCII" in text(answer) and "请查收确认邮件" not in text(answer)
    assert list_subscriptions(db_of(app)) == []


def test_the_migration_gives_existing_addresses_one_spelling(tmp_path):
    from sqlite_utils import Database

    from tracker.store.schema import migrations

    path = tmp_path / "old.db"
    db = Database(path)
    for name in ("m001_articles", "m002_alerts", "m003_rule_revisions"):  # as released
        fn = next(m.fn for m in migrations._migrations if m.name == name)
        fn(db)
    db.execute("CREATE TABLE IF NOT EXISTS _sqlite_migrations (migration_set TEXT, name TEXT, "
               "applied_at TEXT, PRIMARY KEY (migration_set, name))")
    for name in ("m001_articles", "m002_alerts", "m003_rule_revisions"):
        db.execute("INSERT INTO _sqlite_migrations VALUES ('tracker', ?, '2025-01-01')", [name])
    for address in ("Bob@Example.org", "Carol@Example.org", "carol@example.org"):
        db["subscriptions"].insert({"channel": "email", "address": address, "rules": "[]",
                                    "frequency": "daily", "state": "active",
                                    "created_at": "2025-01-01"})
    db.conn.commit()
    db.conn.close()
    upgraded = connect(path)
    addresses = sorted(s.address for s in list_subscriptions(upgraded))
    # Bob gets one spelling; Carol's two rows would clash, so the capitalised one stays as it was
    assert addresses == ["Carol@Example.org", "bob@example.org", "carol@example.org"]


def login(client, password: str = PASSWORD):
    return client.post("/admin/login", data={"csrf_token": csrf_token(client, "/admin/login"),
                                             "password": password})


def production_app(tmp_path: Path, **config):
    """The app as `tracker serve` makes it, with an API token and the admin password."""
    return app_as_served(tmp_path, API_TOKEN="t0ken", ADMIN_PASSWORD=PASSWORD, **config)


def test_logout_ends_the_admin_session_even_for_a_copied_cookie(app):
    client = app.test_client()
    assert login(client).status_code == 302
    stolen = client.get_cookie("session").value
    client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin")})
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/admin").status_code == 302  # to the login page


def test_a_new_password_ends_every_admin_session(app):
    client = app.test_client()
    login(client)
    assert client.get("/admin").status_code == 200
    app.config["ADMIN_PASSWORD"] = "battery staple"
    assert client.get("/admin").status_code == 302


def test_csrf_tokens_expire(app, client, monkeypatch):
    import itsdangerous.timed

    sub = made(app, state="pending")
    path = f"/confirm/{make_token(app.config, CONFIRM, sub.id)}"
    token = csrf_token(client, path)
    later = itsdangerous.timed.time.time() + 13 * 3600  # a clock 13 hours on
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: later)
    assert client.post(path, data={"csrf_token": token}).status_code == 400
    assert get_subscription(db_of(app), sub.id).state == "pending"


def test_an_admin_session_ends_after_its_maximum_age(app):
    client = app.test_client()
    login(client)
    assert client.get("/admin").status_code == 200
    app.config["ADMIN_SESSION_MAX_AGE"] = 0.001  # every session started before now is too old
    assert client.get("/admin").status_code == 302


def test_failed_logins_from_many_addresses_slow_every_login_down(tmp_path):
    """30 failures in 10 minutes from all clients together; then even the right password waits
    (a guess that might be right is never tried), with a Chinese 429 saying how long."""
    app = production_app(tmp_path)
    statuses = []
    for n in range(31):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"198.51.100.{n + 1}"
        password = "correct horse" if n == 30 else f"guess {n}"
        statuses.append(client.post("/admin/login", data={
            "csrf_token": csrf_token(client, "/admin/login"), "password": password}))
    assert [r.status_code for r in statuses] == [401] * 30 + [429]
    assert "登录尝试太多" in statuses[-1].get_data(as_text=True)
    assert int(statuses[-1].headers["Retry-After"]) > 0


def test_with_trusted_proxies_a_forged_header_from_outside_opens_nothing(tmp_path):
    """TRACKER_TRUSTED_PROXIES=1, but a stranger connects directly and claims 127.0.0.1."""
    client = proxied_app(tmp_path, TRUSTED_PROXIES=1).test_client()
    forged = {"X-Forwarded-For": "127.0.0.1"}
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", headers=forged, environ_base=outside).status_code == 403
    # the proxy on this machine relaying a request from this machine: allowed
    assert client.get("/metrics", headers=forged).status_code == 200
    # the proxy on this machine relaying a stranger: refused
    relayed = {"X-Forwarded-For": "203.0.113.9"}
    assert client.get("/metrics", headers=relayed).status_code == 403


# ---- 10. ids past SQLite's integers -----------------------------------------------------------

def test_an_id_past_sqlites_integers_is_no_such_page_not_an_error(tmp_path, caplog):
    client = production_app(tmp_path).test_client()
    caplog.set_level(logging.ERROR)
    page = client.get(f"/articles/{HUGE}")
    assert page.status_code == 404 and "找不到" in page.get_data(as_text=True)
    api = client.get(f"/api/articles/{HUGE}", headers={"Authorization": "Bearer t0ken"})
    assert api.status_code == 404 and api.mimetype == "application/problem+json"
    assert client.get("/articles/9223372036854775807").status_code == 404  # the largest: none
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
