"""Email: alerts sent over SMTP, a small pool of connections (SMTP_CONNECTIONS, default 4) sharing
a batch, or written to the instance folder's development mailbox (`instance/mailbox/*.eml`) when
no SMTP_HOST is configured. Each message's result is reported as soon as the server answered it,
so the caller can record it before the next one is known.

Settings: MAIL_FROM (default "tracker <tracker@localhost>"); SMTP_HOST; SMTP_PORT (default 587,
or 465 with SMTP_SECURITY "tls", 25 with "none"); SMTP_SECURITY "starttls" | "tls" | "none"
(default: starttls on 587, tls on 465, else none); SMTP_USERNAME and SMTP_PASSWORD (login when
given); SMTP_TIMEOUT seconds per network operation (default 30); SMTP_CA_FILE, a CA bundle for a
relay with a private certificate (default: the system's).

How an attempt ends (SendResult): 2xx ok. A 5xx for this recipient or this message (RCPT, DATA)
is permanent; 4xx is not, with its code. Anything about the connection or the configuration
(cannot connect, 421 at the greeting, TLS or login refused, sender refused) fails the remaining
messages, not permanently (once no other connection of the pool is left to send them): the
schedule retries them with the same Message-ID. A connection that
ends after it delivered at least one message (a per-connection limit) is opened again, and a
message it refused before its data was sent goes again on the new one; a connection that ends
while a message's data was in flight leaves that message "outcome unknown", not retried here.

Somewhat over 350 lines on purpose: the pool and its failure handling (which message goes again
on which connection) read as one piece; the mail itself is made in `email_compose`.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from tracker.alerts.email_wire import as_bytes
from tracker.alerts.email_compose import DEFAULT_FROM, compose_bytes, parse_address
from tracker.alerts.model import Alert, SendResult
from tracker.alerts.email.mailbox import mailbox_folder, write_message


log = logging.getLogger(__name__)

SECURITY = ("starttls", "tls", "none")
DEFAULT_CONNECTIONS = 4


@dataclass
class _Outgoing:
    index: int  # in the batch
    delivery_id: int
    recipient: str  # addr-spec for RCPT TO
    data: bytes | None  # None: not made yet (`make` makes it, on the connection's thread)
    make: Callable[[], tuple[str, bytes]] | None = None

    def prepare(self) -> SendResult | None:
        """Make the message if it is not made yet; the failure when it cannot be made."""
        if self.data is not None or self.make is None:
            return None
        try:
            self.recipient, self.data = self.make()
        except ValueError as exc:
            return SendResult(self.delivery_id, ok=False, permanent=True,
                              error=f"cannot make the email: {exc}")
        except Exception as exc:  # a bug, not this alert's fault for ever: retried later
            log.exception("composing the email for delivery %s failed", self.delivery_id)
            return SendResult(self.delivery_id, ok=False,
                              error=f"cannot make the email: {type(exc).__name__}: {exc}")
        return None


@dataclass(frozen=True)
class _SmtpSettings:
    host: str
    port: int
    security: str
    username: str | None
    password: str
    timeout: float
    ca_file: str | None
    connections: int = 1


class _ConnectionEnded(Exception):
    """The connection is gone; `sent` tells whether the message's data may have reached the server."""

    def __init__(self, error: str, status: int | None, sent: bool):
        super().__init__(error)
        self.error, self.status, self.sent = error, status, sent


def send_emails(batch: list[tuple[Alert, str]], config: Mapping[str, Any],
                report: Callable[[SendResult], None] | None = None) -> list[SendResult]:
    """Send each (alert, address); one SendResult per pair, in the batch's order, and each to
    `report` as soon as the server answered it (from the pool's threads)."""
    # Each message is made when a connection takes it (a pool's threads make them while others
    # wait on the relay; a large batch is never held whole in memory).
    return _send([_Outgoing(index, alert.delivery_id, "", None,
                            make=partial(compose_bytes, alert, address, config))
                  for index, (alert, address) in enumerate(batch)], config, report)


