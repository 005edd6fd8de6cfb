"""A subscriber who left can come back (issue "What a new user met", item 4). After
unsubscribing, the page's "点错了？随时可以重新订阅" link leads to the form; the same address gets a
Chinese confirmation mail, and confirming it makes the subscription active again with what the
form asked for. Before, the page promised a confirmation and the mail was a manage link with an
English paragraph that changed nothing.

`tracker serve` as a subprocess with the development mailbox; the visitor is a cookie-keeping
HTTP client. Nothing changes before the owner's POST; the answer page is the same as for a new
address (no enumeration); the per-mailbox cap (3 notices a day) still holds."""

from __future__ import annotations

import email
import json
import re
import sqlite3
import urllib.parse
import urllib.request
from email import policy
from pathlib import Path

import pytest

from test_browser_pages import ENGLISH
from test_demo import free_port, get
from test_search_words import env_for
from test_serve_and_worker import browser, csrf
from test_worker import wait_for
from test_worker_deployed import Process
from tracker.alerts.links import UNSUBSCRIBE, make_token

OWNER = "li@example.org"


@pytest.fixture
def web(tmp_path):
    """`tracker serve` on a fresh instance: (base URL, instance folder)."""
    instance = tmp_path / "instance"
    instance.mkdir()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**env_for(instance), "TRACKER_BASE_URL": base}
    server = Process(env, "serve", "--port", str(port))
    try:
        assert wait_for(lambda: get(f"{base}/healthz")[0] == 200, 60), server.lines
        yield base, instance
    finally:
        server.stop()


def mails_to(instance: Path, address: str) -> list[email.message.EmailMessage]:
    found = []
    for path in sorted((instance / "mailbox").glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        if message["To"] == address:
            found.append(message)
    return found


def wait_mails(instance: Path, address: str, n: int) -> list[email.message.EmailMessage]:
    assert wait_for(lambda: len(mails_to(instance, address)) >= n, 30), mails_to(instance, address)
    return mails_to(instance, address)


def submit(visitor, base: str, address: str, **fields: str | list[str]) -> str:
    """The subscribe form, filled as a visitor does; the answer page's text."""
    page = visitor.open(f"{base}/subscribe", timeout=30).read().decode()
    form = {"csrf_token": csrf(page), "channel": "email", "email": address,
            "rules": "zhuanyezhen", "frequency": "instant", **fields}
    data = urllib.parse.urlencode(form, doseq=True).encode()
    with visitor.open(f"{base}/subscribe", data=data, timeout=30) as answer:
        assert answer.status == 200
        return answer.read().decode()


def press(visitor, url: str) -> str:
    """Open a page and press its form's button (a POST with its CSRF token)."""
    page = visitor.open(url, timeout=30).read().decode()
    return post(visitor, url, page)


def post(visitor, url: str, page: str) -> str:
    """POST to `url` with the CSRF token of `page` (a page with a form, of this visitor)."""
    data = urllib.parse.urlencode({"csrf_token": csrf(page)}).encode()
    with visitor.open(url, data=data, timeout=30) as answer:
        return answer.read().decode()


def link_in(message, kind: str) -> str:
    return re.search(rf"http://\S+/{kind}/\S+", message.get_body(("plain",)).get_content())[0]


def row(instance: Path) -> tuple:
    with sqlite3.connect(instance / "tracker.db") as db:
        return db.execute("SELECT state, rules, frequency, personal_keywords FROM subscriptions "
                          "WHERE address = ?", [OWNER]).fetchone()


def visible(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.split("<main", 1)[-1]))


