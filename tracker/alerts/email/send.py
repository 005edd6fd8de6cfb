"""Email: alerts sent over SMTP, a small pool of connections (SMTP_CONNECTIONS, default 4) sharing
a batch (`tracker.alerts.email.pool`, each connection through `tracker.alerts.email.relay`), or
written to the instance folder's development mailbox (`instance/mailbox/*.eml`) when no
SMTP_HOST is configured. Each message's result is reported as soon as the server answered it,
so the caller can record it before the next one is known.

Settings: MAIL_FROM (default "tracker <tracker@localhost>"); SMTP_HOST; SMTP_PORT (default 587,
or 465 with SMTP_SECURITY "tls", 25 with "none"); SMTP_SECURITY "starttls" | "tls" | "none"
(default: starttls on 587, tls on 465, else none); SMTP_USERNAME and SMTP_PASSWORD (login when
given); SMTP_TIMEOUT seconds per network operation (default 30); SMTP_CA_FILE, a CA bundle for a
relay with a private certificate (default: the system's); SMTP_CONNECTIONS (default 4).

How an attempt ends (SendResult): 2xx ok. A 5xx for this recipient or this message (RCPT, DATA)
is permanent; 4xx is not, with its code. Anything about the connection or the configuration
(cannot connect, 421 at the greeting, TLS or login refused, sender refused) fails the remaining
messages, not permanently (once no other connection of the pool is left to send them): the
schedule retries them with the same Message-ID. A connection that ends after it delivered at
least one message (a per-connection limit) is opened again, and a message it refused before its
data was sent goes again on the new one; a connection that ends while a message's data was in
flight leaves that message "outcome unknown", not retried here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from email.message import EmailMessage
from functools import partial
from pathlib import Path
from typing import Any

from tracker.alerts.email.mailbox import mailbox_folder, write_message
from tracker.alerts.email.pool import Outgoing, failure, send_pool
from tracker.alerts.email.relay import smtp_settings as _settings
from tracker.alerts.email.compose import compose_bytes, parse_address
from tracker.alerts.email.wire import as_bytes
from tracker.alerts.model import Alert, SendResult
from tracker import settings as config_table


def send_emails(batch: list[tuple[Alert, str]], config: Mapping[str, Any],
                report: Callable[[SendResult], None] | None = None) -> list[SendResult]:
    """Send each (alert, address); one SendResult per pair, in the batch's order, and each to
    `report` as soon as the server answered it (from the pool's threads)."""
    # Each message is made when a connection takes it (a pool's threads make them while others
    # wait on the relay; a large batch is never held whole in memory).
    return _send([Outgoing(index, alert.delivery_id, "", None,
                           make=partial(compose_bytes, alert, address, config))
                  for index, (alert, address) in enumerate(batch)], config, report)


def send_made(messages: list[tuple[int, str, bytes]], config: Mapping[str, Any],
              report: Callable[[SendResult], None] | None = None) -> list[SendResult]:
    """Messages already made, as (delivery id, recipient addr-spec, bytes), through the transport
    alerts use (the SMTP pool, or the development mailbox): one SendResult each, in order."""
    return _send([Outgoing(index, delivery_id, recipient, data)
                  for index, (delivery_id, recipient, data) in enumerate(messages)], config, report)


def _send(outgoing: list[Outgoing], config: Mapping[str, Any],
          report: Callable[[SendResult], None] | None) -> list[SendResult]:
    results: list[SendResult | None] = [None] * len(outgoing)

    def done(index: int, result: SendResult) -> None:
        results[index] = result
        if report:
            report(result)

    try:
        sender = parse_address(config_table.value(config, "MAIL_FROM"), "MAIL_FROM").addr_spec
        settings = _settings(config) if config_table.value(config, "SMTP_HOST") else None
    except ValueError as exc:
        for item in outgoing:
            done(item.index, SendResult(item.delivery_id, ok=False, error=f"configuration: {exc}",
                                        code="config"))
        return [r for r in results if r is not None]
    if settings is None:
        folder = mailbox_folder(config)
        for item in outgoing:
            done(item.index, item.prepare() or _to_mailbox(folder, item))
    elif outgoing:
        send_pool(settings, sender, outgoing, done)
    return [result or SendResult(item.delivery_id, ok=False, error="not sent", code="internal")
            for result, item in zip(results, outgoing)]


def send_message(msg: EmailMessage, config: Mapping[str, Any]) -> SendResult:
    """One message that is not an alert (a confirmation request, say), to its To address, through
    the same transport as alerts: SMTP when SMTP_HOST is set, else the development mailbox. The
    result's delivery_id is 0; a send failure is a result, never an exception."""
    try:
        parse_address(config_table.value(config, "MAIL_FROM"), "MAIL_FROM")
        recipient = parse_address(str(msg["To"] or ""), "To").addr_spec
        if config_table.value(config, "SMTP_HOST"):
            _settings(config)
        data = as_bytes(msg)
    except ValueError as exc:
        return SendResult(0, ok=False, permanent=True, error=f"cannot make the email: {exc}",
                          code="compose")
    return send_made([(0, recipient, data)], config)[0]


# ---- the development mailbox (tracker.alerts.email.mailbox) ----------------------------------

def _to_mailbox(folder: Path, item: Outgoing) -> SendResult:
    try:
        path = write_message(folder, item.delivery_id, item.data or b"")
    except OSError as exc:
        return failure(item, f"cannot write to the mailbox {folder}: {exc}", None, code="mailbox")
    return SendResult(item.delivery_id, ok=True, extra={"path": str(path)})
