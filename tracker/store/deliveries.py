"""Deliveries: the due outbox rows of one subscription grouped into one message, and every
attempt to send it.

A delivery's life: pending → sending → sent; or → failed (retried on a schedule) → … → dead.
It is marked `sending` (committed) before the attempt, and its result is committed as soon as
the receiver answered it: a worker killed mid-batch finds `sending` only the messages that were
in flight (the receiver may have taken one without our seeing its answer), and sends those once
more, with the same Message-ID and webhook-id, so the receiver can tell it is the same.

A failed delivery keeps its last error twice: as a code with fields (`error_code`, one of
ERROR_CODES; `error_fields`, JSON), which the pages say in their own words, and as the raw
English text for admins (`last_error`: ours, or what a library or the receiver said).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from tracker.store.clock import iso

# Every status a delivery row can have (deliveries.status), in the order it moves through them.
DELIVERY_STATUSES = ("pending", "sending", "sent", "failed", "dead", "cancelled")

# What went wrong with a delivery's last attempt (deliveries.error_code), with its fields:
#   timeout           no answer in time (seconds; phase: connect, read or total)
#   refused           the receiver's host refused the connection
#   unresolvable      its name did not resolve (host)
#   network           the connection failed or broke otherwise
#   tls               the TLS handshake or the certificate check failed
#   redirect          an HTTP 3xx (status, location): redirects are never followed
#   rejected          an HTTP 4xx other than 410 (status; retry_after)
#   server_error      an HTTP 5xx (status; retry_after)
#   gone              HTTP 410 Gone (status): the endpoint is disabled
#   smtp              the mail relay refused (status: the SMTP reply code; stage)
#   smtp_sender       the relay refused the sender, MAIL_FROM (status)
#   smtp_login        the relay refused the login (status)
#   no_starttls       the relay does not offer STARTTLS though SMTP_SECURITY asks for it
#   connection_lost   the relay's connection was lost mid-message (stage; sent: it may have the
#                     message)
#   unsafe            the address check refused the URL (check: its tracker.sources.ssrf code,
#                     and that code's fields: host, address, kind…)
#   bad_secret        the webhook's signing secret is unusable
#   not_apprise       a chat URL Apprise does not understand
#   chat_failed       the chat service did not take the message
#   compose           the email could not be made from the alert
#   config            the mail settings are wrong (MAIL_FROM, SMTP_*)
#   mailbox           the development mailbox could not be written
#   internal          a bug of ours (the sender raised, or gave no result)
#   other             a text recorded by an earlier version and not recognised
ERROR_CODES = ("timeout", "refused", "unresolvable", "network", "tls", "redirect", "rejected",
               "server_error", "gone", "smtp", "smtp_sender", "smtp_login", "no_starttls",
               "connection_lost", "unsafe", "bad_secret", "not_apprise", "chat_failed",
               "compose", "config", "mailbox", "internal", "other")


@dataclass(frozen=True)
class Due:
    id: int
    subscription_id: int
    channel: str
    address: str
    secret: str | None
    frequency: str
    created_at: str
    message_id: str
    webhook_id: str
    attempts: int


def last_slot(frequency: str, now: datetime, hour: int, weekday: int, zone: ZoneInfo) -> datetime:
    """The latest digest moment at or before `now` (instant: `now` itself)."""
    if frequency == "instant":
        return now
    local = now.astimezone(zone)
    slot = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if frequency == "weekly":
        slot -= timedelta(days=(slot.weekday() - weekday) % 7)
    step = timedelta(days=7 if frequency == "weekly" else 1)
    while slot > local:
        slot -= step
    return slot


def form_deliveries(db: Database, now: datetime, *, zone: ZoneInfo, digest_hour: int = 8,
                    digest_weekday: int = 0, domain: str = "tracker.local") -> list[int]:
    """A delivery for each active subscription whose waiting rows are due: instant ones at
    once, daily and weekly ones when a digest moment has passed since the oldest waiting row.
    In a transaction."""
    waiting = db.execute(
        "SELECT s.id, s.frequency, min(o.created_at) FROM outbox o "
        "JOIN subscriptions s ON s.id = o.subscription_id "
        "WHERE o.delivery_id IS NULL AND s.state = 'active' GROUP BY s.id").fetchall()
    formed = []
    for subscription_id, frequency, oldest in waiting:
        slot = last_slot(frequency, now, digest_hour, digest_weekday, zone)
        if frequency != "instant" and datetime.fromisoformat(oldest) >= slot:
            continue
        token = secrets.token_hex(12)
        # Plain SQL: sqlite-utils' insert reads the table's schema on every call.
        delivery_id = db.execute(
            "INSERT INTO deliveries (subscription_id, frequency, created_at, status, attempts, "
            "next_attempt_at, message_id, webhook_id) VALUES (?, ?, ?, 'pending', 0, ?, ?, ?)",
            [subscription_id, frequency, iso(now), iso(now), f"<tracker.{token}@{domain}>",
             f"msg_{token}"]).lastrowid
        db.execute("UPDATE outbox SET delivery_id = ? WHERE subscription_id = ? "
                   "AND delivery_id IS NULL", [delivery_id, subscription_id])
        formed.append(delivery_id)
    return formed


def due_deliveries(db: Database, now: datetime, limit: int = 10_000) -> list[Due]:
    """Deliveries to attempt now, oldest first; those of a subscription that ended are dropped.
    In a transaction."""
    db.execute("UPDATE deliveries SET status = 'cancelled' WHERE status IN ('pending', 'failed') "
               "AND subscription_id IN (SELECT id FROM subscriptions WHERE state != 'active')")
    rows = db.execute(
        "SELECT d.id, d.subscription_id, s.channel, s.address, s.secret, d.frequency, "
        "d.created_at, d.message_id, d.webhook_id, d.attempts FROM deliveries d "
        "JOIN subscriptions s ON s.id = d.subscription_id "
        "WHERE d.status IN ('pending', 'failed') AND d.next_attempt_at <= ? "
        "ORDER BY d.next_attempt_at, d.id LIMIT ?", [iso(now), limit]).fetchall()
    return [Due(*row) for row in rows]


def status_counts(db: Database) -> dict[str, int]:
    """How many deliveries are in each status (every status listed, 0 where none)."""
    counts = dict.fromkeys(DELIVERY_STATUSES, 0)
    counts.update(db.execute("SELECT status, count(*) FROM deliveries GROUP BY status").fetchall())
    return counts


def failing_deliveries(db: Database, limit: int = 200) -> list[dict]:
    """The newest failed or dead deliveries (their last error as code, fields and text), each
    with its subscription's id, channel, address and state."""
    return list(db.query(
        "SELECT d.id, d.status, d.attempts, d.last_error, d.error_code, d.error_fields, "
        "d.next_attempt_at, d.created_at, "
        "s.id AS subscription_id, s.channel, s.address, s.state "
        "FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id "
        "WHERE d.status IN ('failed', 'dead') ORDER BY d.id DESC LIMIT ?", [limit]))


