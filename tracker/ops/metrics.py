"""Prometheus metrics, read from the archive at scrape time.

The worker is another process: counters kept in the web app's memory would only count what the
web app did. So a custom collector runs a few aggregate queries on the database each time it is
scraped (they use the tables' indexes; a scrape costs milliseconds on a large archive).

    tracker_articles_total{source}                     articles in the archive, by source
    tracker_hits_total{rule}                           rule hits (article × rule), by rule
    tracker_deliveries{status,channel}                 deliveries now in each status
    tracker_source_errors_total{source}                fetch runs that ended in error
    tracker_last_run_timestamp_seconds{source}         when the source's last finished run ended
    tracker_cycle_duration_seconds{source}             how long that run took (finished - started)
    tracker_subscriptions{state}                       subscriptions in each state

Every known source (sources table or runs), delivery status × channel and subscription state is
reported, with 0 when there are none, so an alert can tell "none" from "no data".

Alerts worth having: `time() - tracker_last_run_timestamp_seconds > 3 * 3600` (a source stopped
being fetched), `increase(tracker_source_errors_total[1h]) > 3`, `tracker_deliveries{status="dead"}`
rising, `increase(tracker_articles_total[1d]) == 0` for a daily paper.
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlite_utils import Database

from tracker.store.deliveries import DELIVERY_STATUSES

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _seconds(stamp: str | None) -> float | None:
    if not stamp:
        return None
    try:
        return datetime.fromisoformat(stamp).timestamp()
    except ValueError:
        return None


class ArchiveCollector:
    """A prometheus_client collector over one open database."""

    def __init__(self, db: Database):
        self.db = db

    def describe(self) -> list[Metric]:
        return []  # registering must not query the database; collect() does that

    def _rows(self, sql: str) -> list[tuple]:
        return self.db.execute(sql).fetchall()

    def collect(self) -> Iterator[Metric]:
        from tracker.store.subscriptions import CHANNELS, STATES

        sources = {row[0] for row in self._rows(
            "SELECT id FROM sources UNION SELECT DISTINCT source_id FROM runs "
            "UNION SELECT DISTINCT source_id FROM articles") if row[0] is not None}

        articles = CounterMetricFamily("tracker_articles", "Articles in the archive.",
                                       labels=["source"])
        counts = dict(self._rows("SELECT source_id, COUNT(*) FROM articles GROUP BY source_id"))
        for source in sorted(sources):
            articles.add_metric([source], counts.get(source, 0))
        yield articles

        hits = CounterMetricFamily("tracker_hits", "Rule hits (one per article and rule).",
                                   labels=["rule"])
        for rule, count in self._rows("SELECT rule_id, COUNT(*) FROM hits GROUP BY rule_id "
                                      "ORDER BY rule_id"):
            hits.add_metric([rule or ""], count)
        yield hits

        deliveries = GaugeMetricFamily("tracker_deliveries", "Deliveries (alert messages) now in "
                                       "each status.", labels=["status", "channel"])
        counts = {(status or "", channel or ""): n for status, channel, n in self._rows(
            "SELECT d.status, s.channel, COUNT(*) FROM deliveries d "
            "LEFT JOIN subscriptions s ON s.id = d.subscription_id GROUP BY d.status, s.channel")}
        for status in sorted(set(DELIVERY_STATUSES) | {k[0] for k in counts}):
            for channel in sorted(set(CHANNELS) | {k[1] for k in counts}):
                deliveries.add_metric([status, channel], counts.get((status, channel), 0))
        yield deliveries

        errors = CounterMetricFamily("tracker_source_errors", "Fetch runs that ended in error.",
                                     labels=["source"])
        counts = dict(self._rows("SELECT source_id, COUNT(*) FROM runs WHERE status = 'error' "
                                 "GROUP BY source_id"))
        for source in sorted(sources):
            errors.add_metric([source], counts.get(source, 0))
        yield errors

        last = GaugeMetricFamily("tracker_last_run_timestamp_seconds", "When the source's last "
                                 "finished fetch run ended (Unix time).", labels=["source"])
        duration = GaugeMetricFamily("tracker_cycle_duration_seconds", "How long the source's "
                                     "last finished fetch run took.", labels=["source"])
        # SQLite: with MAX(), the bare columns come from the row that has the maximum.
        for source, started, finished in self._rows(
                "SELECT source_id, MAX(started), finished FROM runs WHERE finished IS NOT NULL "
                "GROUP BY source_id ORDER BY source_id"):
            end, begin = _seconds(finished), _seconds(started)
            if source is None or end is None:
                continue
            last.add_metric([source], end)
            if begin is not None:
                duration.add_metric([source], max(0.0, end - begin))
        yield last
        yield duration

        subscriptions = GaugeMetricFamily("tracker_subscriptions", "Subscriptions in each state.",
                                          labels=["state"])
        counts = dict(self._rows("SELECT state, COUNT(*) FROM subscriptions GROUP BY state"))
        for state in sorted(set(STATES) | {s for s in counts if s}):
            subscriptions.add_metric([state], counts.get(state, 0))
        yield subscriptions


def render(db: Database) -> bytes:
    """The metrics of the archive in the text exposition format 0.0.4."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ArchiveCollector(db))
    return generate_latest(registry)
