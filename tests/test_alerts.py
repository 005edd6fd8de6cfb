"""Alerts end to end: the worker finds hits, and the alerts reach a real SMTP server (aiosmtpd) and
a real webhook receiver on loopback — once each, whatever fails on the way."""

from __future__ import annotations

import email
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from email import policy
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook

from loopback import respond
from smtp_loopback import LoopbackController, Recorder
from tracker.alerts.deliver import deliver
from tracker.alerts.subscribe import subscribe
from tracker.config import load_config
from tracker.store import connect
from tracker.worker.service import Worker

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "tracker/demo/pages/2025-04-09_demo-daily_p1.txt"  # ours: 专业镇 and 标准地
THEMES = ["zhuanyezhen", "biaozhundi", "lvdian", "yingshang-huanjing", "xinnengyuan"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def drop(tmp_path: Path) -> Path:
    folder = tmp_path / "drop"
    folder.mkdir()
    return folder


@pytest.fixture
def config(tmp_path: Path, drop: Path) -> dict:
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "sources.yaml").write_text(
        f"sources:\n  - id: drop\n    name: 演示日报\n    path: {drop}\n", encoding="utf-8")
    return load_config({"INSTANCE_PATH": str(instance), "RULES": str(REPO / "rules"),
                        "FOLDER_SETTLE_SECONDS": 0, "RETRY_DELAYS": "0,0,0,0",
                        "SMTP_HOST": "127.0.0.1", "SMTP_PORT": free_port(),
                        "SMTP_SECURITY": "none", "SMTP_TIMEOUT": 5,
                        "BASE_URL": "https://tracker.example.org",
                        "WEBHOOK_ALLOW_PRIVATE": True, "WEBHOOK_TIMEOUT": 2,
                        "HTTP_READ_TIMEOUT": 1, "HTTP_TOTAL_TIMEOUT": 2}, environ={})


def db_of(config: dict):
    return connect(Path(config["INSTANCE_PATH"]) / "tracker.db")


def add(config: dict, channel: str, address: str, rules=("zhuanyezhen",), frequency="instant"):
    found, _ = subscribe(db_of(config), config, channel, address, list(rules), THEMES, frequency,
                         confirmed=True, admin=True)
    return found


def start_smtp(port: int) -> tuple[LoopbackController, Recorder]:
    recorder = Recorder()
    controller = LoopbackController(recorder, hostname="127.0.0.1", port=port, ready_timeout=10,
                                    auth_require_tls=False)
    controller.start()
    return controller, recorder


def messages(recorder: Recorder, address: str) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(m.data, policy=policy.default)
            for m in recorder.received(address)]


