"""The worker process: a lock in the database, then one cycle (`--once`) or APScheduler with each
source on its own cron schedule until SIGTERM."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from pathlib import Path
from typing import Any, Callable, Mapping
from zoneinfo import ZoneInfo

from tracker.config import instance_file
from tracker.matching import Matcher
from tracker.sources.catalog import Source, SourcesError, load_sources
from tracker.store import connect
from tracker.store.locks import acquire, heartbeat, release
from tracker.worker.cycle import SourceReport, run_cycle, run_source
from tracker.worker.rulebook import RuleBook

log = logging.getLogger("tracker.worker")
LOCK = "worker"
HEARTBEAT_SECONDS = 30
EXIT_LOCKED = 3


class Worker:
    """What the worker knows: its database, its sources, its rules."""

    def __init__(self, config: Mapping[str, Any]):
        self.config = config
        self.db_path = instance_file(config, "DATABASE")
        self.sources_path = instance_file(config, "SOURCES")
        self.rulebook = RuleBook(config["RULES"])
        self.holder = f"{socket.gethostname()}:{os.getpid()}"

    def sources(self) -> list[Source]:
        return load_sources(self.sources_path)

    def matcher(self) -> Matcher:
        """The current rules' matcher, active subscribers' own keywords included; with no good
        rules ever, articles are still archived."""
        from tracker.store.personal import active_keywords
        from tracker.worker.rulebook import adopt_personal_files

        db = connect(self.db_path)
        try:
            adopt_personal_files(db, self.rulebook.path)
            personal = active_keywords(db)
        finally:
            db.conn.close()
        return self.rulebook.refresh(personal) or Matcher([])

    def once(self, on_done: Callable[[SourceReport], None] | None = None) -> list[SourceReport]:
        """One cycle: every source, then the alerts that became due."""
        reports = run_cycle(self.db_path, self.config, self.sources(), self.matcher(),
                            on_done=on_done)
        self.deliver()
        return reports

    def deliver(self) -> None:
        from tracker.alerts.deliver import deliver

        db = connect(self.db_path)
        try:
            deliver(db, self.config)
        finally:
            db.conn.close()

    def recover(self) -> None:
        """Deliveries a dead worker left half-sent are due again (call holding the lock)."""
        from tracker.alerts.deliver import recover

        db = connect(self.db_path)
        try:
            if count := recover(db):
                log.warning("%d deliveries were interrupted by a stopped worker: sending again",
                            count)
        finally:
            db.conn.close()

    def run_one(self, source: Source) -> None:
        run_source(self.db_path, source, self.config, self.matcher())


def holder_gone(holder: str) -> bool:
    """Whether a lock holder (host:pid) was a process on this host that no longer runs — a worker
    killed with SIGKILL leaves its lock behind, and its restart should not wait for it to go stale."""
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


def locked(worker: Worker, body: Callable[[], int]) -> int:
    """Run `body` holding the worker lock (kept alive by a heartbeat thread); refuse with
    EXIT_LOCKED while another worker holds it."""
    db = connect(worker.db_path)
    taken = acquire(db, LOCK, worker.holder, gone=holder_gone)
    if taken:
        log.error("another worker is running: %s; not starting a second one", taken)
        db.conn.close()
        return EXIT_LOCKED
    stop = threading.Event()

    def beat() -> None:
        beat_db = connect(worker.db_path)
        while not stop.wait(HEARTBEAT_SECONDS):
            if not heartbeat(beat_db, LOCK, worker.holder):
                log.error("the worker lock was taken over by another worker")
        beat_db.conn.close()

    beating = threading.Thread(target=beat, name="lock-heartbeat", daemon=True)
    beating.start()
    try:
        worker.recover()
        return body()
    finally:
        stop.set()
        beating.join(timeout=10)
        release(db, LOCK, worker.holder)
        db.conn.close()


def schedule(worker: Worker) -> int:
    """Every source on its own schedule until SIGTERM or SIGINT; sources.yaml re-read on change."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = BlockingScheduler(job_defaults={"coalesce": True, "max_instances": 1,
                                                "misfire_grace_time": 3600})
    state = {"sources": None}

    def plan() -> None:
        """(Re)schedule the sources when sources.yaml changed and is sound."""
        try:
            stamp = Path(worker.sources_path).stat().st_mtime_ns
            if stamp == state["sources"]:
                return
            sources = worker.sources()
        except (OSError, SourcesError) as err:
            log.error("sources file %s cannot be used, keeping the schedule: %s",
                      worker.sources_path, err)
            return
        state["sources"] = stamp
        for job in scheduler.get_jobs():
            if job.id.startswith("source:"):
                job.remove()
        for source in sources:
            if source.enabled:
                trigger = _cron(source.schedule, source.timezone)
                scheduler.add_job(worker.run_one, trigger, args=[source],
                                  id=f"source:{source.id}", name=f"fetch {source.id}")
        log.info("scheduled %d sources from %s", sum(s.enabled for s in sources),
                 worker.sources_path)

    plan()
    scheduler.add_job(plan, "interval", seconds=60, id="plan", name="re-read sources.yaml")
    scheduler.add_job(worker.deliver, "interval",
                      seconds=float(worker.config.get("DELIVERY_INTERVAL", 60)), id="deliver",
                      name="send due alerts")
    scheduler.add_job(worker.matcher, "interval", seconds=60, id="rules",
                      name="re-read the rules")

    def stop(signum: int, _frame: Any) -> None:
        log.info("signal %d: stopping after the jobs under way", signum)
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("worker %s started", worker.holder)
    scheduler.start()
    log.info("worker stopped")
    return 0


def _cron(expression: str, zone: str):
    from apscheduler.triggers.cron import CronTrigger

    return CronTrigger.from_crontab(expression, timezone=ZoneInfo(zone))
