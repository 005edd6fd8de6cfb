"""Notices: mail that is not an alert (the double opt-in request, the manage link, the request
to confirm coming back), queued by the web request and sent by the web app's background sender
or the worker, whichever claims it first.

A notice's life: pending → sending → sent; or → failed (retried on a schedule) → … → dead; or
cancelled (a confirmation whose subscription is no longer pending; a request to come back whose
subscription is active again). Claiming is one write transaction, so two
senders never take the same row; a claim older than `stale` seconds belongs to a sender that
died and may be taken again (the same Message-ID goes out).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlite_utils import Database

from tracker.store.clock import iso


@dataclass(frozen=True)
class Notice:
    id: int
    kind: str
    subscription_id: int
    address: str
    message_id: str
    attempts: int
    request: str | None = None  # a `rejoin` notice's request (JSON), else None
    created_at: str | None = None


def recipient_key(address: str) -> str:
    """The mailbox an address reaches, for counting what it was sent: lower case, and
    `name+tag@host` as `name@host` (the tag is the owner's, the mailbox the same)."""
    local, at, domain = address.strip().lower().rpartition("@")
    if not at:
        return address.strip().lower()
    return f"{local.split('+', 1)[0] or local}@{domain}"


def notices_since(db: Database, recipient: str, since: datetime) -> int:
    """How many notices were queued for `recipient` (a `recipient_key`) since `since`, whatever
    became of them."""
    return db.execute("SELECT count(*) FROM notices WHERE recipient = ? AND created_at >= ?",
                      [recipient, iso(since)]).fetchone()[0]


def add_notice(db: Database, kind: str, subscription_id: int, address: str, message_id: str,
               now: datetime, request: str | None = None) -> int:
    """Queue a notice (with its `request`, JSON, for a `rejoin`); its id. In a transaction."""
    return db["notices"].insert({
        "kind": kind, "subscription_id": subscription_id, "address": address,
        "recipient": recipient_key(address), "message_id": message_id, "created_at": iso(now),
        "status": "pending", "attempts": 0, "next_attempt_at": iso(now),
        "request": request}).last_pk


_COLUMNS = "id, kind, subscription_id, address, message_id, attempts, request, created_at"


def get_notice(db: Database, notice_id: int) -> Notice | None:
    row = db.execute(f"SELECT {_COLUMNS} FROM notices WHERE id = ?", [notice_id]).fetchone()
    return Notice(*row) if row else None


def claim_notices(db: Database, now: datetime, stale: float,
                  only: int | None = None) -> list[Notice]:
    """Take the notices due now (or just `only`) for sending: marked `sending`, claimed now.
    Those whose subscription is no longer pending are cancelled. In a transaction."""
    db.execute("UPDATE notices SET status = 'cancelled' WHERE status IN ('pending', 'failed') "
               "AND kind = 'confirm' AND subscription_id IN "
               "(SELECT id FROM subscriptions WHERE state != 'pending')")
    db.execute("UPDATE notices SET status = 'cancelled' WHERE status IN ('pending', 'failed') "
               "AND kind = 'rejoin' AND subscription_id IN "
               "(SELECT id FROM subscriptions WHERE state NOT IN ('unsubscribed', 'disabled'))")
    before = iso(now - timedelta(seconds=stale))
    where = "((status IN ('pending', 'failed') AND next_attempt_at <= ?) OR " \
            "(status = 'sending' AND claimed_at < ?))"
    params: list = [iso(now), before]
    if only is not None:
        where += " AND id = ?"
        params.append(only)
    rows = db.execute(f"SELECT {_COLUMNS} FROM notices WHERE {where} ORDER BY id",
                      params).fetchall()
    db.conn.executemany("UPDATE notices SET status = 'sending', claimed_at = ? WHERE id = ?",
                        [(iso(now), row[0]) for row in rows])
    return [Notice(*row) for row in rows]


def finish_notice(db: Database, notice_id: int, **values: object) -> None:
    """Record how an attempt went (status, attempts, next_attempt_at, last_error, sent_at)."""
    db["notices"].update(notice_id, values)