def test_a_subscriber_who_left_comes_back_by_confirming_a_chinese_mail(web):
    base, instance = web
    visitor = browser()
    submit(visitor, base, OWNER)
    assert "订阅已确认" in press(visitor, link_in(wait_mails(instance, OWNER, 1)[0], "confirm"))
    assert row(instance)[0] == "active"

    # Leaves by the unsubscribe link every alert carries, then clicks "重新订阅" on that page.
    sub_id = sqlite3.connect(instance / "tracker.db").execute(
        "SELECT id FROM subscriptions WHERE address = ?", [OWNER]).fetchone()[0]
    left = press(visitor, f"{base}/unsubscribe/"
                          f"{make_token({'INSTANCE_PATH': str(instance)}, UNSUBSCRIBE, sub_id)}")
    assert "已退订" in left and row(instance)[0] == "unsubscribed"
    again = re.search(r'<a href="([^"]+)">重新订阅</a>', left)[1]
    assert again == "/subscribe"

    answer = submit(visitor, base, OWNER, rules=["lvdian", "biaozhundi"], frequency="daily",
                    keywords="光伏 储能")
    newcomer = submit(browser(), base, "new@example.org")
    assert visible(answer).replace(OWNER, "X") == visible(newcomer).replace("new@example.org", "X")
    assert row(instance)[0] == "unsubscribed"  # nothing changes before the owner confirms

    mail = wait_mails(instance, OWNER, 2)[-1]
    body = mail.get_body(("plain",)).get_content()
    assert mail["Subject"] == "【政策追踪】请确认重新订阅"
    assert not ENGLISH.search(re.sub(r"http://\S+", "", body)), body
    assert "/confirm/" in body and "已退订" in body

    confirm = link_in(mail, "confirm")
    shown = visitor.open(confirm, timeout=30).read().decode()  # a GET changes nothing
    assert "确认重新订阅" in shown and "绿电" in shown and "每日汇总" in shown and "光伏" in shown
    assert row(instance)[0] == "unsubscribed"
    done = press(visitor, confirm)
    assert "订阅已恢复" in done
    state, rules, frequency, keywords = row(instance)
    assert (state, sorted(json.loads(rules)), frequency) == ("active", ["biaozhundi", "lvdian"], "daily")
    assert keywords and "光伏" in keywords and "储能" in keywords
    # The same link again (the page, or a POST from a second tab) changes nothing more.
    assert "订阅已确认" in visitor.open(confirm, timeout=30).read().decode()
    assert "订阅已确认" in post(visitor, confirm, shown)
    assert row(instance) == (state, rules, frequency, keywords)


def test_coming_back_keeps_the_daily_cap_and_an_old_link_changes_nothing(web):
    base, instance = web
    visitor = browser()
    submit(visitor, base, OWNER)
    press(visitor, link_in(wait_mails(instance, OWNER, 1)[0], "confirm"))
    sub_id = sqlite3.connect(instance / "tracker.db").execute(
        "SELECT id FROM subscriptions WHERE address = ?", [OWNER]).fetchone()[0]
    unsubscribe = f"{base}/unsubscribe/" \
                  f"{make_token({'INSTANCE_PATH': str(instance)}, UNSUBSCRIBE, sub_id)}"
    press(visitor, unsubscribe)

    pages = [submit(visitor, base, OWNER, rules=rules) for rules in ("lvdian", "xinnengyuan",
                                                                     "biaozhundi")]
    assert pages[0] == pages[1] == pages[2]
    mails = wait_mails(instance, OWNER, 3)
    assert len(mails_to(instance, OWNER)) == 3  # the first confirmation and two: 3 a day
    first, second = link_in(mails[1], "confirm"), link_in(mails[2], "confirm")
    assert "订阅已恢复" in press(visitor, second)
    assert row(instance)[:2] == ("active", '["xinnengyuan"]')
    # the other request of the same absence: back already, nothing applied
    assert "订阅已确认" in post(visitor, first, visitor.open(f"{base}/subscribe").read().decode())
    assert row(instance)[:2] == ("active", '["xinnengyuan"]')

    press(visitor, unsubscribe)  # left again: the links of the earlier absence are spent
    for link in (first, second):
        status_page = urllib.request.Request(link)
        try:
            visitor.open(status_page, timeout=30)
            raise AssertionError("an old link still opens")
        except urllib.error.HTTPError as err:
            assert err.code == 400 and "确认链接无效" in err.read().decode()
    assert row(instance)[0] == "unsubscribed"