def send_made(messages: list[tuple[int, str, bytes]], config: Mapping[str, Any],
              report: Callable[[SendResult], None] | None = None) -> list[SendResult]:
    """Messages already made, as (delivery id, recipient addr-spec, bytes), through the transport
    alerts use (the SMTP pool, or the development mailbox): one SendResult each, in order."""
    return _send([_Outgoing(index, delivery_id, recipient, data)
                  for index, (delivery_id, recipient, data) in enumerate(messages)], config, report)


def _send(outgoing: list[_Outgoing], config: Mapping[str, Any],
          report: Callable[[SendResult], None] | None) -> list[SendResult]:
    results: list[SendResult | None] = [None] * len(outgoing)

    def done(index: int, result: SendResult) -> None:
        results[index] = result
        if report:
            report(result)

    try:
        sender = parse_address(config.get("MAIL_FROM") or DEFAULT_FROM, "MAIL_FROM").addr_spec
        settings = _settings(config) if config.get("SMTP_HOST") else None
    except ValueError as exc:
        for item in outgoing:
            done(item.index, SendResult(item.delivery_id, ok=False, error=f"configuration: {exc}"))
        return [r for r in results if r is not None]
    if settings is None:
        folder = mailbox_folder(config)
        for item in outgoing:
            done(item.index, item.prepare() or _to_mailbox(folder, item))
    elif outgoing:
        _send_pool(settings, sender, outgoing, done)
    return [result or SendResult(item.delivery_id, ok=False, error="not sent")
            for result, item in zip(results, outgoing)]


def send_message(msg: EmailMessage, config: Mapping[str, Any]) -> SendResult:
    """One message that is not an alert (a confirmation request, say), to its To address, through
    the same transport as alerts: SMTP when SMTP_HOST is set, else the development mailbox. The
    result's delivery_id is 0; a send failure is a result, never an exception."""
    try:
        parse_address(config.get("MAIL_FROM") or DEFAULT_FROM, "MAIL_FROM")
        recipient = parse_address(str(msg["To"] or ""), "To").addr_spec
        if config.get("SMTP_HOST"):
            _settings(config)
        data = as_bytes(msg)
    except ValueError as exc:
        return SendResult(0, ok=False, permanent=True, error=f"cannot make the email: {exc}")
    return send_made([(0, recipient, data)], config)[0]


# ---- SMTP --------------------------------------------------------------------------------------

def _settings(config: Mapping[str, Any]) -> _SmtpSettings:
    security = str(config.get("SMTP_SECURITY") or "").strip().lower() or None
    if security is not None and security not in SECURITY:
        raise ValueError(f"SMTP_SECURITY {security!r} is not one of {', '.join(SECURITY)}")
    port_setting = config.get("SMTP_PORT")
    try:
        port = int(port_setting) if port_setting not in (None, "") else {"tls": 465, "none": 25}.get(
            security or "", 587)
        timeout = float(config.get("SMTP_TIMEOUT") or 30)
        connections = int(config.get("SMTP_CONNECTIONS") or DEFAULT_CONNECTIONS)
    except (TypeError, ValueError):
        raise ValueError(f"SMTP_PORT {port_setting!r}, SMTP_TIMEOUT or SMTP_CONNECTIONS is not a "
                         "number") from None
    return _SmtpSettings(host=str(config["SMTP_HOST"]), port=port,
                     security=security or {587: "starttls", 465: "tls"}.get(port, "none"),
                     username=str(config["SMTP_USERNAME"]) if config.get("SMTP_USERNAME") else None,
                     password=str(config.get("SMTP_PASSWORD") or ""), timeout=timeout,
                     ca_file=str(config["SMTP_CA_FILE"]) if config.get("SMTP_CA_FILE") else None,
                     connections=max(1, connections))


