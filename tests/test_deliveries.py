"""The outbox and deliveries: when a delivery forms, what a result does to it, links, subscribing.
(Sending itself is tested with real servers in test_email, test_webhook and test_alerts.)"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from tracker.alerts.deliver import RETRY_DELAYS, record, retry_delays
from tracker.alerts.links import (CONFIRM, MANAGE, UNSUBSCRIBE, link, make_token, read_token,
                                  secret_key, with_secret_key)
from tracker.alerts.model import SendResult
from tracker.alerts.subscribe import SubscribeError, subscribe
from tracker.store import connect, transaction
from builders import add_article
from tracker.store.articles import NewArticle
from tracker.store.deliveries import due_deliveries, form_deliveries, last_slot, mark_sending, recover_interrupted
from tracker.store.outbox import add_outbox_for, rule_subscribers
from tracker.store.subscriptions import add_subscription, get_subscription

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2025, 4, 9, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai, a Wednesday


@pytest.fixture
def db(tmp_path, fresh_archive):
    database = connect(fresh_archive(tmp_path / "tracker.db"))
    with transaction(database):
        database["sources"].insert({"id": "s", "name": "山西日报", "type": "feed", "location": "x"})
    return database


def hit(db, text: str, rule: str = "zyz") -> tuple[int, int]:
    """An article with a hit for `rule`: (article id, hit id)."""
    with transaction(db):
        article_id, _ = add_article(db, NewArticle(source_id="s", title=text, text=text))
        hit_id = db["hits"].insert({"article_id": article_id, "rule_id": rule, "rule_name": "专业镇",
                                    "count": 1, "snippets": json.dumps([{"snippet": "【专业镇】"}]),
                                    "matched_at": T0.isoformat()}).last_pk
    return article_id, hit_id


def sub(db, address: str, frequency: str = "instant", rules=("zyz",), channel: str = "email",
        active: bool = True) -> int:
    with transaction(db):
        s, _ = add_subscription(db, channel, address, list(rules), frequency, active=active)
    return s.id


def test_outbox_rows_only_for_active_subscribers_of_the_rule_and_only_once(db):
    a = sub(db, "a@example.org")
    sub(db, "pending@example.org", active=False)
    sub(db, "other@example.org", rules=("lvdian",))
    article_id, hit_id = hit(db, "专业镇一")
    with transaction(db):
        assert add_outbox_for(db, article_id, [(hit_id, "zyz")], rule_subscribers(db)) == 1
        assert add_outbox_for(db, article_id, [(hit_id, "zyz")], rule_subscribers(db)) == 0
    assert db.execute("SELECT subscription_id FROM outbox").fetchall() == [(a,)]


@pytest.mark.parametrize("frequency,now_local,slot_local", [
    ("daily", datetime(2025, 4, 9, 10, 0), datetime(2025, 4, 9, 8, 0)),
    ("daily", datetime(2025, 4, 9, 7, 59), datetime(2025, 4, 8, 8, 0)),
    ("weekly", datetime(2025, 4, 9, 10, 0), datetime(2025, 4, 7, 8, 0)),   # Monday 08:00
    ("weekly", datetime(2025, 4, 7, 7, 0), datetime(2025, 3, 31, 8, 0)),
])
def test_last_digest_slot(frequency, now_local, slot_local):
    now = now_local.replace(tzinfo=SHANGHAI)
    assert last_slot(frequency, now, 8, 0, SHANGHAI) == slot_local.replace(tzinfo=SHANGHAI)


def test_instant_forms_at_once_a_daily_digest_waits_for_the_hour(db):
    instant = sub(db, "now@example.org")
    daily = sub(db, "daily@example.org", "daily")
    for text in ("专业镇一", "专业镇二"):
        article_id, hit_id = hit(db, text)
        with transaction(db):
            add_outbox_for(db, article_id, [(hit_id, "zyz")], rule_subscribers(db))
    db.execute("UPDATE outbox SET created_at = ?", [T0.isoformat()])
    with transaction(db):
        assert len(form_deliveries(db, T0, zone=SHANGHAI)) == 1  # 10:00: the daily waits
    assert [d.subscription_id for d in due_deliveries(db, T0)] == [instant]
    tomorrow_8 = datetime(2025, 4, 10, 0, 0, tzinfo=timezone.utc)  # 08:00 Shanghai
    with transaction(db):
        (digest,) = form_deliveries(db, tomorrow_8, zone=SHANGHAI)
    rows = db.execute("SELECT count(*) FROM outbox WHERE delivery_id = ?", [digest]).fetchone()
    assert rows == (2,)  # the day's two hits in one message
    assert db["deliveries"].get(digest)["subscription_id"] == daily


def due_for(db, address="x@example.org", channel="email"):
    sub(db, address, channel=channel)
    article_id, hit_id = hit(db, f"专业镇 {address}")
    with transaction(db):
        add_outbox_for(db, article_id, [(hit_id, "zyz")], rule_subscribers(db))
        form_deliveries(db, T0, zone=SHANGHAI)
        (due,) = due_deliveries(db, T0)
    return due


def test_a_failure_is_retried_on_the_schedule_then_dead(db):
    due = due_for(db)
    delays = (5.0, 300.0)
    now = T0
    for attempt, delay in enumerate(delays, start=1):
        with transaction(db):
            assert record(db, due, SendResult(due.id, False, "451 try later", status=451), now,
                          delays, timedelta(days=5)) == "failed"
        row = db["deliveries"].get(due.id)
        assert row["attempts"] == attempt
        assert datetime.fromisoformat(row["next_attempt_at"]) == now + timedelta(seconds=delay)
        assert due_deliveries(db, now) == []  # not before its time
        now = now + timedelta(seconds=delay)
        with transaction(db):
            (due,) = due_deliveries(db, now)
    with transaction(db):
        assert record(db, due, SendResult(due.id, False, "451 again"), now, delays,
                      timedelta(days=5)) == "dead"
    assert db.execute("SELECT count(*) FROM attempts WHERE delivery_id = ?", [due.id]).fetchone() == (3,)


def test_retry_after_is_honoured_when_longer(db):
    due = due_for(db)
    with transaction(db):
        record(db, due, SendResult(due.id, False, "429", retry_after=600), T0, (5.0,), timedelta(days=5))
    assert db["deliveries"].get(due.id)["next_attempt_at"] == (T0 + timedelta(seconds=600)).isoformat(
        timespec="microseconds")


def test_gone_disables_the_endpoint_and_cancels_what_waits(db):
    due = due_for(db, "https://hooks.example.org/x", channel="webhook")
    with transaction(db):
        assert record(db, due, SendResult(due.id, False, "410", gone=True, permanent=True), T0,
                      RETRY_DELAYS, timedelta(days=5)) == "dead"
    s = get_subscription(db, due.subscription_id)
    assert s.state == "disabled" and "410" in s.state_reason


def test_an_endpoint_failing_for_days_is_disabled_with_the_reason(db):
    due = due_for(db, "https://hooks.example.org/y", channel="webhook")
    with transaction(db):
        record(db, due, SendResult(due.id, False, "HTTP 500"), T0, RETRY_DELAYS, timedelta(days=5))
    assert get_subscription(db, due.subscription_id).state == "active"
    later = T0 + timedelta(days=5, seconds=1)
    with transaction(db):
        record(db, replace(due, attempts=1), SendResult(due.id, False, "HTTP 500"), later,
               RETRY_DELAYS, timedelta(days=5))
    s = get_subscription(db, due.subscription_id)
    assert s.state == "disabled" and "last error: HTTP 500" in s.state_reason


def test_success_clears_the_failing_streak(db):
    due = due_for(db)
    with transaction(db):
        record(db, due, SendResult(due.id, False, "down"), T0, RETRY_DELAYS, timedelta(days=5))
        record(db, due, SendResult(due.id, True, status=250), T0, RETRY_DELAYS, timedelta(days=5))
    assert get_subscription(db, due.subscription_id).failing_since is None
    assert db["deliveries"].get(due.id)["status"] == "sent"


def test_a_delivery_left_sending_by_a_dead_worker_is_due_again_with_its_ids(db):
    due = due_for(db)
    with transaction(db):
        mark_sending(db, [due.id])
    assert due_deliveries(db, T0 + timedelta(hours=1)) == []
    with transaction(db):
        assert recover_interrupted(db, T0) == 1
        (again,) = due_deliveries(db, T0)
    assert (again.message_id, again.webhook_id) == (due.message_id, due.webhook_id)


def test_retry_delays_from_configuration():
    assert retry_delays({}) == RETRY_DELAYS
    assert retry_delays({"RETRY_DELAYS": "0,0,60"}) == (0.0, 0.0, 60.0)
    assert retry_delays({"RETRY_DELAYS": 0}) == (0.0,)


def test_signed_links(tmp_path):
    config = {"INSTANCE_PATH": str(tmp_path), "BASE_URL": "https://tracker.example.org/"}
    key = secret_key(config)
    assert key == secret_key(config) and len(key) > 40
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    token = make_token(config, MANAGE, 7)
    assert read_token(config, MANAGE, token) == 7
    assert read_token(config, UNSUBSCRIBE, token) is None  # a token is for one purpose
    assert read_token(config, MANAGE, token[:-2] + "xx") is None
    assert read_token({**config, "SECRET_KEY": "other"}, MANAGE, token) is None
    assert read_token(config, CONFIRM, make_token(config, CONFIRM, 7), max_age=-1) is None
    assert link(config, UNSUBSCRIBE, 7).startswith("https://tracker.example.org/unsubscribe/")
    assert link(config, MANAGE, 7) == link(config, MANAGE, 7)  # a resend carries the same link
    once = with_secret_key(config)  # what a delivery run signs with: the same key, read once
    assert once["SECRET_KEY"] == key and "SECRET_KEY" not in config
    assert link(once, MANAGE, 7) == link(config, MANAGE, 7)
    assert with_secret_key({"SECRET_KEY": "given"}) == {"SECRET_KEY": "given"}


@pytest.mark.parametrize("channel,address,field", [
    ("email", "not-an-address", "email"),
    ("email", "a@example.org\r\nBcc: b@example.org", "email"),
    ("chat", "json://127.0.0.1/hook", "chat_url"),   # generic: admins only
    ("chat", "nonsense", "chat_url"),
    ("fax", "123", "channel"),
])
def test_subscribe_refuses_with_the_field(db, tmp_path, channel, address, field):
    with pytest.raises(SubscribeError) as caught:
        subscribe(db, {"INSTANCE_PATH": str(tmp_path)}, channel, address, ["zyz"], ["zyz"])
    assert caught.value.field == field


def test_subscribing_again_never_resets_a_confirmed_address(db, tmp_path):
    config = {"INSTANCE_PATH": str(tmp_path)}
    first, _ = subscribe(db, config, "email", "Li@Example.org", ["zyz"], ["zyz", "lvdian"])
    assert first.state == "pending" and first.address == "li@example.org"  # one spelling
    with transaction(db):
        from tracker.store.subscriptions import set_state
        set_state(db, first.id, "active")
    again, changed = subscribe(db, config, "email", "Li@example.org", ["lvdian"], ["zyz", "lvdian"],
                               "daily")
    assert not changed and again.state == "active" and again.rules == ("zyz",)
    with pytest.raises(SubscribeError) as caught:
        subscribe(db, config, "email", "x@example.org", ["nope"], ["zyz"])
    assert caught.value.field == "rules"
    dingtalk, _ = subscribe(db, config, "chat", "dingtalk://token123", ["zyz"], ["zyz"])
    assert dingtalk.state == "active"


@pytest.mark.parametrize("channel,address,shown", [
    ("email", "li.ming@example.org", "l***@example.org"),
    ("webhook", "https://hooks.example.org/T0KEN/abc", "https://hooks.example.org/…"),
    ("chat", "dingtalk://s3cr3tT0ken", "dingtalk://…"),
])
def test_addresses_are_masked_for_pages_and_logs(channel, address, shown):
    from tracker.alerts.subscribe import mask_address

    assert mask_address(channel, address) == shown


def test_a_failed_delivery_is_logged_without_the_address_secret(db, tmp_path, caplog):
    from tracker.alerts.deliver import deliver

    sub(db, "json://127.0.0.1:1/s3cr3tT0ken", channel="chat")  # loopback, a closed port
    article_id, hit_id = hit(db, "专业镇 机器人")
    with transaction(db):
        add_outbox_for(db, article_id, [(hit_id, "zyz")], rule_subscribers(db))
    config = {"INSTANCE_PATH": str(tmp_path), "WEBHOOK_ALLOW_PRIVATE": True}  # reach the port
    assert deliver(db, config, now=T0) == {"failed": 1}
    assert "delivery" in caplog.text and "s3cr3tT0ken" not in caplog.text


def test_a_new_subscriber_first_gets_the_recent_hits_of_its_rules(db, tmp_path):
    from tracker.alerts.subscribe import subscribe as add

    recent_article, recent_hit = hit(db, "专业镇 最近")
    db.execute("UPDATE hits SET matched_at = ? WHERE id = ?",
               [datetime.now(timezone.utc).isoformat(), recent_hit])
    old_article, old_hit = hit(db, "专业镇 很久以前")  # an old issue, its hit stored just now
    db.execute("UPDATE articles SET issue_date = '2020-01-01' WHERE id = ?", [old_article])
    db.execute("UPDATE hits SET matched_at = ? WHERE id = ?",
               [datetime.now(timezone.utc).isoformat(), old_hit])
    config = {"INSTANCE_PATH": str(tmp_path)}
    found, _ = add(db, config, "chat", "dingtalk://t", ["zyz"], ["zyz"])  # active at once
    rows = db.execute("SELECT article_id FROM outbox WHERE subscription_id = ?", [found.id]).fetchall()
    assert rows == [(recent_article,)]
    pending, _ = add(db, config, "email", "new@example.org", ["zyz"], ["zyz"])  # not until confirmed
    assert db.execute("SELECT count(*) FROM outbox WHERE subscription_id = ?", [pending.id]).fetchone() == (0,)
    none, _ = add(db, {**config, "WELCOME_DAYS": 0}, "chat", "dingtalk://u", ["zyz"], ["zyz"])
    assert db.execute("SELECT count(*) FROM outbox WHERE subscription_id = ?", [none.id]).fetchone() == (0,)