def test_email_alerts_arrive_once_through_a_down_and_struggling_smtp_server(config, drop):
    add(config, "email", "li@example.org")
    add(config, "email", "wang@example.org", rules=("biaozhundi",))
    shutil.copy(PAGE, drop)
    worker = Worker(config)
    worker.once()  # the SMTP server is down: nothing can be sent
    failed = db_of(config).execute("SELECT status, attempts FROM deliveries").fetchall()
    assert failed == [("failed", 1), ("failed", 1)]

    controller, recorder = start_smtp(config["SMTP_PORT"])
    try:
        recorder.mail_reply = "421 4.3.2 Service not available, try later"
        worker.once()  # up, but struggling
        recorder.mail_reply = None
        recorder.data_replies["wang@example.org"] = "451 4.3.0 Temporary failure"
        worker.once()  # one of them still refused for now
        del recorder.data_replies["wang@example.org"]
        worker.once()
        worker.once()  # nothing left to send
    finally:
        controller.stop()
    (li,) = messages(recorder, "li@example.org")
    (wang,) = messages(recorder, "wang@example.org")
    assert "专业镇" in li["Subject"] and "标准地" in wang["Subject"]
    assert li["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "https://tracker.example.org/unsubscribe/" in li["List-Unsubscribe"]
    text = li.get_body(("plain",)).get_content()
    assert "【专业镇】" in text and "https://tracker.example.org/manage/" in text
    rows = db_of(config).execute("SELECT status FROM deliveries").fetchall()
    assert rows == [("sent",), ("sent",)]
    attempts = db_of(config).execute("SELECT count(*) FROM attempts").fetchone()[0]
    assert attempts >= 5  # every try is on record


def test_a_daily_digest_collects_the_days_hits_into_one_mail(config, drop):
    add(config, "email", "digest@example.org", rules=("zhuanyezhen", "biaozhundi"), frequency="daily")
    shutil.copy(PAGE, drop)
    (drop / "more.txt").write_text("本报讯 又有三个镇获批省级重点专业镇。", encoding="utf-8")
    Worker(config).once()
    db = db_of(config)
    assert db.execute("SELECT count(*) FROM deliveries").fetchone() == (0,)  # not the hour yet
    due = db.execute("SELECT count(*) FROM outbox").fetchone()[0]
    assert due >= 3
    controller, recorder = start_smtp(config["SMTP_PORT"])
    try:
        tomorrow = datetime.now(timezone.utc) + timedelta(days=1)
        deliver(db, config, now=tomorrow.replace(hour=0, minute=5))  # 08:05 in Shanghai
    finally:
        controller.stop()
    (digest,) = messages(recorder, "digest@example.org")
    assert digest["Subject"].startswith("【政策追踪·日报】")
    body = digest.get_body(("plain",)).get_content()
    assert "专业镇" in body and "标准地" in body


def test_webhook_alerts_survive_500_timeout_and_stop_at_410(config, drop, site):
    calls: dict[str, list] = {"flaky": [], "slow": [], "gone": []}
    answers = {"flaky": [500, 200], "slow": [0, 200], "gone": [410]}

    def receiver(name: str):
        def handle(handler: BaseHTTPRequestHandler) -> None:
            body = handler.rfile.read(int(handler.headers["Content-Length"]))
            calls[name].append(({k.lower(): v for k, v in handler.headers.items()}, body))
            status = answers[name].pop(0) if len(answers[name]) > 1 else answers[name][0]
            if status == 0:  # the first call times out
                site.release.wait(5)
                return
            respond(b"ok", "text/plain", status)(handler)
        return handle

    hooks = {}
    for name in calls:
        site.routes[f"/{name}"] = receiver(name)
        hooks[name] = add(config, "webhook", f"{site.base}/{name}")
    shutil.copy(PAGE, drop)
    worker = Worker(config)
    for _ in range(3):
        worker.once()

    db = db_of(config)
    for name in ("flaky", "slow"):
        bodies = {body for _, body in calls[name]}
        ids = {headers["webhook-id"] for headers, _ in calls[name]}
        assert len(calls[name]) >= 2 and len(ids) == 1 and len(bodies) == 1  # retries: same message
        headers, body = calls[name][-1]
        Webhook(hooks[name].secret).verify(body, headers)  # an independent implementation
        data = json.loads(body)["data"]
        assert {a["rule"] for a in data["articles"]} == {"zhuanyezhen"}
        status = db.execute("SELECT status FROM deliveries WHERE subscription_id = ?",
                            [hooks[name].id]).fetchone()
        assert status == ("sent",)
    assert len(calls["gone"]) == 1
    state = db.execute("SELECT state, state_reason FROM subscriptions WHERE id = ?",
                       [hooks["gone"].id]).fetchone()
    assert state[0] == "disabled" and "410" in state[1]


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/hook", "http://0x7f000001/hook", "http://localhost/hook",
    "http://[::1]/hook", "http://[::ffff:127.0.0.1]/hook", "http://169.254.169.254/latest",
    "http://10.0.0.8/hook", "file:///etc/passwd",
])
def test_a_webhook_into_the_hosts_own_network_is_refused_at_subscription(config, url):
    from tracker.alerts.subscribe import SubscribeError

    with pytest.raises(SubscribeError) as caught:
        subscribe(db_of(config), {**config, "WEBHOOK_ALLOW_PRIVATE": False}, "webhook", url,
                  ["zhuanyezhen"], THEMES)
    assert caught.value.field == "webhook_url"


