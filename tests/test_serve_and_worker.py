"""`tracker serve` and `tracker worker` side by side, as docker-compose runs them: a subscriber
signs up on the web, confirms from the mail, and gets the worker's alert; a relay that holds
every message does not hold the web app."""

from __future__ import annotations

import asyncio
import email
import re
import threading
import time
import urllib.parse
import urllib.request
from email import policy
from pathlib import Path


from smtp_loopback import LoopbackController, Recorder
from test_demo import free_port, get
from test_worker import rows, source, wait_for, write_sources
from test_worker_deployed import Process, drop_folder, environment


class HoldingRecorder(Recorder):
    """A relay that keeps every message's DATA waiting until `release` (a slow relay)."""

    held = 0

    async def handle_DATA(self, server, session, envelope):
        self.held += 1
        deadline = time.monotonic() + 60
        while not self.release.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return await super().handle_DATA(server, session, envelope)


def start_relay(recorder: Recorder) -> LoopbackController:
    controller = LoopbackController(recorder, hostname="127.0.0.1", port=0, ready_timeout=10,
                                    auth_require_tls=False)
    controller.start()
    return controller


def browser() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor())


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def sign_up(base: str, address: str) -> str:
    """Subscribe `address` through the form; the address once the answer says a mail is on its way."""
    visitor = browser()
    token = csrf(visitor.open(f"{base}/subscribe", timeout=30).read().decode())
    form = urllib.parse.urlencode({"csrf_token": token, "channel": "email", "email": address,
                                   "rules": "zhuanyezhen", "frequency": "instant"}).encode()
    with visitor.open(f"{base}/subscribe", data=form, timeout=120) as answer:
        assert answer.status == 200 and "请查收确认邮件" in answer.read().decode()
    return address


def web_env(instance: Path, smtp_port: int, port: int) -> dict[str, str]:
    return environment(instance, smtp_port, TRACKER_BASE_URL=f"http://127.0.0.1:{port}",
                       TRACKER_SUBSCRIBE_LIMIT="1000 per hour", TRACKER_SECRET_KEY="k" * 32)


def test_serve_and_worker_side_by_side_from_sign_up_to_alert(tmp_path, instance):
    recorder = Recorder()
    relay = start_relay(recorder)
    port = free_port()
    env = web_env(instance, relay.port, port)
    drop = drop_folder(tmp_path, "drop", "2025-04-09_demo-daily_p1.txt", dated_today=True)
    write_sources(instance, [source("drop", path=str(drop), schedule='"0 3 * * *"')])
    base = f"http://127.0.0.1:{port}"
    web = Process(env, "serve", "--port", str(port))
    worker = Process(env, "worker")
    try:
        assert wait_for(lambda: get(f"{base}/healthz")[0] == 200, 90), web.lines
        assert wait_for(lambda: rows({"INSTANCE_PATH": str(instance)},
                                     "SELECT count(*) FROM articles")[0][0] > 0, 90), worker.lines
        visitor = browser()
        token = csrf(visitor.open(f"{base}/subscribe", timeout=30).read().decode())
        form = {"csrf_token": token, "channel": "email", "email": "reader@example.org",
                "rules": "zhuanyezhen", "frequency": "instant"}
        visitor.open(f"{base}/subscribe", data=urllib.parse.urlencode(form).encode(), timeout=30)
        assert wait_for(lambda: recorder.received("reader@example.org"), 60), web.lines
        mail = email.message_from_bytes(recorder.received("reader@example.org")[0].data,
                                        policy=policy.default)
        link = re.search(r"/confirm/[\w.-]+", mail.get_body(("plain",)).get_content()).group(0)
        page = visitor.open(base + link, timeout=30).read().decode()
        visitor.open(base + link, data=urllib.parse.urlencode({"csrf_token": csrf(page)}).encode(),
                     timeout=30)
        assert wait_for(lambda: len(recorder.received("reader@example.org")) == 2, 60), \
            worker.lines
        alert = email.message_from_bytes(recorder.received("reader@example.org")[1].data,
                                         policy=policy.default)
        assert "专业镇" in str(alert["Subject"])
    finally:
        worker_code = worker.stop()
        web.stop()
        relay.stop()
    assert worker_code == 0, worker.lines
    assert "Traceback" not in "".join(worker.lines + web.lines)


def test_a_relay_that_holds_every_mail_does_not_hold_the_web_app(tmp_path, instance):
    recorder = HoldingRecorder()
    relay = start_relay(recorder)
    port = free_port()
    env = web_env(instance, relay.port, port)
    write_sources(instance, [source("drop", path=str(tmp_path), schedule='"0 3 * * *"')])
    base = f"http://127.0.0.1:{port}"
    web = Process(env, "serve", "--port", str(port), "--threads", "4")
    try:
        assert wait_for(lambda: get(f"{base}/healthz")[0] == 200, 90), web.lines
        # The relay holds every mail until released (or a minute): an answer that waited on
        # its mail would come only after a message got through. So the order proves it, not a
        # clock: all ten answered, and /healthz, while no mail has been delivered. How fast
        # they answer is bench/slow_relay.py's figure (`make bench`). The joins' limit is a hang
        # guard only.
        posts: list[str] = []
        signing = [threading.Thread(target=lambda n=n: posts.append(
            sign_up(base, f"reader{n}@example.org"))) for n in range(10)]
        for thread in signing:
            thread.start()
        guard = time.monotonic() + 300
        for thread in signing:
            thread.join(timeout=max(0.0, guard - time.monotonic()))
        assert len(posts) == 10, posts  # all answered
        assert recorder.messages == []  # ... with no mail through: none waited on its mail
        assert wait_for(lambda: recorder.held == 10, 60), recorder.held  # ten mails held
        assert all(browser().open(f"{base}/healthz", timeout=120).status == 200 for _ in range(5))
        assert recorder.messages == []  # answered while the ten were held
        recorder.release.set()
        assert wait_for(lambda: len(recorder.messages) == 10, 60), len(recorder.messages)
        assert wait_for(lambda: rows({"INSTANCE_PATH": str(instance)},
                                     "SELECT status, count(*) FROM notices GROUP BY status")
                        == [("sent", 10)], 30)
    finally:
        recorder.release.set()
        web.stop()
        relay.stop()
