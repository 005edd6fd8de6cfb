"""Attacks on the web app: what an attacker tried against the running service, each as a
test through the real app (Flask's test client, or waitress on loopback) on a real SQLite file.

HEAD never changes anything; a stranger cannot reset a subscription; own keywords are private;
requests have a size limit; behind a proxy each visitor has their own rate limit; /mailbox and
/metrics stay closed; addresses have one spelling; admin sessions end; CSRF tokens expire."""

from __future__ import annotations

import email
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
from tracker.alerts.links import CONFIRM, MANAGE, UNSUBSCRIBE, make_token
from tracker.store import connect, transaction
from tracker.store.subscriptions import (add_subscription, find_subscription, get_subscription,
                                         list_subscriptions, set_state)

PASSWORD = "correct horse"
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
    if state in ("disabled", "unsubscribed"):  # left: asked to confirm coming back (issue 22)
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


# ---- 8. behind a reverse proxy ------------------------------------------------------------------

def proxied_app(tmp_path, **config):
    from tracker.web import create_app

    return create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "proxied"),
                       "RULES": str(REPO_RULES), "BASE_URL": "https://tracker.example.org",
                       "SUBSCRIBE_LIMIT": "2 per hour", **config})


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


# ---- 9. addresses, sessions, CSRF ---------------------------------------------------------------

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
