"""Nothing a stranger sends can flood a mailbox. The per-address subscribe
limit read the raw `channel` field while the form defaults to email, so a POST without it
skipped the limit (100 confirmation mails to one victim in 15 s, each from a fresh client
address). Now the limit counts what the view uses, and the address it uses: every spelling of
one address (full-width letters, capitals) counts against one limit. A mailbox gets at most
NOTICES_PER_DAY confirmation and reminder mails a day (`name+tag@` counted as `name@`), counted in
the database."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlite_utils

from conftest import REPO_RULES, csrf_token
from test_demo import free_port, get
from test_serve_and_worker import browser, csrf, start_relay
from test_worker import rows, wait_for
from test_worker_deployed import Process, environment
from smtp_loopback import Recorder
from tracker.alerts.notices import queue_notice
from tracker.store import connect, migrate, transaction
from tracker.store.schema import migrations
from tracker.store.subscriptions import add_subscription
from tracker.web import create_app

VICTIM = "victim@example.org"


def spelling(n: int) -> str:
    """The victim's mailbox, spelled a new way each time: tags and case."""
    return ["victim@example.org", "Victim@Example.org", f"victim+{n}@example.org",
            f"VICTIM+x{n}@EXAMPLE.ORG"][n % 4]


def post_without_channel(base: str, n: int) -> tuple[int, str, str | None]:
    """One stranger (a fresh client address behind the proxy) posts the form with no `channel`
    field; (status, page, Retry-After)."""
    forwarded = {"X-Forwarded-For": f"198.51.100.{n + 1}"}
    visitor = browser()
    page = visitor.open(urllib.request.Request(f"{base}/subscribe", headers=forwarded),
                        timeout=30).read().decode()
    form = urllib.parse.urlencode({"csrf_token": csrf(page), "email": spelling(n),
                                   "rules": "zhuanyezhen", "frequency": "instant"}).encode()
    try:
        with visitor.open(urllib.request.Request(f"{base}/subscribe", data=form,
                                                 headers=forwarded), timeout=30) as answer:
            return answer.status, answer.read().decode(), None
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(), err.headers.get("Retry-After")


def test_tracker_serve_sends_one_mailbox_three_mails_whatever_a_stranger_posts(tmp_path):
    """`tracker serve` behind a proxy with its default limits; 25 strangers each post the form
    without a channel for the victim's mailbox in four spellings. Before: 25 mails."""
    instance = tmp_path / "instance"
    instance.mkdir()
    recorder = Recorder()
    relay = start_relay(recorder)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = environment(instance, relay.port, TRACKER_BASE_URL=base, TRACKER_TRUSTED_PROXIES="1",
                      TRACKER_SECRET_KEY="k" * 32)
    web = Process(env, "serve", "--port", str(port))
    try:
        assert wait_for(lambda: get(f"{base}/healthz")[0] == 200, 90), web.lines
        answers = [post_without_channel(base, n) for n in range(25)]
        statuses = [status for status, _, _ in answers]
        assert statuses == [200] * 20 + [429] * 5, statuses  # SUBSCRIBE_LIMIT: 20 an hour
        assert all("请查收确认邮件" in page for status, page, _ in answers if status == 200)
        refused = [(page, after) for status, page, after in answers if status == 429]
        assert all("提交太频繁" in page and after and int(after) > 0 for page, after in refused)
        config = {"INSTANCE_PATH": str(instance)}
        assert rows(config, "SELECT count(*) FROM notices")[0][0] == 3  # NOTICES_PER_DAY
        assert wait_for(lambda: len(recorder.messages) == 3, 60), web.lines
        assert wait_for(lambda: rows(config, "SELECT status FROM notices") == [("sent",)] * 3, 30)
    finally:
        web.stop()
        relay.stop()
    assert len(recorder.messages) == 3
    assert "Traceback" not in "".join(web.lines)


def production_app(tmp_path: Path, **config):
    """The app as `tracker serve` makes it (CSRF on, no TESTING), mail into the mailbox folder."""
    return create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "RULES": str(REPO_RULES),
                       "BASE_URL": "https://tracker.example.org", **config})


def test_the_per_address_limit_counts_a_post_without_a_channel(tmp_path):
    """Each POST from a new client address: only the per-address limit can stop them."""
    app = production_app(tmp_path, SUBSCRIBE_LIMIT="3 per hour", NOTICES_PER_DAY=0)
    statuses = []
    for n in range(5):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"203.0.113.{n + 1}"
        fields = {"csrf_token": csrf_token(client, "/subscribe"), "email": spelling(n),
                  "rules": "zhuanyezhen", "frequency": "instant"}
        if n == 4:
            fields["channel"] = "email"  # the same address named with the channel: same count
        statuses.append(client.post("/subscribe", data=fields).status_code)
    assert statuses == [200, 200, 200, 429, 429]


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


def test_a_mailbox_gets_three_notices_a_day_however_it_is_spelled(tmp_path):
    db = connect(tmp_path / "tracker.db")
    config = {"INSTANCE_PATH": str(tmp_path), "BASE_URL": "https://tracker.example.org"}
    ids = []
    for n in range(6):
        with transaction(db):
            sub, _ = add_subscription(db, "email", spelling(n).lower(), ["zhuanyezhen"],
                                      "instant", active=False)
        ids.append(queue_notice(db, config, "remind" if n % 2 else "confirm", sub.id,
                                sub.address))
    assert [i is not None for i in ids] == [True, True, True, False, False, False]
    assert queue_notice(db, config, "confirm", sub.id, "other@example.org") is not None
    tomorrow = datetime.now(timezone.utc) + timedelta(days=1, seconds=1)
    assert queue_notice(db, config, "confirm", sub.id, sub.address, now=tomorrow) is not None
    assert db.execute("SELECT count(*) FROM notices WHERE recipient = ?", [VICTIM]).fetchone() \
        == (4,)


def test_the_migration_counts_the_notices_sent_before_it(tmp_path):
    """An archive made by the previous version: its notices' mailboxes are filled in, so the
    day's count starts from what was sent already."""
    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before="m009_notice_recipients")
    now = datetime.now(timezone.utc).isoformat()
    old["subscriptions"].insert({"channel": "email", "address": "victim+old@example.org",
                                 "rules": '["zhuanyezhen"]', "frequency": "instant",
                                 "state": "pending", "created_at": now})
    for _ in range(3):
        old["notices"].insert({"kind": "confirm", "subscription_id": 1, "message_id": "<m@x>",
                               "address": "victim+old@example.org", "created_at": now,
                               "status": "sent", "attempts": 1})
    old.conn.commit()
    old.conn.close()
    assert "m009_notice_recipients" in migrate(path)
    db = connect(path, migrate=False)
    assert queue_notice(db, {"INSTANCE_PATH": str(tmp_path)}, "confirm", 1, VICTIM) is None