def _connect(settings: _SmtpSettings, tls: Callable[[], ssl.SSLContext]) -> smtplib.SMTP:
    """An open, greeted, secured and logged-in connection, else _ConnectionEnded. `tls` gives
    the TLS context, asked for only when the connection uses TLS."""
    where = f"{settings.host}:{settings.port}"
    smtp: smtplib.SMTP | None = None
    try:
        if settings.security == "tls":
            smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout, context=tls())
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        smtp.ehlo_or_helo_if_needed()
        if settings.security == "starttls":
            if not smtp.has_extn("starttls"):
                raise _ConnectionEnded(f"{where} does not offer STARTTLS (SMTP_SECURITY is starttls)",
                                       None, False)
            smtp.starttls(context=tls())
            smtp.ehlo()
        if settings.username:
            smtp.login(settings.username, settings.password)
        return smtp
    except BaseException as exc:
        if smtp is not None:
            smtp.close()
        if isinstance(exc, _ConnectionEnded):
            raise
        if isinstance(exc, smtplib.SMTPResponseException):
            what = "login refused" if isinstance(exc, smtplib.SMTPAuthenticationError) else "refused"
            raise _ConnectionEnded(f"{where} {what}: {exc.smtp_code} {_text(exc.smtp_error)}",
                                   exc.smtp_code, False) from None
        if isinstance(exc, (OSError, smtplib.SMTPException)):
            raise _ConnectionEnded(f"cannot connect to {where}: {exc or type(exc).__name__}", None,
                                   False) from None
        raise


class _Work:
    """The messages not yet taken, shared by the pool's connections. A connection that ends
    without progress leaves them to the others; the last one to go fails what is left."""

    def __init__(self, outgoing: list[_Outgoing], connections: int = 1):
        self.pending = deque(outgoing)
        self.trying = connections
        self.lock = threading.Lock()
        self.context: ssl.SSLContext | None = None

    def tls(self, settings: _SmtpSettings) -> ssl.SSLContext:
        """One TLS context for all the pool's connections: loading the CA bundle is tens of ms."""
        with self.lock:
            if self.context is None:
                self.context = ssl.create_default_context(cafile=settings.ca_file)
            return self.context

    def take(self, done: Callable[[int, SendResult], None]) -> _Outgoing | None:
        """The next message, made; one that cannot be made is reported and skipped."""
        while True:
            with self.lock:
                if not self.pending:
                    return None
                item = self.pending.popleft()
            failure = item.prepare()
            if failure is None:
                return item
            done(item.index, failure)

    def put_back(self, item: _Outgoing) -> None:
        with self.lock:
            self.pending.append(item)

    def leave(self, ended: _ConnectionEnded, done: Callable[[int, SendResult], None]) -> None:
        with self.lock:
            self.trying -= 1
            left = list(self.pending) if self.trying == 0 else []
            if left:
                self.pending.clear()
        for item in left:
            done(item.index, _failure(item, ended.error, ended.status))


