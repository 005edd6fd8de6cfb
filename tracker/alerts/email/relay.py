"""One SMTP connection to the relay: its settings, opening it (TLS, login), and one message's
transaction in two halves — `start` (MAIL, RCPT, DATA and the message itself) and `finish` (the
relay's reply to the end of data) — so that the connection can make its next message while the
relay works on this one (`tracker.alerts.email.pool`).

When the relay's EHLO reply offers PIPELINING (RFC 2920), `start` writes MAIL, RCPT and DATA in
one send and then reads their three replies in order, every one of them checked: a message then
costs two waits on the relay instead of four. The body goes only after DATA got 354; a relay
that said 354 after refusing the sender or the recipient gets a lone "." to end that empty
transaction, and the refusal is what is reported. A relay that does not offer it never sees two
commands at once.

The commands are smtplib's (`SMTP.mail`, `rcpt`, `data`), written out so that what does not
change from one message to the next (the quoted sender, whether the relay takes SIZE) is worked
out once per connection, and what belongs to one message (its quoted recipient, its data with
dots doubled and the final ".") is made before the connection needs it (`wire_form`).
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tracker.alerts.model import SendResult, network_code
from tracker import settings as config_table

SECURITY = ("starttls", "tls", "none")
log = logging.getLogger(__name__)
_LEADING_DOT = re.compile(rb"(?m)^\.")  # smtplib._quote_periods


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str
    username: str | None
    password: str
    timeout: float
    ca_file: str | None
    connections: int = 1


class ConnectionEnded(Exception):
    """The connection is gone; `sent` tells whether the message's data may have reached the
    server. `code` and `fields` say why as a delivery error code (tracker.alerts.model)."""

    def __init__(self, error: str, status: int | None, sent: bool, code: str = "network",
                 fields: dict[str, Any] | None = None):
        super().__init__(error)
        self.error, self.status, self.sent = error, status, sent
        self.code, self.fields = code, dict(fields or {})


@dataclass
class Envelope:
    """One message as the connection sends it: made ahead, off the connection's critical path."""

    delivery_id: int
    rcpt: str  # the RCPT command's argument, "TO:<addr>"
    size: int  # of the message as made (what SIZE= declares, as smtplib's sendmail does)
    wire: bytes  # the data as sent after DATA: dots doubled, ending in CRLF "." CRLF


def envelope(delivery_id: int, recipient: str, data: bytes) -> Envelope:
    """The envelope for `data` to `recipient` (an addr-spec); ValueError for a recipient with a
    line break (smtplib's quoting would quietly send to the part before it)."""
    if "\r" in recipient or "\n" in recipient:
        raise ValueError(f"the recipient {recipient!r} has a line break")
    return Envelope(delivery_id, "TO:" + smtplib.quoteaddr(recipient), len(data), wire_form(data))


def wire_form(data: bytes) -> bytes:
    """What smtplib's `SMTP.data` sends for bytes: each line starting with "." gets another,
    a CRLF is added if the data does not end in one, then "." CRLF. Line ends are left as
    they are (bytes are sent as is)."""
    quoted = _LEADING_DOT.sub(b"..", data)
    if quoted[-2:] != b"\r\n":
        quoted += b"\r\n"
    return quoted + b".\r\n"


def smtp_settings(config: Mapping[str, Any]) -> SmtpSettings:
    """The SMTP_* settings, checked; ValueError says which one is wrong."""
    security = str(config_table.value(config, "SMTP_SECURITY")).strip().lower() or None
    if security is not None and security not in SECURITY:
        raise ValueError(f"SMTP_SECURITY {security!r} is not one of {', '.join(SECURITY)}")
    port_setting = config_table.value(config, "SMTP_PORT")
    try:
        port = int(port_setting) if port_setting not in (None, "") else {"tls": 465, "none": 25}.get(
            security or "", 587)
        timeout = float(config_table.value(config, "SMTP_TIMEOUT"))
        connections = int(config_table.value(config, "SMTP_CONNECTIONS"))
    except (TypeError, ValueError):
        raise ValueError(f"SMTP_PORT {port_setting!r}, SMTP_TIMEOUT or SMTP_CONNECTIONS is not a "
                         "number") from None
    return SmtpSettings(host=str(config["SMTP_HOST"]), port=port,
                        security=security or {587: "starttls", 465: "tls"}.get(port, "none"),
                        username=str(config["SMTP_USERNAME"]) if config_table.value(config, "SMTP_USERNAME") else None,
                        password=str(config_table.value(config, "SMTP_PASSWORD")), timeout=timeout,
                        ca_file=str(config["SMTP_CA_FILE"]) if config_table.value(config, "SMTP_CA_FILE") else None,
                        connections=max(1, connections))


