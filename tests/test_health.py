"""Readiness (tracker.ops.health, /readyz, `tracker health`): the worker alive by its process and
its heartbeat, each source's last good run, deliveries, the relay — told truly after a SIGKILL."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from test_worker import wait_for
from tracker.ops.health import readiness, worker_state
from tracker.store import connect
from tracker.store.locks import acquire

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def db(tmp_path, fresh_archive):
    (tmp_path / "instance").mkdir()
    database = connect(fresh_archive(tmp_path / "instance" / "tracker.db"))
    yield database
    database.conn.close()


def dead_pid() -> int:
    """The pid of a process that ran here and has ended."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(done.stdout)


@pytest.mark.parametrize("holder, age, alive, problem", [
    (None, 0, False, "no worker holds the lock"),
    ("self", 0, True, None),
    ("self", 59, True, None),  # one missed heartbeat is forgiven
    ("self", 61, False, "no heartbeat for 61 s"),
    ("dead", 0, False, "is gone"),  # SIGKILLed: a fresh heartbeat, no process
    ("elsewhere:1", 0, True, None),  # another host: the heartbeat alone tells
    ("elsewhere:1", 300, False, "no heartbeat"),
])
def test_worker_state(db, holder, age, alive, problem):
    now = datetime.now(timezone.utc)
    if holder is not None:
        name = {"self": f"{socket.gethostname()}:{os.getpid()}",
                "dead": f"{socket.gethostname()}:{dead_pid()}"}.get(holder, holder)
        assert acquire(db, "worker", name) is None
        db.execute("UPDATE locks SET heartbeat_at = ?", [(now - timedelta(seconds=age)).isoformat()])
        db.conn.commit()
    state = worker_state(db, heartbeat=30, now=now)
    assert state.alive is alive
    assert (problem is None and state.problem is None) or problem in state.problem


def test_readiness_reads_sources_deliveries_and_the_relay(db, smtp):
    from tracker.store.runs import finish_run, start_run

    finish_run(db, start_run(db, "good"), status="ok", error=None, fetched=1, new_articles=1,
               hits=0)
    finish_run(db, start_run(db, "bad"), status="error", error="HTTP 500", fetched=0,
               new_articles=0, hits=0)
    assert acquire(db, "worker", f"{socket.gethostname()}:{os.getpid()}") is None
    up = readiness(db, ("127.0.0.1", smtp.port))
    assert up.ready and up.relay == "ok"
    assert {s["id"]: s["failing"] for s in up.sources} == {"bad": True, "good": False}
    assert up.status == "degraded"  # a source fails
    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    down = readiness(db, ("127.0.0.1", closed))
    assert down.ready and down.relay.startswith(f"127.0.0.1:{closed}")
    assert down.deliveries == {"pending": 0, "failing": 0, "dead": 0}


def test_readyz_and_tracker_health_after_a_sigkill(app, client, tmp_path):
    instance = Path(app.config["INSTANCE_PATH"])
    (instance / "sources.yaml").write_text("sources: []\n", encoding="utf-8")
    assert client.get("/readyz").status_code == 503  # no worker yet
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")},
           "TRACKER_INSTANCE": str(instance), "TRACKER_RULES": str(REPO / "rules")}
    worker = subprocess.Popen([sys.executable, "-m", "tracker", "worker"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: client.get("/readyz").status_code == 200, 60)
        answer = client.get("/readyz").get_json()
        assert answer["worker"]["alive"] and answer["relay"] == "none"
        health = subprocess.run([sys.executable, "-m", "tracker", "health"], env=env,
                                capture_output=True, text=True, timeout=60)
        assert health.returncode == 0 and "worker: alive" in health.stdout
        worker.kill()
        worker.wait(timeout=30)
        down = client.get("/readyz")
        assert down.status_code == 503 and "is gone" in down.get_json()["worker"]["problem"]
        assert client.get("/healthz").status_code == 200  # liveness: the web app itself
        health = subprocess.run([sys.executable, "-m", "tracker", "health"], env=env,
                                capture_output=True, text=True, timeout=60)
        assert health.returncode == 1 and "worker: DOWN" in health.stdout
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=30)
