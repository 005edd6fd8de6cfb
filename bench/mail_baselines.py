"""The email runs the alerts bench (bench/alerts_bench.py) compares with: the strictly serial
baseline the goal is set against, and the SMTP transport alone with the messages already made."""

from __future__ import annotations

import smtplib
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

from tracker.alerts.deliver import build_alert, record, retry_delays, take_due
from tracker.alerts.email.send import send_made
from tracker import settings
from tracker.alerts.email.compose import compose_bytes, parse_address
from tracker.alerts.links import with_secret_key
from tracker.alerts.model import SendResult
from tracker.store import transaction


def deliver_strictly_serially(db, config) -> Counter:
    """The serial baseline the goal is set against: the deliveries formed as `deliver` forms them,
    then one message at a time over one SMTP connection — alert built, mail composed, sent, its
    250 awaited, the attempt recorded (committed) — and only then the next. Every message must
    be accepted (this is a benchmark, not a sender)."""
    due = take_due(db, config, datetime.now(timezone.utc))
    config = with_secret_key(config)  # as `deliver` does
    sender = parse_address(settings.value(config, "MAIL_FROM"), "MAIL_FROM").addr_spec
    delays, disable_after = retry_delays(config), timedelta(days=5)
    outcome: Counter = Counter()
    with smtplib.SMTP(config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=30) as smtp:
        for d in due:
            recipient, data = compose_bytes(build_alert(db, config, d), d.address, config)
            smtp.sendmail(sender, [recipient], data)  # raises unless the relay said 250
            with transaction(db):
                outcome[record(db, d, SendResult(d.id, ok=True, status=250),
                               datetime.now(timezone.utc), delays, disable_after)] += 1
    return outcome


def time_transport(port: int, count: int, connections: int) -> float:
    """The SMTP transport alone: `count` messages already made (one message's bytes, each to
    its own recipient) over `connections` connections (`send_made`); the wall time."""
    config = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_SECURITY": "none",
              "SMTP_CONNECTIONS": connections}
    data = (b"From: bench@example.org\r\nTo: reader@example.org\r\nSubject: bench\r\n\r\n"
            + ("推动专业镇发展。" * 8 + "\r\n").encode() * 25)
    messages = [(i, f"reader{i}@example.org", data) for i in range(count)]
    start = time.perf_counter()
    results = send_made(messages, config)
    wall = time.perf_counter() - start
    refused = [r.error for r in results if not r.ok]
    assert len(results) == count and not refused, refused[:1]
    return wall
