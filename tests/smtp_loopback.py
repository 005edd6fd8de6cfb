"""A real SMTP server on loopback for tests (aiosmtpd): records what arrives, answers what it is
told (421, 451, 550…), counts connections, and can hold a DATA reply until released."""

from __future__ import annotations

import asyncio
import socket
import threading
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult

@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes


@dataclass
class Recorder:
    """aiosmtpd handler: records what arrives; told what to answer."""

    messages: list[Received] = field(default_factory=list)
    connections: int = 0
    logins: list[tuple[str, str]] = field(default_factory=list)
    tls_messages: int = 0
    rcpt_replies: dict[str, str] = field(default_factory=dict)  # address -> "550 …"
    data_replies: dict[str, str] = field(default_factory=dict)  # address -> reply at end of data
    mail_reply: str | None = None  # reply to every MAIL FROM
    per_connection: int | None = None  # 421 at MAIL FROM after this many messages
    drop_at_mail: bool = False  # close the connection, no answer, at MAIL FROM
    drop_after_data: set[str] = field(default_factory=set)  # keep the data, never answer
    hold_data: set[str] = field(default_factory=set)  # DATA for these waits for `release`
    holding: threading.Event = field(default_factory=threading.Event)  # set while one waits
    release: threading.Event = field(default_factory=threading.Event)
    pipelining: bool = False  # advertise PIPELINING (RFC 2920) in the EHLO reply

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        """aiosmtpd reads commands line by line, so it takes pipelined ones as they come; it
        only does not say so. This hook adds the EHLO line when told to."""
        session.host_name = hostname
        if self.pipelining:
            return [*responses[:-1], "250-PIPELINING", responses[-1]]
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.drop_at_mail:
            server.transport.abort()
            return "250 OK"
        if self.per_connection is not None and getattr(session, "delivered", 0) >= self.per_connection:
            return "421 4.7.0 Too many messages on this connection, closing"
        if self.mail_reply:
            return self.mail_reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        rcpt = envelope.rcpt_tos[0]
        if rcpt in self.hold_data:
            self.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 30)
        if rcpt in self.data_replies:
            return self.data_replies[rcpt]
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        if rcpt in self.drop_after_data:
            server.transport.abort()
            return "250 OK"
        session.delivered = getattr(session, "delivered", 0) + 1
        if server.transport.get_extra_info("ssl_object") is not None:
            self.tls_messages += 1
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        self.logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=auth_data.password == b"s3cret", handled=False)

    def received(self, address: str) -> list[Received]:
        return [m for m in self.messages if m.rcpt_tos == [address]]


class CountingSMTP(SMTP):
    def connection_made(self, transport):
        if self.transport is None:  # not the second call that STARTTLS makes
            self.event_handler.connections += 1
        super().connection_made(transport)


class LoopbackController(Controller):
    """aiosmtpd's Controller on 127.0.0.1 port 0 (it would wake its server on the port it was given)."""

    def factory(self):
        return CountingSMTP(self.handler, **self.SMTP_kwargs)

    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@dataclass
class Server:
    recorder: Recorder
    port: int
    config: dict




class RawServer:
    """A server on a raw loopback socket for what aiosmtpd cannot show (the exact bytes, what
    arrived before a reply): one connection at a time, each answered by `session`, until
    `close`. A subclass sets its own fields before calling this __init__ (the thread starts)."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)  # so that `close` is seen soon
        self.port = self.listener.getsockname()[1]
        self.stop = threading.Event()
        self.connections = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def session(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.settimeout(10)
                try:
                    self.session(conn)
                except OSError:
                    pass  # the client went: the next connection

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
        self.listener.close()
