"""`tracker worker` as production runs it: the long-running command (not --once) started as a
process on a fresh instance, with an aiosmtpd relay on loopback. The first run is fired by
APScheduler itself (TRACKER_FETCH_AT_START gives each source job a first run time of now); a
source added to sources.yaml while the worker runs is fetched at once, then on its own cron
schedule."""

from __future__ import annotations

import email
import os
import shutil
import signal
import subprocess
import sys
import threading
from email import policy
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from smtp_loopback import LoopbackController, Recorder
from test_worker import REPO, rows, source, wait_for, write_sources

PAGES = REPO / "tracker/demo/pages"


def environment(instance: Path, smtp_port: int, **extra: str) -> dict[str, str]:
    env = {**os.environ, "TRACKER_INSTANCE": str(instance), "TRACKER_RULES": str(REPO / "rules"),
           "TRACKER_FOLDER_SETTLE_SECONDS": "0", "TRACKER_SMTP_HOST": "127.0.0.1",
           "TRACKER_SMTP_PORT": str(smtp_port), "TRACKER_SMTP_SECURITY": "none",
           "TRACKER_FETCH_AT_START": "1", "TRACKER_DELIVERY_INTERVAL": "2",
           "TRACKER_SOURCES_RELOAD_SECONDS": "1", **extra}
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        env.pop(name, None)
    return env


class Process:
    """A `tracker` command running apart, its log lines collected as they come."""

    def __init__(self, env: dict[str, str], *args: str):
        self.proc = subprocess.Popen([sys.executable, "-m", "tracker", *args], env=env, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=lambda: self.lines.extend(self.proc.stdout),
                                       daemon=True)
        self.reader.start()

    def saw(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=60)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(timeout=30)
        self.reader.join(timeout=10)
        return code


@pytest.fixture
def relay():
    recorder = Recorder()
    controller = LoopbackController(recorder, hostname="127.0.0.1", port=0, ready_timeout=10,
                                    auth_require_tls=False)
    controller.start()
    yield controller.port, recorder
    controller.stop()


def config_of(instance: Path) -> dict:
    return {"INSTANCE_PATH": str(instance)}


def subscribe(env: dict[str, str], address: str) -> None:
    done = subprocess.run([sys.executable, "-m", "tracker", "subscribe", "--email", address,
                           "--rules", "zhuanyezhen", "--confirmed"], env=env, text=True,
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr


def drop_folder(base: Path, name: str, page: str, *, dated_today: bool = False) -> Path:
    """A drop folder holding one of the demo pages; `dated_today`: renamed to today's issue
    (Shanghai date), as a subscriber's first alert holds the issues of the last days only."""
    folder = base / name
    folder.mkdir()
    target = folder
    if dated_today:
        today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
        target = folder / (today + page[len("2025-04-09"):])
    shutil.copy(PAGES / page, target)
    return folder


def test_the_long_running_worker_stores_alerts_and_picks_up_a_new_source(tmp_path, instance,
                                                                         relay):
    port, recorder = relay
    env = environment(instance, port)
    first = drop_folder(tmp_path, "first", "2025-04-09_demo-daily_p1.txt")
    write_sources(instance, [source("first", path=str(first), schedule='"0 3 * * *"')])
    subscribe(env, "reader@example.org")  # a fresh instance: the CLI made the database
    worker = Process(env, "worker")
    try:
        assert wait_for(lambda: rows(config_of(instance), "SELECT count(*) FROM articles "
                                     "WHERE source_id = 'first'")[0][0] > 0, 90), worker.lines
        assert wait_for(lambda: recorder.received("reader@example.org"), 90), worker.lines
        alert = email.message_from_bytes(recorder.received("reader@example.org")[0].data,
                                         policy=policy.default)
        assert "专业镇" in str(alert["Subject"])

        # A source added while the worker runs: registered and fetched at once, not only by
        # --once and not only at its next scheduled time (03:00); the first one is not
        # fetched again by the change.
        second = drop_folder(tmp_path, "second", "2025-04-11_demo-review_p2.txt")
        write_sources(instance, [source("first", path=str(first), schedule='"0 3 * * *"'),
                                 source("second", path=str(second), schedule='"0 3 * * *"')])
        assert wait_for(lambda: rows(config_of(instance), "SELECT count(*) FROM articles "
                                     "WHERE source_id = 'second'")[0][0] > 0, 90), worker.lines
        assert worker.saw("source second added: fetched now")
        assert not worker.saw("source first added")
    finally:
        code = worker.stop()
    assert code == 0, worker.lines
    text = "".join(worker.lines)
    assert "FOREIGN KEY" not in text and "Traceback" not in text, text
    assert "executed successfully" not in text and "Running job" not in text  # quiet logs
    assert worker.saw("source first: ok") and worker.saw("source second: ok")
    assert sum("source first: ok" in line for line in worker.lines) == 1  # the change ran no other
    assert worker.saw("deliveries: 1 sent")
    sent = rows(config_of(instance), "SELECT message_id FROM deliveries WHERE status = 'sent'")
    got = [email.message_from_bytes(m.data, policy=policy.default)["Message-ID"]
           for m in recorder.received("reader@example.org")]
    assert sorted(got) == sorted(m for m, in sent) and len(set(got)) == len(got)  # each once


def test_a_stop_while_the_worker_starts_is_obeyed(tmp_path, instance, relay):
    """SIGTERM while the rules load or the schedule is being made (Ctrl-C right after
    `make run`): the worker stops cleanly, exit 0, instead of dying or never stopping."""
    port, _ = relay
    env = environment(instance, port)
    folder = drop_folder(tmp_path, "drop", "2025-04-09_demo-daily_p1.txt")
    write_sources(instance, [source("drop", path=str(folder), schedule='"0 3 * * *"')])
    worker = Process(env, "worker")
    try:
        assert wait_for(lambda: worker.saw("rules loaded"), 60), worker.lines
    finally:
        code = worker.stop()  # SIGTERM before or as the scheduler starts; killed after 60 s
    assert code == 0, worker.lines
    assert worker.saw("worker stopped")
