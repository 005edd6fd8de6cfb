"""Subscriptions: who wants which rules, how often, through which channel, in which state.

States: pending (an email address awaiting double opt-in), active, paused (by its owner),
unsubscribed, disabled (an endpoint that kept failing, or answered 410 Gone). Only active
subscriptions get alerts.

Why a subscription changed state, when something other than its owner's button did it, is kept
as a code (`state_code`, one of STATE_CODES) with its fields (`state_fields`, JSON) — the pages
say it in their own words by code — and an English sentence for admins (`state_reason`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping

from sqlite_utils import Database

from tracker.store.clock import now

CHANNELS = ("email", "webhook", "chat")
FREQUENCIES = ("instant", "daily", "weekly")
STATES = ("pending", "active", "paused", "unsubscribed", "disabled")
# Why a subscription changed state (subscriptions.state_code), each with the fields it carries:
#   unsubscribe_link  its owner used the unsubscribe link of an alert (one-click or the page)
#   gone              the endpoint answered 410 Gone: disabled at once
#   failing           every delivery failed for WEBHOOK_DISABLE_AFTER_DAYS: disabled; `since`
#                     (ISO 8601, UTC), the last error's `error_code` (a deliveries ERROR_CODES
#                     code) and `error_fields`
#   other             a reason recorded as text by an earlier version and not recognised
STATE_CODES = ("unsubscribe_link", "gone", "failing", "other")


@dataclass(frozen=True)
class Subscription:
    id: int
    channel: str
    address: str
    rules: tuple[str, ...]
    frequency: str
    state: str
    secret: str | None = None
    created_at: str | None = None
    confirmed_at: str | None = None
    state_reason: str | None = None  # in English, for admins
    failing_since: str | None = None
    state_code: str | None = None  # one of STATE_CODES, None when nothing but its owner moved it
    state_fields: dict = field(default_factory=dict)


def _from_row(row: dict) -> Subscription:
    return Subscription(row["id"], row["channel"], row["address"], tuple(json.loads(row["rules"])),
                        row["frequency"], row["state"], row["secret"], row["created_at"],
                        row["confirmed_at"], row["state_reason"], row["failing_since"],
                        row["state_code"], fields_of(row["state_fields"]))


def fields_of(text: str | Mapping[str, Any] | None) -> dict:
    """A code's fields as stored (JSON text; or already a dict), as a dict; {} for none or
    unreadable."""
    if isinstance(text, Mapping):
        return dict(text)
    try:
        fields = json.loads(text) if text else {}
    except ValueError:
        return {}
    return fields if isinstance(fields, dict) else {}


def get_subscription(db: Database, subscription_id: int) -> Subscription | None:
    rows = list(db["subscriptions"].rows_where("id = ?", [subscription_id]))
    return _from_row(rows[0]) if rows else None


def subscription_state(db: Database, subscription_id: int) -> str | None:
    """The subscription's state (pending, active, ...), or None when there is no such row."""
    row = db.execute("SELECT state FROM subscriptions WHERE id = ?", [subscription_id]).fetchone()
    return row[0] if row else None


def state_changed_at(db: Database, subscription_id: int) -> str | None:
    """When the subscription last changed state (ISO 8601, UTC), or None."""
    row = db.execute("SELECT state_changed_at FROM subscriptions WHERE id = ?",
                     [subscription_id]).fetchone()
    return row[0] if row else None


def find_subscription(db: Database, channel: str, address: str) -> Subscription | None:
    rows = list(db["subscriptions"].rows_where("channel = ? AND address = ?", [channel, address]))
    return _from_row(rows[0]) if rows else None


def list_subscriptions(db: Database) -> list[Subscription]:
    return [_from_row(r) for r in db["subscriptions"].rows_where(order_by="id")]


def add_subscription(db: Database, channel: str, address: str, rules: list[str],
                     frequency: str, *, active: bool, secret: str | None = None
                     ) -> tuple[Subscription, bool]:
    """Subscribe `address`; (the subscription, whether it was made now). In a transaction.

    An existing subscription, in any state, is left exactly as it is: whoever submits the form
    may be a stranger, who must not reset its owner to pending, change their rules, resume
    what they paused or learn a new webhook secret. Its owner changes it on the manage page."""
    existing = find_subscription(db, channel, address)
    if existing:
        return existing, False
    stamp = now()
    state = "active" if active else "pending"
    values = {"rules": json.dumps(list(dict.fromkeys(rules))), "frequency": frequency,
              "state": state, "state_changed_at": stamp, "state_reason": None,
              "state_code": None, "state_fields": None, "confirmed_at": stamp if active else None, "failing_since": None}
    row_id = db["subscriptions"].insert({"channel": channel, "address": address, "secret": secret,
                                         "created_at": stamp, **values}).last_pk
    return get_subscription(db, row_id), True  # type: ignore[return-value]


def set_state(db: Database, subscription_id: int, state: str, code: str | None = None, *,
              fields: Mapping[str, Any] | None = None, detail: str | None = None) -> None:
    """Move a subscription to `state` (confirming it when it becomes active). In a transaction.

    `code` (one of STATE_CODES) and `fields` say why, when it was not its owner's own choice;
    `detail` is the same in English for admins. Without a code any earlier reason is cleared."""
    if code is not None and code not in STATE_CODES:
        raise ValueError(f"unknown state code {code!r} (one of {', '.join(STATE_CODES)})")
    stamp = now()
    values = {"state": state, "state_changed_at": stamp, "state_code": code,
              "state_fields": json.dumps(dict(fields or {}), ensure_ascii=False) if code else None,
              "state_reason": detail if code else None}
    if state == "active":
        values.update(confirmed_at=stamp, failing_since=None)
    db["subscriptions"].update(subscription_id, values)
    if state == "unsubscribed":  # own keywords go with the subscription
        from tracker.store.personal import forget

        forget(db, subscription_id)


def update_subscription(db: Database, subscription_id: int, rules: list[str],
                        frequency: str) -> None:
    db["subscriptions"].update(subscription_id, {"rules": json.dumps(list(dict.fromkeys(rules))),
                                                 "frequency": frequency})


def note_failure(db: Database, subscription_id: int, failing: bool, at: str) -> str | None:
    """Track a failing streak: when it began (None once a delivery succeeds)."""
    row = db.execute("SELECT failing_since FROM subscriptions WHERE id = ?",
                     [subscription_id]).fetchone()
    since = (row[0] or at) if failing else None
    db.execute("UPDATE subscriptions SET failing_since = ? WHERE id = ?", [since, subscription_id])
    return since


def disabled_subscriptions(db: Database, limit: int = 200) -> list[dict]:
    """The subscriptions the service disabled, most recently disabled first (rows as dicts)."""
    return list(db["subscriptions"].rows_where("state = 'disabled'",
                                               order_by="state_changed_at DESC", limit=limit))


def subscriptions_with_last_sent(db: Database, limit: int = 5000) -> list[dict]:
    """Every subscription's row (as a dict, rules as stored: JSON) with `last_sent`, when its
    last delivery was sent (None: never)."""
    return list(db.query(
        "SELECT s.*, (SELECT max(sent_at) FROM deliveries d WHERE d.subscription_id = s.id) "
        "AS last_sent FROM subscriptions s ORDER BY s.id LIMIT ?", [limit]))
