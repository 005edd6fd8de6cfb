"""One sender at a time: `tracker deliver` takes the worker lock, a worker that loses its lock
stops at once, and SIGTERM lets the jobs under way finish (within a bound) before the lock goes."""

from __future__ import annotations

import signal
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path


from builders import as_rss
from loopback import respond
from test_worker import ITEMS, rows, source, wait_for, write_sources
from test_worker_deployed import Process, environment
from tracker.store import connect
from tracker.store.locks import acquire


def lock_holder(instance: Path) -> list[tuple]:
    return rows({"INSTANCE_PATH": str(instance)}, "SELECT holder FROM locks WHERE name = 'worker'")


def test_deliver_is_refused_while_a_worker_holds_the_lock(instance, tmp_path):
    write_sources(instance, [source("drop", path=str(tmp_path))])
    assert acquire(connect(instance / "tracker.db"), "worker", "another-host:1") is None
    deliver = Process(environment(instance, 9), "deliver")
    assert deliver.proc.wait(timeout=60) == 3
    deliver.reader.join(timeout=10)
    assert deliver.saw("another worker is running: another-host:1"), deliver.lines
    assert lock_holder(instance) == [("another-host:1",)]  # untouched


def test_deliver_holds_the_lock_and_gives_it_back(instance, tmp_path):
    write_sources(instance, [source("drop", path=str(tmp_path))])
    deliver = Process(environment(instance, 9), "deliver")
    assert deliver.proc.wait(timeout=60) == 0, deliver.lines
    deliver.reader.join(timeout=10)
    assert deliver.saw("nothing due") and lock_holder(instance) == []


def test_a_worker_whose_lock_is_taken_stops_at_once(instance, tmp_path):
    write_sources(instance, [source("drop", path=str(tmp_path), schedule='"0 3 * * *"')])
    worker = Process(environment(instance, 9, TRACKER_LOCK_HEARTBEAT_SECONDS="0.2"), "worker")
    try:
        assert wait_for(lambda: worker.saw("started"), 60), worker.lines
        db = connect(instance / "tracker.db")
        db.execute("UPDATE locks SET holder = 'other-host:7' WHERE name = 'worker'")
        assert worker.proc.wait(timeout=30) == 3
    finally:
        worker.stop()
    assert worker.saw("lost the worker lock"), worker.lines
    assert lock_holder(instance) == [("other-host:7",)]  # the other one's lock is left alone


def test_sigterm_lets_a_running_fetch_finish_then_releases_the_lock(instance, site):
    answer = threading.Event()
    asked = threading.Event()

    def slow_feed(handler: BaseHTTPRequestHandler) -> None:
        asked.set()
        answer.wait(60)
        respond(as_rss(ITEMS).encode(), "application/rss+xml")(handler)

    site.routes["/rss.xml"] = slow_feed
    write_sources(instance, [source("feed", url=f"{site.base}/rss.xml", schedule='"0 3 * * *"')])
    worker = Process(environment(instance, 9, TRACKER_HTTP_READ_TIMEOUT="60",
                                 TRACKER_HTTP_TOTAL_TIMEOUT="90"), "worker")
    try:
        assert asked.wait(60), worker.lines
        worker.proc.send_signal(signal.SIGTERM)
        assert wait_for(lambda: worker.saw("stopping after the jobs under way"), 30)
        assert worker.proc.poll() is None and lock_holder(instance)  # waits for the fetch
        answer.set()
        assert worker.proc.wait(timeout=60) == 0
    finally:
        answer.set()
        worker.stop()
    assert rows({"INSTANCE_PATH": str(instance)},
                "SELECT status, new_articles FROM runs WHERE source_id = 'feed'") == [("ok", 3)]
    assert lock_holder(instance) == []


def test_sigterm_waits_for_a_stuck_job_only_the_grace_time(instance, site):
    asked = threading.Event()

    def stuck(handler: BaseHTTPRequestHandler) -> None:
        asked.set()
        site.release.wait(60)

    site.routes["/rss.xml"] = stuck
    write_sources(instance, [source("feed", url=f"{site.base}/rss.xml", schedule='"0 3 * * *"')])
    worker = Process(environment(instance, 9, TRACKER_HTTP_READ_TIMEOUT="60",
                                 TRACKER_HTTP_TOTAL_TIMEOUT="90",
                                 TRACKER_STOP_GRACE_SECONDS="1"), "worker")
    try:
        assert asked.wait(60), worker.lines
        worker.proc.send_signal(signal.SIGTERM)
        assert worker.proc.wait(timeout=30) == 0
    finally:
        worker.stop()
    assert worker.saw("1 jobs still running after the grace time"), worker.lines
    assert lock_holder(instance) == []
