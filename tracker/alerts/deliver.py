"""Delivering what is due: deliveries formed from the outbox, sent by channel, every attempt
recorded, failures retried on a schedule (RETRY_DELAYS), hopeless ones marked dead.

Only a 2xx (or SMTP 250) is success. 410 Gone disables the endpoint at once; an endpoint that
has failed for WEBHOOK_DISABLE_AFTER_DAYS is disabled and the admin sees why (the
subscription's state code "gone" or "failing", with the time and the last error's code as
fields). A delivery's last error is recorded as its code and fields with the English text.
Nothing about one subscriber's failure holds back another's.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from tracker.alerts.links import (MANAGE, UNSUBSCRIBE, archive_link, link, unsubscribe_mailto,
                                  with_secret_key)
from tracker.alerts.model import Alert, AlertItem, SendResult, StoryCopy
from tracker.alerts.subscribe import mask_address
from tracker.store import transaction
from tracker.store.clock import iso
from tracker.store.deliveries import (Due, add_attempt, due_deliveries, form_deliveries,
                                      mark_sending, recover_interrupted, update_delivery)
from tracker.store.outbox import OutboxItem, delivery_items
from tracker.store.stories import Copy, copies_of, stories_of
from tracker.store.subscriptions import note_failure, set_state
from tracker import settings

log = logging.getLogger("tracker.alerts")
# Like Standard Webhooks: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; then the delivery is dead.
RETRY_DELAYS = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)


def retry_delays(config: Mapping[str, Any]) -> tuple[float, ...]:
    """TRACKER_RETRY_DELAYS: a comma list of seconds (0: at the next delivery run). One delay is
    one retry: "60,600" tries a failed message again after 60 s, then after 600 s, then gives up
    (dead)."""
    value = settings.value(config, "RETRY_DELAYS")
    if value in (None, ""):
        return RETRY_DELAYS
    if isinstance(value, (int, float)):
        return (float(value),)
    items = value if isinstance(value, (list, tuple)) else str(value).split(",")
    return tuple(float(v) for v in items if str(v).strip() != "")


def _copy(config: Mapping[str, Any], c: Copy) -> StoryCopy:
    return StoryCopy(c.article_id, c.source_id, c.source_name, c.day, c.page, c.title, c.url,
                     archive_link(config, c.article_id))


def alert_items(db: Database, config: Mapping[str, Any], rows: list[OutboxItem]
                ) -> tuple[AlertItem, ...]:
    """One item per story (rows of one article, or of one story's copies, are one item, listed
    under their first rule and naming every rule that fired), each with its story's other
    copies as they stand now (a paper read since the hit is named too)."""
    stories = stories_of(db, [r.article_id for r in rows])
    merged: dict[object, list[OutboxItem]] = {}
    for row in rows:
        merged.setdefault(stories.get(row.article_id, ("article", row.article_id)), []).append(row)
    copies = copies_of(db, [s for s in stories.values()])
    items = []
    for key, group in merged.items():
        first = group[0]
        same = [r for r in group if r.article_id == first.article_id]
        rules = tuple(dict.fromkeys((r.rule_id, r.rule_name) for r in group))
        story = key if isinstance(key, int) else None
        others = [c for c in copies.get(story, []) if c.article_id != first.article_id]
        earliest = (copies.get(story) or [None])[0]
        items.append(AlertItem(
            first.article_id, first.rule_id, first.rule_name, first.title, first.url,
            first.source_id, first.source_name, first.issue_date, first.page,
            tuple(dict.fromkeys(s for r in same for s in r.snippets)),
            tuple(dict.fromkeys(n for r in same for n in r.keyword_names)),
            archive_link(config, first.article_id), rules if len(rules) > 1 else (), story,
            tuple(_copy(config, c) for c in others),
            _copy(config, earliest) if earliest and earliest.article_id != first.article_id
            else None, first.doc_fields))
    return tuple(items)


def build_alert(db: Database, config: Mapping[str, Any], due: Due) -> Alert:
    """The message for a delivery: its stories grouped by rule, with snippets and links."""
    items = alert_items(db, config, delivery_items(db, due.id))
    return Alert(due.id, due.subscription_id, due.frequency, due.created_at, due.message_id,
                 due.webhook_id, items, link(config, MANAGE, due.subscription_id),
                 link(config, UNSUBSCRIBE, due.subscription_id),
                 unsubscribe_mailto(config, due.subscription_id))


def record(db: Database, due: Due, result: SendResult, now: datetime,
           delays: tuple[float, ...], disable_after: timedelta) -> str:
    """The attempt and the delivery's next state: "sent", "failed" (retried later) or "dead".
    In a transaction."""
    attempts = due.attempts + 1
    add_attempt(db, due.id, now, result.ok, result.status, result.error)
    if result.ok:
        update_delivery(db, due.id, status="sent", attempts=attempts, sent_at=iso(now),
                        last_error=None, error_code=None, error_fields=None)
        note_failure(db, due.subscription_id, failing=False, at=iso(now))
        return "sent"
    if result.gone or result.permanent or attempts > len(delays):
        status, next_at = "dead", None
    else:
        wait = max(delays[attempts - 1], result.retry_after or 0.0)
        status, next_at = "failed", iso(now + timedelta(seconds=wait))
    update_delivery(db, due.id, status=status, attempts=attempts, next_attempt_at=next_at,
                    last_error=result.error, error_code=result.error_code,
                    error_fields=json.dumps(result.fields, ensure_ascii=False, default=str))
    since = note_failure(db, due.subscription_id, failing=True, at=iso(now))
    if result.gone:
        set_state(db, due.subscription_id, "disabled", "gone",
                  detail="the endpoint answered 410 Gone")
    elif due.channel != "email" and since and \
            now - datetime.fromisoformat(since) >= disable_after:
        set_state(db, due.subscription_id, "disabled", "failing",
                  fields={"since": since, "error_code": result.error_code,
                          "error_fields": result.fields},
                  detail=f"failing since {since[:16]}; last error: {result.error}")
    return status


def _senders() -> dict[str, Callable]:
    """Per channel: send(batch, config, report) — each result to `report` as soon as known."""
    from tracker.alerts.chat import send as chat
    from tracker.alerts.email import send as email
    from tracker.alerts.email.compose import subject
    from tracker.alerts.webhook import send as webhook

    return {
        "email": lambda batch, config, report: email.send_emails(
            [(a, d.address) for a, d in batch], config, report=report),
        "webhook": lambda batch, config, report: webhook.send_webhooks(
            [(a, d.address, d.secret or "") for a, d in batch], config, report=report),
        "chat": lambda batch, config, report: chat.send_chats(
            [(a, d.address, subject(a)) for a, d in batch], config, report=report),
    }


def _run_sender(channel: str, send: Callable, batch: list, config: Mapping[str, Any],
                results: queue.Queue) -> None:
    """One channel's sender on its own thread: results into `results` as they come, then the
    channel's name. A sender that raises fails only the messages it had not reported."""
    reported: set[int] = set()

    def report(result: SendResult) -> None:
        reported.add(result.delivery_id)
        results.put(result)

    try:
        returned = send(batch, config, report) or []
        for result in returned:  # a sender that forgot to report one
            if result.delivery_id not in reported:
                report(result)
        error = "the sender gave no result"
    except Exception as err:  # noqa: BLE001 - one channel's bug must not stop the others
        log.exception("%s sender failed", channel)
        error = f"{type(err).__name__}: {err}"
    for alert, _ in batch:
        if alert.delivery_id not in reported:
            report(SendResult(alert.delivery_id, False, error, code="internal"))
    results.put(channel)


