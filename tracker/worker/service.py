"""The worker process: a lock in the database, then one cycle (`--once`) or APScheduler with each
source on its own cron schedule until SIGTERM. The lock is kept by a heartbeat; a worker that
loses it stops at once (two senders side by side would send alerts twice), and a stop lets the
jobs under way finish within a grace time before the lock is released."""

from __future__ import annotations

import logging
import os
import signal
import socket
import sqlite3
import threading
import time
from datetime import datetime, timezone
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Mapping
from zoneinfo import ZoneInfo

from tracker.config import cache_folder, flag, instance_file
from tracker.matching import Matcher
from tracker.sources.catalog import Source, SourcesError, load_sources
from tracker.store import connect
from tracker.ops.health import holder_gone
from tracker.store.locks import STALE_SECONDS, acquire, heartbeat, release
from tracker.worker.cycle import SourceReport, register, run_cycle, run_source
from tracker.worker.ingest import Counts
from tracker.worker.rulebook import InForce, RuleBook
from tracker import settings

log = logging.getLogger("tracker.worker")
LOCK = "worker"
RULES_RELOAD_SECONDS = 60  # how often the rule files are looked at for a change
EXIT_LOCKED = 3


class Worker:
    """What the worker knows: its database, its sources, its rules."""

    def __init__(self, config: Mapping[str, Any]):
        self.config = config
        self.db_path = instance_file(config, "DATABASE")
        self.sources_path = instance_file(config, "SOURCES")
        self.rulebook = RuleBook(config["RULES"], cache_folder(config))
        self.holder = f"{socket.gethostname()}:{os.getpid()}"
        self.lost = threading.Event()  # the lock is no longer ours: stop at once
        self.on_lost: Callable[[], None] = lambda: None
        self.abandoned = 0  # jobs still running when the worker gave up waiting for them

    def lose_lock(self) -> None:
        self.lost.set()
        self.on_lost()

    def sources(self) -> list[Source]:
        return load_sources(self.sources_path)

    def in_force(self) -> InForce:
        """The rules in force now, active subscribers' own keywords included: read again when
        their files changed, waited for while another thread reads them (RuleBook.refresh).
        With no good rules ever, articles are still archived, and matched once rules arrive."""
        from tracker.store.personal import active_keywords

        db = connect(self.db_path)
        try:
            personal = active_keywords(db)
        finally:
            db.conn.close()
        return self.rulebook.refresh(personal)

    def matcher(self) -> Matcher:
        """The matcher of the rules in force (in_force)."""
        return self.in_force().matcher

    def rematch(self) -> Counts:
        """The rules in force, then the recent articles kept under other rules matched again
        with them and their alerts queued (tracker.worker.rematch)."""
        from tracker.worker.rematch import rematch

        rules = self.in_force()
        db = connect(self.db_path)
        try:
            return rematch(db, rules, float(settings.value(self.config, "REMATCH_DAYS")))
        finally:
            db.conn.close()

    def once(self, on_done: Callable[[SourceReport], None] | None = None) -> list[SourceReport]:
        """One cycle: articles kept under other rules matched again, every source, then the
        alerts that became due."""
        self.rematch()
        rules = self.in_force()
        reports = run_cycle(self.db_path, self.config, self.sources(), rules.matcher,
                            on_done=on_done, digest=rules.digest)
        self.deliver()
        return reports

    def deliver(self) -> Counter:
        """The alerts that are due, then the notices (confirmation mails) still waiting; the
        alerts' outcomes. Called holding the lock, one run at a time: a delivery still `sending`
        now was left by a run that failed half-way, and is due again."""
        from tracker.alerts.admin import send_admin_notices
        from tracker.alerts.deliver import deliver, recover
        from tracker.alerts.notices import send_notices

        db = connect(self.db_path)
        try:
            if count := recover(db):
                log.warning("%d deliveries left half-sent by an earlier run: sending again", count)
            outcome = deliver(db, self.config)
            send_notices(db, self.config)
            send_admin_notices(db, self.config)  # source health (tracker.alerts.admin)
            return outcome
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

    def run_one(self, source: Source) -> SourceReport:
        """The scheduled job of one source: registered in the database first (a source added to
        sources.yaml while the worker runs has no row yet), then fetched, matched and stored."""
        register(self.db_path, [source])
        rules = self.in_force()
        return run_source(self.db_path, source, self.config, rules.matcher, digest=rules.digest)