def _send_pool(settings: _SmtpSettings, sender: str, outgoing: list[_Outgoing],
               done: Callable[[int, SendResult], None]) -> None:
    """The messages over up to `settings.connections` connections at once, each its own thread;
    returns when every message has its result."""
    count = max(1, min(settings.connections, len(outgoing)))
    work = _Work(outgoing, count)
    if count == 1:
        _send_smtp(settings, sender, work, done)
        return
    threads = [threading.Thread(target=_send_smtp, args=(settings, sender, work, done),
                                name=f"smtp-{n}", daemon=True) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _send_smtp(settings: _SmtpSettings, sender: str, work: _Work,
               done: Callable[[int, SendResult], None]) -> None:
    """One connection's share of `work`: messages taken one at a time until none is left."""
    smtp: smtplib.SMTP | None = None
    delivered = 0  # on the current connection
    try:
        while True:
            if smtp is None:
                try:
                    smtp, delivered = _connect(settings, partial(work.tls, settings)), 0
                except _ConnectionEnded as ended:
                    work.leave(ended, done)
                    return
            item = work.take(done)
            if item is None:
                return
            try:
                result = _transaction(smtp, sender, item)
            except _ConnectionEnded as ended:
                smtp.close()
                smtp = None
                if ended.sent:
                    done(item.index, _failure(item, f"{ended.error}; the server may have accepted "
                                                    "the message (a retry keeps its Message-ID)",
                                              ended.status))
                elif delivered:
                    work.put_back(item)  # refused only because the connection ended: once more
                else:
                    done(item.index, _failure(item, ended.error, ended.status))
                if not delivered:  # no progress on that connection: try again later, not now
                    work.leave(ended, done)
                    return
                log.info("SMTP connection ended after %d messages (%s); reconnecting", delivered, ended.error)
                continue
            delivered += result.ok
            done(item.index, result)
    finally:
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()


def _transaction(smtp: smtplib.SMTP, sender: str, item: _Outgoing) -> SendResult:
    """MAIL, RCPT, DATA for one message. Raises _ConnectionEnded when the connection is lost or
    the server says 421 (closing)."""
    stage = "MAIL FROM"
    try:
        options = [f"SIZE={len(item.data)}"] if smtp.has_extn("size") else []
        code, reply = smtp.mail(sender, options)
        if not 200 <= code < 300:
            # 5xx here is about MAIL_FROM or the relay's rules, fixable, so retried later; 552
            # (too big for this server) is about the message.
            return _refused(smtp, item, stage, code, reply, permanent=code == 552,
                            note=" (sender refused: check MAIL_FROM and the relay)" if code >= 500 else "")
        stage = "RCPT TO"
        code, reply = smtp.rcpt(item.recipient)
        if not 200 <= code < 300:
            return _refused(smtp, item, stage, code, reply, permanent=code >= 500)
        stage = "DATA"
        try:
            code, reply = smtp.data(item.data)
        except smtplib.SMTPDataError as exc:  # DATA itself was answered without 354
            return _refused(smtp, item, stage, exc.smtp_code, exc.smtp_error, permanent=exc.smtp_code >= 500)
        stage = "end of data"
        if not 200 <= code < 300:
            return _refused(smtp, item, stage, code, reply, permanent=code >= 500)
        return SendResult(item.delivery_id, ok=True, status=code)
    except (OSError, smtplib.SMTPServerDisconnected) as exc:
        # smtp.data() sends the message and reads the answer in one call: a connection lost in
        # it may have lost only the answer to a message the server kept.
        raise _ConnectionEnded(f"connection lost at {stage}: {exc or type(exc).__name__}", None,
                               sent=stage == "DATA") from None


def _refused(smtp: smtplib.SMTP, item: _Outgoing, stage: str, code: int, reply: bytes | str,
             permanent: bool, note: str = "") -> SendResult:
    text = f"{code} at {stage}: {_text(reply)}{note}"
    if code == 421:  # the server is closing the connection (RFC 5321 3.8)
        raise _ConnectionEnded(text, code, False)
    try:
        smtp.rset()
    except (OSError, smtplib.SMTPException):
        raise _ConnectionEnded(text, code, False) from None
    return _failure(item, text, code, permanent=permanent)


def _failure(item: _Outgoing, error: str, status: int | None, permanent: bool = False) -> SendResult:
    return SendResult(item.delivery_id, ok=False, error=error, status=status, permanent=permanent)


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


# ---- the development mailbox (tracker.alerts.email.mailbox) ----------------------------------

def _to_mailbox(folder: Path, item: _Outgoing) -> SendResult:
    try:
        path = write_message(folder, item.delivery_id, item.data or b"")
    except OSError as exc:
        return _failure(item, f"cannot write to the mailbox {folder}: {exc}", None)
    return SendResult(item.delivery_id, ok=True, extra={"path": str(path)})