def delivery_states(db: Database, delivery_id: int) -> tuple[str, str] | None:
    """(the delivery's status, its subscription's state), or None when there is no such
    delivery."""
    row = db.execute("SELECT d.status, s.state FROM deliveries d JOIN subscriptions s "
                     "ON s.id = d.subscription_id WHERE d.id = ?", [delivery_id]).fetchone()
    return (row[0], row[1]) if row else None


def due_again(db: Database, delivery_id: int, at: str) -> None:
    """The delivery pending again, due at `at` (its attempts are kept). In a transaction."""
    db.execute("UPDATE deliveries SET status = 'pending', next_attempt_at = ? WHERE id = ?",
               [at, delivery_id])


def last_sent(db: Database) -> dict[int, str]:
    """Subscription id → when its last delivery was sent (only subscriptions sent to)."""
    return dict(db.execute("SELECT subscription_id, max(sent_at) FROM deliveries "
                           "WHERE status = 'sent' GROUP BY subscription_id"))


def mark_sending(db: Database, ids: list[int]) -> None:
    """Say these are being sent, before sending them. In its own committed transaction."""
    db.conn.executemany("UPDATE deliveries SET status = 'sending' WHERE id = ?",
                        [(i,) for i in ids])


def recover_interrupted(db: Database, now: datetime) -> int:
    """Deliveries left `sending` by a worker that died: due again now. Only the lock holder
    calls this (at start), so no other worker can be sending them. In a transaction."""
    cursor = db.execute("UPDATE deliveries SET status = 'pending', next_attempt_at = ? "
                        "WHERE status = 'sending'", [iso(now)])
    return cursor.rowcount


def add_attempt(db: Database, delivery_id: int, at: datetime, ok: bool, code: int | None,
                error: str | None) -> None:
    """One attempt's row. Plain SQL: it runs once per message sent, and sqlite-utils' insert
    reads the table's schema on every call."""
    db.execute("INSERT INTO attempts (delivery_id, at, ok, code, error) VALUES (?, ?, ?, ?, ?)",
               [delivery_id, iso(at), int(ok), code, error])


def update_delivery(db: Database, delivery_id: int, **values: object) -> None:
    """Set columns of one delivery (names from our code, never from input); plain SQL, as above."""
    columns = ", ".join(f'"{name}" = ?' for name in values)
    db.execute(f"UPDATE deliveries SET {columns} WHERE id = ?", [*values.values(), delivery_id])