def locked(worker: Worker, body: Callable[[], int]) -> int:
    """Run `body` holding the worker lock (kept alive by a heartbeat thread); refuse with
    EXIT_LOCKED while another process holds it. A heartbeat that finds the lock no longer ours
    (or cannot be written for so long that the lock may look stale) stops the worker at once:
    two senders side by side would send alerts twice."""
    db = connect(worker.db_path)
    taken = acquire(db, LOCK, worker.holder, gone=holder_gone)
    if taken:
        log.error("another worker is running: %s; not starting a second one", taken)
        db.conn.close()
        return EXIT_LOCKED
    stop = threading.Event()
    every = float(settings.value(worker.config, "LOCK_HEARTBEAT_SECONDS"))

    def beat() -> None:
        beat_db = connect(worker.db_path, migrate=False)
        last_ok = time.monotonic()
        while not stop.wait(every):
            try:
                ours = heartbeat(beat_db, LOCK, worker.holder)
            except sqlite3.Error as err:
                if time.monotonic() - last_ok < STALE_SECONDS - 2 * every:
                    log.warning("the worker lock heartbeat failed (%s); trying again", err)
                    continue
                ours, why = False, f"the heartbeat could not be written since {every:g} s ({err})"
            else:
                why = "another process holds it now"
            if ours:
                last_ok = time.monotonic()
                continue
            log.error("lost the worker lock (%s): stopping now, not running beside another "
                      "worker", why)
            worker.lose_lock()
            break
        beat_db.conn.close()

    beating = threading.Thread(target=beat, name="lock-heartbeat", daemon=True)
    beating.start()
    try:
        worker.recover()
        code = body()
    finally:
        stop.set()
        beating.join(timeout=10)
        release(db, LOCK, worker.holder)
        db.conn.close()
    if worker.lost.is_set():
        code = EXIT_LOCKED
    if worker.abandoned:  # jobs past the grace time: their threads would hold the exit
        log.error("%d jobs still running after the grace time; exiting without them",
                  worker.abandoned)
        logging.shutdown()
        os._exit(code)
    return code


class Jobs:
    """The jobs under way, so that a stop can wait for them (within a bound)."""

    def __init__(self) -> None:
        self.running = 0
        self.changed = threading.Condition()

    def wrap(self, name: str, job: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any) -> Any:
            with self.changed:
                self.running += 1
            try:
                return job(*args)
            except Exception:  # noqa: BLE001 - logged with its name; the schedule goes on
                log.exception("%s failed", name)
                return None
            finally:
                with self.changed:
                    self.running -= 1
                    self.changed.notify_all()
        return run

    def wait(self, timeout: float) -> int:
        """Wait until no job runs or `timeout` passes; how many still run."""
        with self.changed:
            self.changed.wait_for(lambda: self.running == 0, timeout=timeout)
            return self.running


