"""Attacks through chat robots (Apprise URLs) a subscriber names: the real worker and the public
form, against servers on loopback that record every connection they get (`inside`, from
tests/test_security_fetch.py, stands for this host's own network and must never be reached).

What must hold: a chat URL reaches no host inside, whatever its spelling (`localhost`,
`0x7f000001`), not through a second URL hidden in it (commas, spaces, semicolons), not through
a redirect from its server, even with `?redirect=yes`; TLS to a host of the subscriber's choice
is not offered publicly, and a name that moves inside is refused at the next send; a megabyte
of chat URL is refused, not stored; a source's title and link cannot forge a link, nor carry
a script link, in the Markdown a chat window shows."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

import test_security_fetch
from conftest import csrf_token
from loopback import serve
from test_security_fetch import PAGE, db_of, worker_config
from tracker.alerts.chat.send import check_chat_url
from tracker.sources.ssrf import UnsafeURL
from tracker.store import connect, transaction
from tracker.store.subscriptions import add_subscription, list_subscriptions
from tracker.worker.service import Worker

inside = test_security_fetch.inside  # the host's own network: a server that must get no connection


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
