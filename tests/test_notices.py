"""Mail that is not an alert (the confirmation request, the manage-link reminder): queued by the
web request, sent by whichever sender claims it first — the web app's background thread or the
worker — once each, retried on failure, dropped when it no longer applies."""

from __future__ import annotations

import email
from datetime import datetime, timedelta, timezone
from email import policy
from pathlib import Path

import pytest

from tracker.alerts.email.mailbox import mailbox_messages
from tracker.alerts.notices import queue_confirmation, queue_notice, send_notices, send_soon
from tracker.alerts.subscribe import subscribe
from tracker.config import load_config
from tracker.store import connect, transaction
from tracker.worker.service import Worker

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def config(tmp_path: Path) -> dict:
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "sources.yaml").write_text("sources: []\n", encoding="utf-8")
    return load_config({"INSTANCE_PATH": str(instance), "RULES": str(REPO / "rules"),
                        "BASE_URL": "https://tracker.example.org", "RETRY_DELAYS": "60"},
                       environ={})


def pending(config: dict, address: str):
    db = connect(Path(config["INSTANCE_PATH"]) / "tracker.db")
    found, _ = subscribe(db, config, "email", address, ["zhuanyezhen"], ["zhuanyezhen"])
    assert found.state == "pending"
    return db, found


def mails(config: dict) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default)
            for p in mailbox_messages(config["INSTANCE_PATH"])]


def test_a_notice_left_by_the_web_app_is_sent_by_the_worker_once(config):
    db, sub = pending(config, "late@example.org")
    queue_confirmation(db, config, sub.id, sub.address)  # the web process stopped before sending
    Worker(config).deliver()
    Worker(config).deliver()
    (mail,) = mails(config)
    assert mail["To"] == "late@example.org" and "/confirm/" in mail.get_content()
    assert db.execute("SELECT status, attempts FROM notices").fetchall() == [("sent", 1)]


def test_two_senders_never_send_the_same_notice(config):
    db, sub = pending(config, "race@example.org")
    notice = queue_confirmation(db, config, sub.id, sub.address)
    threads = [send_soon(config, notice) for _ in range(4)]
    send_notices(db, config)
    for thread in threads:
        thread.join(timeout=30)
    assert len(mails(config)) == 1


def test_a_claim_left_by_a_dead_sender_goes_again_with_its_message_id(config):
    db, sub = pending(config, "again@example.org")
    queue_confirmation(db, config, sub.id, sub.address)
    long_ago = datetime.now(timezone.utc) - timedelta(hours=1)
    with transaction(db):
        db.execute("UPDATE notices SET status = 'sending', claimed_at = ?", [long_ago.isoformat()])
    assert send_notices(db, config) == {"sent": 1}
    (message_id,) = db.execute("SELECT message_id FROM notices").fetchone()
    assert mails(config)[0]["Message-ID"] == message_id


def test_a_confirmation_for_a_subscription_confirmed_meanwhile_is_dropped(config):
    db, sub = pending(config, "done@example.org")
    queue_confirmation(db, config, sub.id, sub.address)
    with transaction(db):
        db.execute("UPDATE subscriptions SET state = 'active' WHERE id = ?", [sub.id])
    assert send_notices(db, config) == {}
    assert mails(config) == []
    assert db.execute("SELECT status FROM notices").fetchall() == [("cancelled",)]


def test_a_failed_send_is_retried_on_the_schedule(config):
    db, sub = pending(config, "retry@example.org")
    queue_confirmation(db, config, sub.id, sub.address)
    down = {**config, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": 9, "SMTP_SECURITY": "none",
            "SMTP_TIMEOUT": 2}
    now = datetime.now(timezone.utc)
    assert send_notices(db, down, now=now) == {"failed": 1}
    assert send_notices(db, config, now=now + timedelta(seconds=30)) == {}  # not yet
    assert send_notices(db, config, now=now + timedelta(seconds=61)) == {"sent": 1}
    assert len(mails(config)) == 1


def test_the_reminder_names_the_subscriptions_current_state(config):
    db, sub = pending(config, "owner@example.org")
    with transaction(db):
        db.execute("UPDATE subscriptions SET state = 'paused' WHERE id = ?", [sub.id])
    queue_notice(db, config, "remind", sub.id, sub.address)
    assert send_notices(db, config) == {"sent": 1}
    (mail,) = mails(config)
    assert "/manage/" in mail.get_content() and "已暂停" in mail.get_content()
    with pytest.raises(ValueError):
        queue_notice(db, config, "anything", sub.id, sub.address)