def relay_address(config: Mapping[str, Any]) -> tuple[str, int] | None:
    """(host, port) of the SMTP relay, None without one (the development mailbox) or when its
    settings are wrong (sending says why)."""
    if not config_table.value(config, "SMTP_HOST"):
        return None
    try:
        settings = smtp_settings(config)
    except ValueError:
        return None
    return settings.host, settings.port


class Session:
    """An open connection and what stays the same for every message on it."""

    def __init__(self, smtp: smtplib.SMTP, mail_from: str):
        self.smtp = smtp
        self.mail_from = mail_from  # "FROM:<addr>"
        self.size = smtp.does_esmtp and smtp.has_extn("size")
        self.pipelining = smtp.does_esmtp and smtp.has_extn("pipelining")

    def close(self) -> None:
        self.smtp.close()

    def quit(self) -> None:
        try:
            self.smtp.quit()
        except (OSError, smtplib.SMTPException):
            self.smtp.close()


def open_session(settings: SmtpSettings, mail_from: str,
                 tls: Callable[[], ssl.SSLContext]) -> Session:
    """An open, greeted, secured and logged-in connection, else ConnectionEnded. `tls` gives
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
                raise ConnectionEnded(f"{where} does not offer STARTTLS (SMTP_SECURITY is starttls)",
                                      None, False, "no_starttls")
            smtp.starttls(context=tls())
            smtp.ehlo()
        if settings.username:
            smtp.login(settings.username, settings.password)
        return Session(smtp, mail_from)
    except BaseException as exc:
        if smtp is not None:
            smtp.close()
        if isinstance(exc, ConnectionEnded):
            raise
        if isinstance(exc, smtplib.SMTPResponseException):
            login = isinstance(exc, smtplib.SMTPAuthenticationError)
            raise ConnectionEnded(f"{where} {'login refused' if login else 'refused'}: "
                                  f"{exc.smtp_code} {_text(exc.smtp_error)}", exc.smtp_code, False,
                                  "smtp_login" if login else "smtp",
                                  {"status": exc.smtp_code}) from None
        if isinstance(exc, (OSError, smtplib.SMTPException)):
            raise ConnectionEnded(f"cannot connect to {where}: {exc or type(exc).__name__}", None,
                                  False, network_code(exc)) from None
        raise


def start(session: Session, message: Envelope) -> SendResult | None:
    """MAIL, RCPT, DATA, then the message: None once it is sent and the relay's answer is
    pending (`finish`), else how it was refused. Raises ConnectionEnded when the connection is
    lost or the server says 421 (closing). Pipelined when the relay offers it."""
    if session.pipelining:
        return _start_pipelined(session, message)
    smtp = session.smtp
    stage = "MAIL FROM"
    try:
        smtp.putcmd("mail", _mail_argument(session, message))
        code, reply = smtp.getreply()
        if not 200 <= code < 300:
            return _mail_refused(smtp, message, code, reply)
        stage = "RCPT TO"
        smtp.putcmd("rcpt", message.rcpt)
        code, reply = smtp.getreply()
        if not 200 <= code < 300:
            return _refused(smtp, message, stage, code, reply, permanent=code >= 500)
        stage = "DATA"
        smtp.putcmd("data")
        code, reply = smtp.getreply()
        if code != 354:  # DATA itself was answered without "go ahead"
            return _refused(smtp, message, stage, code, reply, permanent=code >= 500)
        smtp.send(message.wire)
        return None
    except (OSError, smtplib.SMTPException) as exc:
        # Lost while the data was going out: the server may have kept it (as before the split,
        # when DATA and its answer were one call).
        raise _lost(stage, exc, sent=stage == "DATA") from None


def _lost(stage: str, exc: BaseException, sent: bool) -> ConnectionEnded:
    """The connection went while `stage` was under way."""
    return ConnectionEnded(f"connection lost at {stage}: {exc or type(exc).__name__}", None,
                           sent, "connection_lost", {"stage": stage, "sent": sent})


_STAGES = ("MAIL FROM", "RCPT TO", "DATA")
_SENDER_NOTE = " (sender refused: check MAIL_FROM and the relay)"


def _start_pipelined(session: Session, message: Envelope) -> SendResult | None:
    """`start` for a relay that offers PIPELINING: the three commands in one send, then their
    replies in order (RFC 2920 3.1: every one checked). The message's data is sent only once
    DATA got 354, so a connection lost before that never leaves the message half sent."""
    smtp = session.smtp
    commands = (f"MAIL {_mail_argument(session, message)}", f"RCPT {message.rcpt}", "DATA")
    if any("\r" in command or "\n" in command for command in commands):
        raise ValueError(f"a command has a line break: {commands!r}")  # as smtplib's putcmd
    group = "".join(command + "\r\n" for command in commands)
    replies: list[tuple[int, bytes]] = []
    try:
        smtp.send(group)
        for stage in _STAGES:
            code, reply = smtp.getreply()
            if code == 421:  # closing (RFC 5321 3.8): the rest of the group is not answered
                raise ConnectionEnded(f"{code} at {stage}: {_text(reply)}", code, False, "smtp",
                                      {"status": code, "stage": stage})
            replies.append((code, reply))
    except (OSError, smtplib.SMTPException) as exc:
        refusal = _first_refusal(replies)
        if refusal is not None:  # what the relay said before it went is the message's outcome
            raise ConnectionEnded(_refusal_text(*refusal), refusal[1], False,
                                  *_refusal_code(refusal[0], refusal[1])) from None
        raise _lost(_STAGES[len(replies)], exc, sent=False) from None
    refusal = _first_refusal(replies)
    if refusal is None:
        try:
            smtp.send(message.wire)
        except (OSError, smtplib.SMTPException) as exc:
            raise _lost("DATA", exc, sent=True) from None
        return None
    stage, code, reply = refusal
    if replies[2][0] == 354:
        # Go ahead after a refused sender or recipient (RFC 2920 3.1): end the transaction with
        # no data, read that answer, and report the refusal.
        try:
            smtp.send(".\r\n")
            smtp.getreply()
        except (OSError, smtplib.SMTPException):
            raise ConnectionEnded(_refusal_text(stage, code, reply), code, False,
                                  *_refusal_code(stage, code)) from None
        log.warning("the relay said 354 to DATA after %s was refused (%s)", stage, code)
    if stage == "MAIL FROM":
        return _mail_refused(smtp, message, code, reply)
    return _refused(smtp, message, stage, code, reply, permanent=code >= 500)


def _first_refusal(replies: list[tuple[int, bytes]]) -> tuple[str, int, bytes] | None:
    """The first of MAIL, RCPT, DATA whose reply says no, with the reply."""
    for stage, (code, reply) in zip(_STAGES, replies):
        if not (code == 354 if stage == "DATA" else 200 <= code < 300):
            return stage, code, reply
    return None


def _refusal_text(stage: str, code: int, reply: bytes) -> str:
    note = _SENDER_NOTE if stage == "MAIL FROM" and code >= 500 else ""
    return f"{code} at {stage}: {_text(reply)}{note}"


def _refusal_code(stage: str, code: int) -> tuple[str, dict[str, Any]]:
    """A refusal's delivery error code and fields: smtp_sender for a 5xx to MAIL FROM (the
    sender, MAIL_FROM, is at fault), else smtp."""
    return ("smtp_sender" if stage == "MAIL FROM" and code >= 500 else "smtp",
            {"status": code, "stage": stage})


def _mail_argument(session: Session, message: Envelope) -> str:
    return f"{session.mail_from} SIZE={message.size}" if session.size else session.mail_from


def _mail_refused(smtp: smtplib.SMTP, message: Envelope, code: int, reply: bytes) -> SendResult:
    # 5xx here is about MAIL_FROM or the relay's rules, fixable, so retried later; 552 (too
    # big for this server) is about the message.
    return _refused(smtp, message, "MAIL FROM", code, reply, permanent=code == 552,
                    note=_SENDER_NOTE if code >= 500 else "")


def finish(session: Session, message: Envelope) -> SendResult:
    """The relay's answer to the end of the message `start` sent. Raises ConnectionEnded as
    `start` does; a connection lost here may have lost only the answer to a message the
    server kept."""
    try:
        code, reply = session.smtp.getreply()
    except (OSError, smtplib.SMTPException) as exc:
        raise _lost("DATA", exc, sent=True) from None
    if not 200 <= code < 300:
        return _refused(session.smtp, message, "end of data", code, reply, permanent=code >= 500)
    return SendResult(message.delivery_id, ok=True, status=code)


def _refused(smtp: smtplib.SMTP, message: Envelope, stage: str, code: int, reply: bytes | str,
             permanent: bool, note: str = "") -> SendResult:
    text = f"{code} at {stage}: {_text(reply)}{note}"
    kind, fields = _refusal_code(stage, code)
    if code == 421:  # the server is closing the connection (RFC 5321 3.8)
        raise ConnectionEnded(text, code, False, kind, fields)
    try:
        smtp.rset()
    except (OSError, smtplib.SMTPException):
        raise ConnectionEnded(text, code, False, kind, fields) from None
    return SendResult(message.delivery_id, ok=False, error=text, status=code, permanent=permanent,
                      code=kind, fields=fields)


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