class Nudge:
    """Delivery moved to "now" after a source brought alerts, without colliding with itself: a
    nudge while a delivery runs is remembered (one at most) and that delivery runs once more,
    instead of a second instance refused by the scheduler."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = False
        self._again = False

    def ask(self) -> bool:
        """Whether the caller should move the job to now (no delivery running); else the
        running one goes round again."""
        with self._lock:
            if self._running:
                self._again = True
                return False
            return True

    def run(self, deliver: Callable[[], Any]) -> Callable[[], None]:
        """The delivery job: `deliver`, again while nudges came in meanwhile."""
        def job() -> None:
            with self._lock:
                self._running, self._again = True, False
            try:
                while True:
                    deliver()
                    with self._lock:
                        if not self._again:
                            break
                        self._again = False
            finally:
                with self._lock:
                    self._running = False
        return job


def schedule(worker: Worker) -> int:
    """Every source on its own schedule until SIGTERM or SIGINT (or the lock is lost);
    sources.yaml re-read on change (SOURCES_RELOAD_SECONDS). With FETCH_AT_START every source is
    fetched once at start, then on its schedule; a source added while it runs is fetched at
    once. On a stop, jobs under way get STOP_GRACE_SECONDS to finish before the lock is
    released."""
    from apscheduler.schedulers.blocking import BlockingScheduler
    from apscheduler.jobstores.base import JobLookupError
    from apscheduler.schedulers.base import SchedulerNotRunningError

    scheduler = BlockingScheduler(job_defaults={"coalesce": True, "max_instances": 1,
                                                "misfire_grace_time": 3600})
    jobs = Jobs()
    state: dict[str, Any] = {"sources": None, "started": False}
    at_start = flag(settings.value(worker.config, "FETCH_AT_START"))

    nudge = Nudge()

    def fetch(source: Source) -> None:
        report = worker.run_one(source)
        if (report.counts.due or report.health) and scheduler.running and nudge.ask():
            try:  # instant alerts (and the admin's source-health notices) now, not at the interval
                scheduler.modify_job("deliver", next_run_time=datetime.now(timezone.utc))
            except JobLookupError:  # stopping: the job is gone
                pass

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
        register(worker.db_path, sources)
        state["sources"] = stamp
        scheduled = set()  # the sources on the schedule until now
        for job in scheduler.get_jobs():
            if job.id.startswith("source:"):
                scheduled.add(job.id.removeprefix("source:"))
                job.remove()
        now = {"next_run_time": datetime.now(timezone.utc)}
        for source in sources:
            if not source.enabled:
                continue
            # At start only with FETCH_AT_START; a source added while the worker runs is
            # fetched at once (its admin is waiting to see it work), then on its schedule.
            added = state["started"] and source.id not in scheduled
            first = now if (at_start and not state["started"]) or added else {}
            try:  # sources.yaml was checked; a schedule refused anyway stays with its source
                trigger = _cron(source.schedule, source.timezone)
            except ValueError as err:
                log.error("source %s: schedule %r cannot be used (%s); not scheduled",
                          source.id, source.schedule, err)
                continue
            scheduler.add_job(jobs.wrap(f"source {source.id}", fetch), trigger,
                              args=[source], id=f"source:{source.id}",
                              name=f"fetch {source.id}", **first)
            if added:
                log.info("source %s added: fetched now, then on its schedule %r",
                         source.id, source.schedule)
        state["started"] = True
        log.info("scheduled %d sources from %s", sum(s.enabled for s in sources),
                 worker.sources_path)

    stopping = threading.Event()

    def halt() -> None:
        try:
            scheduler.shutdown(wait=False)
        except SchedulerNotRunningError:
            pass

    def stop(signum: int, _frame: Any) -> None:
        log.info("signal %d: stopping after the jobs under way", signum)
        stopping.set()
        halt()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:  # the rules in force before any source runs, and what was kept without them
        worker.rematch()
    except Exception:  # noqa: BLE001 - logged; the rules job tries again every minute
        log.exception("matching again the articles kept under other rules failed")
    plan()
    scheduler.add_job(jobs.wrap("re-reading sources.yaml", plan), "interval",
                      seconds=float(settings.value(worker.config, "SOURCES_RELOAD_SECONDS")), id="plan",
                      name="re-read sources.yaml")
    scheduler.add_job(jobs.wrap("sending alerts", nudge.run(worker.deliver)), "interval",
                      seconds=float(settings.value(worker.config, "DELIVERY_INTERVAL")), id="deliver",
                      name="send due alerts")
    scheduler.add_job(jobs.wrap("re-reading the rules", worker.rematch), "interval",
                      seconds=RULES_RELOAD_SECONDS, id="rules", name="re-read the rules")

    worker.on_lost = halt
    # A stop asked for before the scheduler runs (a signal while the rules load, or in the
    # instant before start()) is kept and obeyed by the first job: never lost.
    scheduler.add_job(lambda: halt() if stopping.is_set() else None, id="stop-if-asked",
                      name="stop if asked before the start")
    log.info("worker %s started", worker.holder)
    if not worker.lost.is_set() and not stopping.is_set():
        scheduler.start()
    grace = 0.0 if worker.lost.is_set() else float(settings.value(worker.config, "STOP_GRACE_SECONDS"))
    worker.abandoned = jobs.wait(grace)
    log.info("worker stopped")
    return EXIT_LOCKED if worker.lost.is_set() else 0


def _cron(expression: str, zone: str):
    from apscheduler.triggers.cron import CronTrigger

    return CronTrigger.from_crontab(expression, timezone=ZoneInfo(zone))
