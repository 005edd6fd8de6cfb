"""SIGKILL in the middle of a batch of 30 mails: what the relay had accepted (250) is recorded
at once and never sent again; only the messages in flight (the relay kept them but had not
answered) go again, with their own Message-ID. Against a relay with and without PIPELINING."""

from __future__ import annotations

import asyncio
import email
import shutil
import socket
import time
from collections import Counter
from email import policy
from pathlib import Path

import pytest
from smtp_loopback import LoopbackController, Recorder
from test_worker import REPO, rows, source, wait_for, write_sources
from test_worker_deployed import Process, environment
from tracker.alerts.subscribe import subscribe
from tracker.config import load_config
from tracker.store import connect

READERS = [f"reader{n:02d}@example.org" for n in range(30)]


class SlowAfter(Recorder):
    """Accepts the first `quick` messages at once; each later one is kept, but its 250 waits
    for `release` (a relay slowing down under load)."""

    quick = 5
    held = 0

    async def handle_DATA(self, server, session, envelope):
        reply = await super().handle_DATA(server, session, envelope)
        if len(self.messages) > self.quick:
            self.held += 1
            deadline = time.monotonic() + 60
            while not self.release.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
        return reply


def dead_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return probe.getsockname()[1]


@pytest.mark.parametrize("pipelining", [False, True], ids=["plain", "pipelining"])
def test_sigkill_mid_batch_resends_only_what_was_in_flight(tmp_path, pipelining):
    instance = tmp_path / "instance"
    instance.mkdir()
    drop = tmp_path / "drop"
    drop.mkdir()
    shutil.copy(REPO / "tracker/demo/pages/2025-04-09_demo-daily_p1.txt", drop)
    write_sources(instance, [source("drop", path=str(drop))])
    config = load_config({"INSTANCE_PATH": str(instance), "RULES": str(REPO / "rules")}, environ={})
    db = connect(Path(instance) / "tracker.db")
    for address in READERS:
        subscribe(db, config, "email", address, ["zhuanyezhen"], ["zhuanyezhen"], "instant",
                  confirmed=True, admin=True)
    first = Process(environment(instance, dead_port(), TRACKER_RETRY_DELAYS="0"), "worker", "--once")
    first.proc.wait(timeout=120)  # stored and formed; every send failed (nobody listens)
    assert rows(config, "SELECT status, count(*) FROM deliveries GROUP BY status") == [("failed", 30)]

    recorder = SlowAfter(pipelining=pipelining)
    relay = LoopbackController(recorder, hostname="127.0.0.1", port=0, ready_timeout=10,
                               auth_require_tls=False)
    relay.start()
    try:
        env = environment(instance, relay.port, TRACKER_RETRY_DELAYS="0")
        sending = Process(env, "deliver")
        sent = lambda: rows(config, "SELECT count(*) FROM deliveries WHERE status = 'sent'")[0][0]  # noqa: E731
        assert wait_for(lambda: sent() == 5 and recorder.held == 4, 60), (sent(), recorder.held)
        sending.proc.kill()  # SIGKILL: 5 accepted and recorded, 4 kept by the relay unanswered
        sending.proc.wait(timeout=30)
        recorder.release.set()
        again = Process(env, "deliver")
        assert again.proc.wait(timeout=120) == 0, again.lines
    finally:
        recorder.release.set()
        relay.stop()
    per_reader = Counter(m.rcpt_tos[0] for m in recorder.messages)
    assert set(per_reader) == set(READERS)  # every alert arrived
    duplicates = sum(n - 1 for n in per_reader.values())
    assert duplicates == 4, per_reader  # only the four in flight (was: the five accepted, too)
    for reader in per_reader:
        ids = {email.message_from_bytes(m.data, policy=policy.default)["Message-ID"]
               for m in recorder.messages if m.rcpt_tos == [reader]}
        assert len(ids) == 1  # a resent message keeps its Message-ID: the receiver can tell
    assert rows(config, "SELECT status, count(*) FROM deliveries GROUP BY status") == [("sent", 30)]
