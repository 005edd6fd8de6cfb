"""Mail that is not an alert: the double opt-in request sent to a new email subscriber, the
manage link sent to an address that subscribes again, and the request to confirm coming back
sent to an address that had left (tracker.alerts.rejoin): the queue over the `notices` table.

The web request only queues them (`queue_notice`, a row in `notices`) and asks a background
thread to send it (`send_soon`); the worker sends whatever is still due at each delivery run
(retries, or a web process that stopped). A slow relay never holds a web request.

What each mail says, and how it is made (short, plain text, Chinese first, headers made as
alerts' are), is tracker.alerts.email.notices; it goes through the alerts' transport (SMTP, or
the development mailbox). How often a mailbox may get one (NOTICES_PER_DAY) is counted here.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from email.utils import make_msgid
from typing import Any

from sqlite_utils import Database

from tracker.alerts.email.notices import rejoin_message, reminder_message, send_confirmation
from tracker.alerts.email.send import send_message
from tracker.alerts.model import SendResult
from tracker.alerts.subscribe import mask_address
from tracker.config import instance_file
from tracker.store import connect, transaction
from tracker.store.clock import iso
from tracker.store.notices import (Notice, add_notice, claim_notices, finish_notice,
                                   notices_since, recipient_key)
from tracker.store.subscriptions import subscription_state
from tracker import settings

log = logging.getLogger("tracker.alerts")
STALE_CLAIM_SECONDS = 600  # a sender holding a notice longer than this died (SMTP_TIMEOUT ≪ this)

# The double opt-in request; the manage link to a known address; the confirmation to come back.
KINDS = ("confirm", "remind", "rejoin")


def notices_per_day(config: Mapping[str, Any]) -> int:
    """NOTICES_PER_DAY: confirmation and reminder mails one mailbox gets in 24 hours (0: no cap)."""
    return int(settings.value(config, "NOTICES_PER_DAY"))


def queue_notice(db: Database, config: Mapping[str, Any], kind: str, subscription_id: int,
                 address: str, *, now: datetime | None = None,
                 request: str | None = None) -> int | None:
    """Queue a notice of `kind` (KINDS) for a subscription; the notice's id, or None when its
    mailbox (`name+tag@` counted as `name@`) had NOTICES_PER_DAY of them in the last 24 hours:
    whoever types someone's address into the form cannot flood their mailbox. Counted and
    queued in one write transaction, so that no two web processes both take the last one."""
    from tracker.alerts.deliver import mail_domain

    if kind not in KINDS:
        raise ValueError(f"no notice of kind {kind!r}")
    at = now or datetime.now(timezone.utc)
    cap = notices_per_day(config)
    with transaction(db):
        if cap > 0 and notices_since(db, recipient_key(address), at - timedelta(days=1)) >= cap:
            log.warning("%s mail for subscription %s to %s not queued: %d sent there in the last "
                        "24 hours (NOTICES_PER_DAY)", kind, subscription_id,
                        mask_address("email", address), cap)
            return None
        return add_notice(db, kind, subscription_id, address,
                          make_msgid(kind, domain=mail_domain(config)), at, request)


def queue_confirmation(db: Database, config: Mapping[str, Any], subscription_id: int,
                       address: str) -> int | None:
    """Queue the confirmation request for a pending subscription; the notice's id, or None
    when its mailbox has had its notices for the day (see `queue_notice`)."""
    return queue_notice(db, config, "confirm", subscription_id, address)


def _send(db: Database, config: Mapping[str, Any], notice: Notice) -> SendResult:
    if notice.kind == "confirm":
        return send_confirmation(config, notice.subscription_id, notice.address,
                                 notice.message_id)
    state = subscription_state(db, notice.subscription_id) or "unsubscribed"
    try:
        if notice.kind == "rejoin":
            msg = rejoin_message(config, notice, state)
        else:
            msg = reminder_message(config, notice.subscription_id, notice.address, state)
        msg.replace_header("Message-ID", notice.message_id)  # the same on a retry
    except ValueError as exc:
        return SendResult(0, ok=False, permanent=True, error=f"cannot make the email: {exc}",
                          code="compose")
    return send_message(msg, config)


def send_notices(db: Database, config: Mapping[str, Any], *, only: int | None = None,
                 now: datetime | None = None) -> Counter:
    """Send the notices that are due (or just notice `only`), each result committed as soon as
    it is known; failures retried on RETRY_DELAYS like alerts. A count of outcomes."""
    from tracker.alerts.deliver import retry_delays

    outcome: Counter = Counter()
    with transaction(db):
        claimed = claim_notices(db, now or datetime.now(timezone.utc), STALE_CLAIM_SECONDS, only)
    delays = retry_delays(config)
    for notice in claimed:
        result = _send(db, config, notice)
        at = now or datetime.now(timezone.utc)
        attempts = notice.attempts + 1
        if result.ok:
            values = {"status": "sent", "sent_at": iso(at), "last_error": None}
        elif result.permanent or attempts > len(delays):
            values = {"status": "dead", "last_error": result.error}
        else:
            values = {"status": "failed", "last_error": result.error,
                      "next_attempt_at": iso(at + timedelta(seconds=delays[attempts - 1]))}
        with transaction(db):
            finish_notice(db, notice.id, attempts=attempts, **values)
        outcome[values["status"]] += 1
        if not result.ok:
            log.warning("%s mail for subscription %s to %s: %s (%s)", notice.kind,
                        notice.subscription_id, mask_address("email", notice.address),
                        result.error, values["status"])
    return outcome


def send_soon(config: Mapping[str, Any], notice_id: int) -> threading.Thread:
    """Send notice `notice_id` on a thread of its own (its own database connection), so that
    the web request that queued it answers at once."""
    def run() -> None:
        db = connect(instance_file(config, "DATABASE"), migrate=False)
        try:
            send_notices(db, config, only=notice_id)
        except Exception:  # noqa: BLE001 - the worker sends it later; say why it did not go now
            log.exception("sending notice %s failed", notice_id)
        finally:
            db.conn.close()

    thread = threading.Thread(target=run, name=f"notice-{notice_id}", daemon=True)
    thread.start()
    return thread