def wait_until(condition, timeout: float = 60) -> bool:
    """Poll `condition` until it holds or `timeout` passes (a bounded loop)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def tracker(config: dict, *args: str) -> subprocess.Popen:
    env = {**os.environ, "TRACKER_INSTANCE": config["INSTANCE_PATH"],
           "TRACKER_RULES": config["RULES"], "TRACKER_SMTP_HOST": "127.0.0.1",
           "TRACKER_SMTP_PORT": str(config["SMTP_PORT"]), "TRACKER_SMTP_SECURITY": "none",
           "TRACKER_FOLDER_SETTLE_SECONDS": "0", "TRACKER_RETRY_DELAYS": "0"}
    return subprocess.Popen([sys.executable, "-m", "tracker", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_a_worker_killed_mid_batch_resends_only_the_message_in_flight(config, drop):
    add(config, "email", "first@example.org")
    add(config, "email", "second@example.org")
    shutil.copy(PAGE, drop)
    db = db_of(config)
    Worker({**config, "SMTP_PORT": free_port()}).once()  # stored; the first sends fail (no server)
    db.execute("UPDATE deliveries SET next_attempt_at = '2000-01-01'")  # due now
    controller, recorder = start_smtp(config["SMTP_PORT"])
    try:
        recorder.hold_data.add("second@example.org")
        sending = tracker(config, "deliver")
        assert recorder.holding.wait(60), "the second message never reached DATA"
        assert wait_until(lambda: db.execute("SELECT status FROM deliveries WHERE id = 1")
                          .fetchone() == ("sent",)), "the first's 250 was not recorded at once"
        sending.kill()  # while the second is in flight
        sending.communicate(timeout=30)
        recorder.hold_data.clear()
        recorder.release.set()
        again = tracker(config, "worker", "--once")  # recovers what was half-sent, sends it
        out, err = again.communicate(timeout=120)
        assert again.returncode == 0, err
    finally:
        controller.stop()
    first = messages(recorder, "first@example.org")
    second = messages(recorder, "second@example.org")
    assert len(first) == 1  # recorded right after its 250: not sent again
    assert len(second) == 1  # in flight when killed (the server dropped it): sent again
    assert db.execute("SELECT status FROM deliveries").fetchall() == [("sent",), ("sent",)]


def test_a_chat_robot_gets_a_markdown_message_through_apprise(config, drop, site):
    got: list[bytes] = []

    def robot(handler: BaseHTTPRequestHandler) -> None:
        got.append(handler.rfile.read(int(handler.headers["Content-Length"])))
        respond(b"{}", "application/json")(handler)

    site.routes["/robot"] = robot
    url = site.base.replace("http://", "json://") + "/robot"  # a generic scheme: admins only
    add(config, "chat", url)
    shutil.copy(PAGE, drop)
    Worker(config).once()
    (message,) = [json.loads(body) for body in got]
    assert message["title"].startswith("【政策追踪】专业镇")
    assert "### 专业镇" in message["message"] and "**专业镇**" in message["message"]
    assert db_of(config).execute("SELECT status FROM deliveries").fetchall() == [("sent",)]


def test_each_chat_message_records_its_own_error_when_several_fail_at_once(config, drop, site):
    both_in = threading.Barrier(2, timeout=30)

    def failing(status: int):
        def handle(handler: BaseHTTPRequestHandler) -> None:
            handler.rfile.read(int(handler.headers["Content-Length"]))
            both_in.wait()  # the two sends are under way together
            respond(b"{}", "application/json", status=status)(handler)
        return handle

    site.routes.update({"/teapot": failing(418), "/forbidden": failing(403)})
    teapot = add(config, "chat", site.base.replace("http://", "json://") + "/teapot")
    forbidden = add(config, "chat", site.base.replace("http://", "json://") + "/forbidden")
    shutil.copy(PAGE, drop)
    Worker(config).once()
    errors = dict(db_of(config).execute(
        "SELECT subscription_id, last_error FROM deliveries").fetchall())
    assert "418" in errors[teapot.id] and "403" not in errors[teapot.id], errors
    assert "403" in errors[forbidden.id] and "418" not in errors[forbidden.id], errors


def test_a_sender_that_raises_after_some_messages_keeps_them_sent(config, drop, monkeypatch):
    """A bug in a sender (the fault injected: a sender that raises after its first message) must
    not mark the message already delivered as failed."""
    from tracker.alerts import deliver as delivering
    from tracker.alerts.email.send import send_emails

    controller, recorder = start_smtp(config["SMTP_PORT"])
    add(config, "email", "first@example.org")
    add(config, "email", "second@example.org")
    shutil.copy(PAGE, drop)
    Worker({**config, "SMTP_PORT": free_port()}).once()  # stored; the first sends fail
    db = db_of(config)
    db.execute("UPDATE deliveries SET next_attempt_at = '2000-01-01'")

    def buggy(batch, config, report):
        send_emails([(a, d.address) for a, d in batch[:1]], config, report=report)
        raise RuntimeError("a bug after the first message")

    monkeypatch.setattr(delivering, "_senders", lambda: {"email": buggy})
    try:
        outcome = deliver(db, config)
    finally:
        controller.stop()
    assert outcome == {"sent": 1, "failed": 1}
    states = dict(db.execute("SELECT s.address, d.status || ' ' || coalesce(d.last_error, '') "
                             "FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id"))
    assert states["first@example.org"] == "sent " and len(recorder.messages) == 1
    assert states["second@example.org"].startswith("failed RuntimeError: a bug after")


def test_each_webhook_answer_is_recorded_while_another_is_still_waiting(config, drop, site):
    answer_slow = threading.Event()

    def quick(handler: BaseHTTPRequestHandler) -> None:
        handler.rfile.read(int(handler.headers["Content-Length"]))
        respond(b"ok", "text/plain")(handler)

    def slow(handler: BaseHTTPRequestHandler) -> None:
        handler.rfile.read(int(handler.headers["Content-Length"]))
        answer_slow.wait(30)
        respond(b"ok", "text/plain")(handler)

    site.routes.update({"/a": quick, "/b": quick, "/slow": slow})
    hooks = {name: add(config, "webhook", f"{site.base}/{name}") for name in ("a", "b", "slow")}
    shutil.copy(PAGE, drop)
    config = {**config, "WEBHOOK_TIMEOUT": 30}
    from tracker.worker.cycle import run_cycle

    worker = Worker(config)  # stored and matched; nothing sent yet
    run_cycle(worker.db_path, config, worker.sources(), worker.matcher())
    db = db_of(config)
    sending = threading.Thread(target=deliver, args=(db_of(config), config))
    sending.start()
    try:
        def status(name: str):
            return db.execute("SELECT status FROM deliveries WHERE subscription_id = ?",
                              [hooks[name].id]).fetchone()
        assert wait_until(lambda: status("a") == status("b") == ("sent",)), \
            "the quick answers were not recorded while the slow one waited"
        assert status("slow") == ("sending",)
    finally:
        answer_slow.set()
        sending.join(timeout=60)
    assert db.execute("SELECT status, count(*) FROM deliveries GROUP BY status").fetchall() \
        == [("sent", 3)]


def test_a_delivery_left_sending_by_a_failed_run_goes_at_the_next_run(config, drop):
    add(config, "email", "left@example.org")
    shutil.copy(PAGE, drop)
    Worker({**config, "SMTP_PORT": free_port()}).once()  # stored; the send failed (no server)
    db = db_of(config)
    db.execute("UPDATE deliveries SET status = 'sending'")  # a run that died half-way
    controller, recorder = start_smtp(config["SMTP_PORT"])
    try:
        assert Worker(config).deliver() == {"sent": 1}
    finally:
        controller.stop()
    assert len(recorder.received("left@example.org")) == 1