def take_due(db: Database, config: Mapping[str, Any], now: datetime) -> list[Due]:
    """Form the deliveries the outbox holds (instant ones, digests whose hour has come), and
    take those due now, marked as being sent: in one transaction."""
    with transaction(db):
        form_deliveries(db, now, zone=ZoneInfo(str(settings.value(config, "TIMEZONE"))),
                        digest_hour=int(settings.value(config, "DIGEST_HOUR")),
                        digest_weekday=int(settings.value(config, "DIGEST_WEEKDAY")),
                        domain=mail_domain(config))
        due = due_deliveries(db, now)
        mark_sending(db, [d.id for d in due])
    return due


def deliver(db: Database, config: Mapping[str, Any], now: datetime | None = None) -> Counter:
    """Form what is due, send it, record how it went; a count of outcomes ("sent", "failed"…).

    Each message's result is committed as soon as its receiver answered (SMTP 250, HTTP 2xx),
    while the others are still being sent: a worker killed mid-batch sends again (same
    Message-ID, same webhook-id) only the messages that were in flight."""
    formed_at = now or datetime.now(timezone.utc)
    due = take_due(db, config, formed_at)
    outcome: Counter = Counter()
    if not due:
        return outcome
    config = with_secret_key(config)  # read once, not once per link
    waiting = {d.id: d for d in due}
    results: queue.Queue = queue.Queue()
    senders = []
    for channel, send in _senders().items():
        batch = [(build_alert(db, config, d), d) for d in due if d.channel == channel]
        if batch:
            senders.append(threading.Thread(target=_run_sender, name=f"send-{channel}",
                                            args=(channel, send, batch, config, results)))
    for thread in senders:
        thread.start()
    delays = retry_delays(config)
    disable_after = timedelta(days=float(settings.value(config, "WEBHOOK_DISABLE_AFTER_DAYS")))
    running = len(senders)
    while running:
        arrived = [results.get()]
        while not results.empty():  # what came in meanwhile goes in the same commit
            arrived.append(results.get())
        with transaction(db):
            for result in arrived:
                if isinstance(result, str):
                    running -= 1
                    continue
                d = waiting.pop(result.delivery_id, None)
                if d is None:
                    continue
                status = record(db, d, result, now or datetime.now(timezone.utc), delays,
                                disable_after)
                outcome[status] += 1
                if not result.ok:
                    log.warning("delivery %d to %s %s: %s (%s)", d.id, d.channel,
                                mask_address(d.channel, d.address), result.error, status)
    with transaction(db):
        for d in waiting.values():  # a channel without a sender
            outcome[record(db, d, SendResult(d.id, False, f"no sender for {d.channel}",
                                             permanent=True, code="internal"), formed_at, delays,
                           disable_after)] += 1
    for thread in senders:
        thread.join()
    log.info("deliveries: %s", ", ".join(f"{n} {k}" for k, n in sorted(outcome.items())))
    return outcome


def recover(db: Database, now: datetime | None = None) -> int:
    """At worker start: deliveries a dead worker left half-sent are due again (sent once more,
    with the same Message-ID and webhook-id)."""
    with transaction(db):
        return recover_interrupted(db, now or datetime.now(timezone.utc))


def mail_domain(config: Mapping[str, Any]) -> str:
    sender = str(settings.value(config, "MAIL_FROM"))
    return sender.rsplit("@", 1)[-1].strip(" >") or "localhost"
