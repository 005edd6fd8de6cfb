"""Readiness: whether the service is doing its work, not only whether the web app answers.

/healthz says the web app lives (liveness). This says what an operator needs to know that it
works: the worker alive (its lock's heartbeat fresh, and — on the worker's own host — its
process still running: a SIGKILLed worker leaves a fresh heartbeat behind for a while), each
source's last good run, deliveries waiting and failing, and whether the mail relay accepts a
connection. `/readyz` and `tracker health` show it; the compose healthchecks use it.
"""

from __future__ import annotations

import os
import socket
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

from sqlite_utils import Database

from tracker.store.deliveries import status_counts
from tracker.store.health import source_health
from tracker.store.locks import HEARTBEAT_SECONDS

WORKER_LOCK = "worker"


def holder_gone(holder: str) -> bool:
    """Whether a lock holder (host:pid) was a process on this host that no longer runs — a
    worker killed with SIGKILL leaves its lock behind."""
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, someone else's
        return False
    return False


@dataclass(frozen=True)
class WorkerState:
    alive: bool
    holder: str | None = None
    heartbeat_age: float | None = None  # seconds since the last heartbeat
    problem: str | None = None  # why it is not alive


def worker_state(db: Database, heartbeat: float = HEARTBEAT_SECONDS,
                 now: datetime | None = None) -> WorkerState:
    """Whether a worker holds the lock and lives: its process runs (when it is on this host)
    and its heartbeat is at most two intervals old (one missed beat is forgiven)."""
    row = db.execute("SELECT holder, heartbeat_at FROM locks WHERE name = ?",
                     [WORKER_LOCK]).fetchone()
    if row is None:
        return WorkerState(False, problem="no worker holds the lock")
    holder, beat = row
    age = ((now or datetime.now(timezone.utc)) - datetime.fromisoformat(beat)).total_seconds()
    if holder_gone(holder):
        return WorkerState(False, holder, age, f"the worker process {holder} is gone")
    if age > 2 * heartbeat:
        return WorkerState(False, holder, age, f"no heartbeat for {age:.0f} s")
    return WorkerState(True, holder, age)


def relay_reachable(relay: tuple[str, int] | None, timeout: float = 3.0) -> str | None:
    """None when the relay accepts a TCP connection (or there is none: the development
    mailbox), else why not."""
    if relay is None:
        return None
    try:
        with socket.create_connection(relay, timeout=timeout):
            return None
    except OSError as err:
        return f"{relay[0]}:{relay[1]}: {err.strerror or err}"


@dataclass(frozen=True)
class Readiness:
    worker: WorkerState
    sources: list[dict] = field(default_factory=list)  # id, last_success, last_status, failing
    deliveries: dict[str, int] = field(default_factory=dict)  # pending, failing, dead
    relay: str = "none"  # ok | none (development mailbox) | why it cannot be reached

    @property
    def ready(self) -> bool:
        """Alerts are being made and sent: the worker lives. (A relay that is down makes the
        service degraded, not dead: deliveries wait and are retried.)"""
        return self.worker.alive

    @property
    def status(self) -> str:
        if not self.ready:
            return "down"
        degraded = self.relay not in ("ok", "none") or self.deliveries.get("failing") or \
            any(s["failing"] for s in self.sources)
        return "degraded" if degraded else "ok"

    def as_dict(self) -> dict:
        return {"status": self.status, "worker": asdict(self.worker), "sources": self.sources,
                "deliveries": self.deliveries, "relay": self.relay}


def readiness(db: Database, relay: tuple[str, int] | None = None,
              heartbeat: float = HEARTBEAT_SECONDS, probe_relay: bool = True) -> Readiness:
    """Everything above, read now."""
    counts = status_counts(db)
    sources = [{"id": s.source_id, "last_success": s.last_success, "last_status": s.last_status,
                "failing": s.failing} for s in source_health(db)]
    problem = relay_reachable(relay) if probe_relay else None
    return Readiness(
        worker_state(db, heartbeat), sources,
        {"pending": counts["pending"] + counts["sending"], "failing": counts["failed"],
         "dead": counts["dead"]},
        "none" if relay is None else ("ok" if problem is None else problem))
