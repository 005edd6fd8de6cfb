"""A batch of messages over a small pool of SMTP connections (SMTP_CONNECTIONS), each on its own
thread, sharing one queue of messages (`Work`). Each result is reported as soon as the relay
answered it (at most the making of one message later, for a relay faster than that).

A connection makes the next message while the relay works on the one it has just sent: between
the end of the data and the relay's answer it takes the first message not made yet, makes it
(composed, its envelope and dots doubled) and puts it back at the front of the queue, made, so
that the connection's own work hides behind the relay's. It does not keep it: whichever
connection is free first sends it, a connection waiting on a slow answer holds nothing back,
and a connection that ends holds nothing that could be lost, sent or reported twice.

How an attempt ends: see `tracker.alerts.email.send`. A connection that ends after it delivered
at least one message is opened again, and the message it refused only because it was closing
goes again; one that ends with no progress leaves its messages to the other connections, and
the last connection to go fails what is left, not permanently.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from tracker.alerts.email.relay import (ConnectionEnded, Envelope, Session, SmtpSettings,
                                        envelope, finish, open_session, start)
from tracker.alerts.model import SendResult

log = logging.getLogger(__name__)

Done = Callable[[int, SendResult], None]  # (index in the batch, result)


@dataclass
class Outgoing:
    index: int  # in the batch
    delivery_id: int
    recipient: str  # addr-spec for RCPT TO
    data: bytes | None  # None: not made yet (`make` makes it, on the connection's thread)
    make: Callable[[], tuple[str, bytes]] | None = None
    envelope: Envelope | None = None  # what the connection sends, made by `prepare(smtp=True)`

    def prepare(self, smtp: bool = False) -> SendResult | None:
        """Make the message (and for SMTP its envelope, which then holds the only copy) if not
        made yet; the failure when it cannot be made."""
        if smtp and self.envelope is not None:
            return None
        try:
            if self.data is None and self.make is not None:
                self.recipient, self.data = self.make()
            if smtp:
                self.envelope = envelope(self.delivery_id, self.recipient, self.data or b"")
                self.data = None
        except ValueError as exc:
            return SendResult(self.delivery_id, ok=False, permanent=True,
                              error=f"cannot make the email: {exc}", code="compose")
        except Exception as exc:  # a bug, not this alert's fault for ever: retried later
            log.exception("composing the email for delivery %s failed", self.delivery_id)
            return SendResult(self.delivery_id, ok=False,
                              error=f"cannot make the email: {type(exc).__name__}: {exc}",
                              code="internal")
        return None


def _final(done: Done, item: Outgoing, result: SendResult) -> None:
    """Report the message's result; what was made for it is not needed any more."""
    item.envelope = None
    done(item.index, result)


def failure(item: Outgoing, error: str, status: int | None, permanent: bool = False, *,
            code: str, fields: dict | None = None) -> SendResult:
    """The message failed: `error` in English, `code` and `fields` for the pages."""
    return SendResult(item.delivery_id, ok=False, error=error, status=status, permanent=permanent,
                      code=code, fields=dict(fields or {}))


def ended_with(item: Outgoing, how: ConnectionEnded, note: str = "") -> SendResult:
    """The message failed because its connection ended `how`."""
    return failure(item, how.error + note, how.status, code=how.code, fields=how.fields)


class Work:
    """The messages not yet taken, shared by the pool's connections, and how many connections
    still run. A connection that finds nothing left, or ends without progress, counts itself
    out in the same step; the last one out fails whatever is still queued (messages put back by
    one that ended), so a message is never left behind."""

    def __init__(self, outgoing: list[Outgoing], connections: int = 1):
        self.pending = deque(outgoing)
        self.running = connections
        self.lock = threading.Lock()
        self.context: ssl.SSLContext | None = None

    def tls(self, settings: SmtpSettings) -> ssl.SSLContext:
        """One TLS context for all the pool's connections: loading the CA bundle is tens of ms."""
        with self.lock:
            if self.context is None:
                self.context = ssl.create_default_context(cafile=settings.ca_file)
            return self.context

    def take(self, done: Done) -> Outgoing | None:
        """The next message, made (most often already, by `make_ahead`); one that cannot be made
        is reported and skipped. None when the queue is empty, and then the connection is
        counted out in the same step."""
        while True:
            with self.lock:
                if not self.pending:
                    self.running -= 1
                    return None
                item = self.pending.popleft()
            if item.envelope is not None:
                return item
            problem = item.prepare(smtp=True)
            if problem is None:
                return item
            done(item.index, problem)

    def make_ahead(self, done: Done) -> None:
        """Make the first queued message not made yet and put it back at the front, for
        whichever connection is free first: a connection whose relay is slow to answer never
        holds the next message back from the others."""
        while True:
            with self.lock:
                for position, item in enumerate(self.pending):
                    if item.envelope is None:
                        del self.pending[position]
                        break
                else:
                    return
            problem = item.prepare(smtp=True)
            if problem is None:
                with self.lock:
                    self.pending.appendleft(item)
                return
            done(item.index, problem)

    def put_back(self, item: Outgoing) -> None:
        with self.lock:
            self.pending.append(item)

    def leave(self, ended: ConnectionEnded, done: Done) -> None:
        """A connection gives up; if it was the last one, what is left fails with its error."""
        with self.lock:
            self.running -= 1
            left = list(self.pending) if self.running == 0 else []
            if left:
                self.pending.clear()
        for item in left:
            _final(done, item, ended_with(item, ended))


def send_pool(settings: SmtpSettings, sender: str, outgoing: list[Outgoing], done: Done) -> None:
    """The messages over up to `settings.connections` connections at once, each its own thread
    (one connection: this thread); returns when every message has its result."""
    count = max(1, min(settings.connections, len(outgoing)))
    work = Work(outgoing, count)
    mail_from = "FROM:" + smtplib.quoteaddr(sender)
    if count == 1:
        _connection(settings, mail_from, work, done)
        return
    threads = [threading.Thread(target=_connection, args=(settings, mail_from, work, done),
                                name=f"smtp-{n}", daemon=True) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _connection(settings: SmtpSettings, mail_from: str, work: Work, done: Done) -> None:
    """One connection's share of `work`, until nothing is left or the connection cannot go on.
    While the relay works on a message, the next one is made (`Work.make_ahead`)."""
    session: Session | None = None
    delivered = 0  # on the current connection
    try:
        while True:
            if session is None:
                try:
                    session, delivered = open_session(settings, mail_from,
                                                      lambda: work.tls(settings)), 0
                except ConnectionEnded as ended:
                    work.leave(ended, done)
                    return
            item = work.take(done)
            if item is None:
                return
            try:
                result = start(session, item.envelope)
                if result is None:  # sent: the next one is made while the relay works
                    work.make_ahead(done)
                    result = finish(session, item.envelope)
            except ConnectionEnded as ended:
                session.close()
                session = None
                if ended.sent:
                    _final(done, item, ended_with(item, ended, "; the server may have accepted "
                                                  "the message (a retry keeps its Message-ID)"))
                elif delivered:
                    work.put_back(item)  # refused only because the connection ended: once more
                else:
                    _final(done, item, ended_with(item, ended))
                if not delivered:  # no progress on that connection: try again later, not now
                    work.leave(ended, done)
                    return
                log.info("SMTP connection ended after %d messages (%s); reconnecting",
                         delivered, ended.error)
                continue
            delivered += result.ok
            _final(done, item, result)
    finally:
        if session is not None:
            session.quit()
