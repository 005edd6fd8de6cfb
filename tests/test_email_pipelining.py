"""SMTP PIPELINING (RFC 2920) against relays on 127.0.0.1: a raw-socket relay that answers from
a script and keeps every segment it received (so what arrived before it answered MAIL is
known), and aiosmtpd told to advertise PIPELINING. With PIPELINING, MAIL, RCPT and DATA go in
one send; every refusal, 421 and lost connection gives the same result as without it; the body
goes only after 354; a message is delivered once across a dropped connection. Without it, each
command waits for its reply. Every wait bounded, loopback only.
"""

from __future__ import annotations

import select
import socket
import time

import pytest

from smtp_loopback import RawServer

import tracker.alerts.email.relay as relay
from tracker.alerts.email.send import send_made

DEFAULT_REPLIES = {"MAIL": b"250 2.1.0 ok", "RCPT": b"250 2.1.5 ok", "DATA": b"354 go ahead",
                   ".": b"250 2.0.0 kept"}


class ScriptedRelay(RawServer):
    """An SMTP relay on a raw socket, one connection at a time. `script` maps (transaction,
    verb) to the reply — transactions are counted by MAIL commands, from 1, across connections;
    verb is MAIL, RCPT, DATA or "." (the end of data); None closes the connection unanswered; a
    421 reply closes it after sending. It keeps every segment received, every command line,
    what was already received and not yet read when it answered each MAIL, and each
    transaction's data (after 354, up to and with the final ".")."""

    def __init__(self, pipelining: bool, script: dict | None = None, watch: float = 0.0):
        self.pipelining, self.script, self.watch = pipelining, dict(script or {}), watch
        self.transactions = 0
        self.segments: list[bytes] = []
        self.commands: list[bytes] = []
        self.before_mail_reply: list[bytes] = []
        self.bodies: dict[int, bytes] = {}
        super().__init__()

    def config(self, **extra) -> dict:
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": self.port, "SMTP_SECURITY": "none",
                "SMTP_TIMEOUT": 5, "SMTP_CONNECTIONS": 1, **extra}

    def session(self, conn: socket.socket) -> None:
        buffer = b""

        def more() -> bool:
            nonlocal buffer
            chunk = conn.recv(65536)
            if chunk:
                self.segments.append(chunk)
                buffer += chunk
            return bool(chunk)

        conn.sendall(b"220 relay.test ESMTP\r\n")
        while True:
            while b"\r\n" not in buffer:
                if not more():
                    return
            line, buffer = buffer.split(b"\r\n", 1)
            self.commands.append(line)
            verb = line[:4].upper().decode()
            if verb == "EHLO":
                conn.sendall(b"250-relay.test\r\n" + (b"250-PIPELINING\r\n" if self.pipelining
                                                       else b"") + b"250 SIZE 1000000\r\n")
                continue
            if verb == "QUIT":
                conn.sendall(b"221 bye\r\n")
                return
            if verb not in ("MAIL", "RCPT", "DATA"):
                conn.sendall(b"250 ok\r\n")  # RSET, NOOP
                continue
            if verb == "MAIL":
                self.transactions += 1
                deadline = time.monotonic() + self.watch
                while b"DATA\r\n" not in buffer and select.select(
                        [conn], [], [], max(0.0, deadline - time.monotonic()))[0]:
                    if not more():
                        return
                self.before_mail_reply.append(buffer)
            reply = self.script.get((self.transactions, verb), DEFAULT_REPLIES[verb])
            if reply is None:
                return
            conn.sendall(reply + b"\r\n")
            if reply.startswith(b"421"):
                return
            if verb == "DATA" and reply.startswith(b"354"):
                while b"\r\n.\r\n" not in b"\r\n" + buffer:
                    if not more():
                        return
                end = (b"\r\n" + buffer).index(b"\r\n.\r\n") + 3
                self.bodies[self.transactions], buffer = buffer[:end], buffer[end:]
                reply = self.script.get((self.transactions, "."), DEFAULT_REPLIES["."])
                if reply is None:
                    return
                conn.sendall(reply + b"\r\n")


@pytest.fixture
def scripted():
    relays: list[ScriptedRelay] = []

    def start(pipelining: bool = True, script: dict | None = None, watch: float = 0.0):
        relays.append(ScriptedRelay(pipelining, script, watch))
        return relays[-1]

    yield start
    for one in relays:
        one.close()


def messages(count: int) -> list[tuple[int, str, bytes]]:
    return [(n, f"r{n}@example.org", f"Subject: {n}\r\n\r\nbody {n}\r\n.dot\r\n".encode())
            for n in range(1, count + 1)]


def outcome(results) -> list[tuple]:
    return [(r.delivery_id, r.ok, r.permanent, r.status, r.error) for r in results]


def test_with_pipelining_mail_rcpt_and_data_go_in_one_send_before_any_reply(scripted):
    server = scripted(pipelining=True, watch=5)
    results = send_made(messages(3), server.config(MAIL_FROM="tracker@example.org"))
    assert all(r.ok for r in results), outcome(results)
    groups = [s for s in server.segments if s.startswith(b"MAIL")]
    assert groups == [b"MAIL FROM:<tracker@example.org> SIZE=%d\r\nRCPT TO:<r%d@example.org>\r\n"
                      b"DATA\r\n" % (len(data), n) for n, _, data in messages(3)]
    # what the relay had received, and not yet read, when it answered each MAIL
    assert server.before_mail_reply == [b"RCPT TO:<r%d@example.org>\r\nDATA\r\n" % n
                                        for n in (1, 2, 3)]
    assert server.bodies == {n: data.replace(b"\r\n.dot", b"\r\n..dot") + b".\r\n"
                             for n, _, data in messages(3)}
    assert server.connections == 1


def test_without_pipelining_each_command_waits_for_its_reply(scripted):
    server = scripted(pipelining=False, watch=0.3)  # the relay waits 0.3 s for more before MAIL's reply
    results = send_made(messages(2), server.config())
    assert all(r.ok for r in results), outcome(results)
    assert server.before_mail_reply == [b"", b""]
    commands = [s for s in server.segments if s[:4].upper() in (b"MAIL", b"RCPT", b"DATA")]
    assert [c[:4].upper() for c in commands] == [b"MAIL", b"RCPT", b"DATA"] * 2
    assert all(c.count(b"\r\n") == 1 for c in commands)  # one command a segment
    assert sorted(server.bodies) == [1, 2]


SENDER_REFUSED = {(1, "MAIL"): b"550 5.7.1 Sender not allowed", (1, "RCPT"): b"503 5.5.1 MAIL first",
                  (1, "DATA"): b"503 5.5.1 MAIL first"}
REFUSALS = {
    "sender refused": SENDER_REFUSED,
    "too big": {**SENDER_REFUSED, (1, "MAIL"): b"552 5.3.4 Message too big"},
    "recipient unknown": {(1, "RCPT"): b"550 5.1.1 No such user",
                          (1, "DATA"): b"554 5.5.1 No valid recipients"},
    "recipient greylisted": {(1, "RCPT"): b"451 4.7.1 Greylisted", (1, "DATA"): b"503 5.5.1 RCPT first"},
    "recipient unknown, in two lines": {(1, "RCPT"): b"550-5.1.1 No such user\r\n550 5.1.1 Try again",
                                        (1, "DATA"): b"554 5.5.1 No valid recipients"},
    "DATA refused": {(1, "DATA"): b"451 4.3.0 Temporary local problem"},
    "354 after a refused recipient": {(1, "RCPT"): b"550 5.1.1 No such user",
                                      (1, "DATA"): b"354 go ahead", (1, "."): b"554 5.5.1 No recipients"},
    "354 after a refused sender": {**SENDER_REFUSED, (1, "DATA"): b"354 go ahead",
                                   (1, "."): b"554 5.5.1 No recipients"},
}
EXPECTED = {  # (permanent, status, where in the error)
    "sender refused": (False, 550, "550 at MAIL FROM: 5.7.1 Sender not allowed (sender refused: "
                                   "check MAIL_FROM and the relay)"),
    "too big": (True, 552, "552 at MAIL FROM: 5.3.4 Message too big (sender refused"),
    "recipient unknown": (True, 550, "550 at RCPT TO: 5.1.1 No such user"),
    "recipient greylisted": (False, 451, "451 at RCPT TO: 4.7.1 Greylisted"),
    "recipient unknown, in two lines": (True, 550, "550 at RCPT TO: 5.1.1 No such user\n5.1.1 Try again"),
    "DATA refused": (False, 451, "451 at DATA: 4.3.0 Temporary local problem"),
    "354 after a refused recipient": (True, 550, "550 at RCPT TO: 5.1.1 No such user"),
    "354 after a refused sender": (False, 550, "550 at MAIL FROM: 5.7.1 Sender not allowed"),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_a_refusal_in_the_group_is_reported_as_without_pipelining_and_the_next_message_goes(
        scripted, case):
    results = {}
    for pipelining in (True, False):
        server = scripted(pipelining=pipelining, script=REFUSALS[case])
        results[pipelining] = send_made(messages(2), server.config())
        first, second = results[pipelining]
        assert (first.ok, first.permanent, first.status) == (False, *EXPECTED[case][:2]) and \
            first.error.startswith(EXPECTED[case][2]), outcome(results[pipelining])
        assert second.ok and server.connections == 1
        assert sorted(server.bodies) == ([1, 2] if pipelining and case.startswith("354") else [2])
        if 1 in server.bodies:  # the relay said 354 after a refusal: an empty message ended it
            assert server.bodies[1] == b".\r\n"
        # after the refusal (and the lone "." if there was one): RSET, then the next message
        verbs = [c[:4].upper() for c in server.commands]
        rset = verbs.index(b"RSET")
        assert verbs[rset + 1] == b"MAIL" and verbs.count(b"RSET") == 1
        assert (b"DATA" in verbs[:rset]) == (pipelining or case == "DATA refused")
        assert server.bodies[2].startswith(b"Subject: 2\r\n")
    assert outcome(results[True]) == outcome(results[False])


@pytest.mark.parametrize("stage", ["MAIL", "RCPT", "DATA"])
def test_421_anywhere_in_the_group_ends_the_connection_with_nothing_sent(scripted, stage):
    script = {(1, stage): b"421 4.3.2 Closing, try later"}
    results = {}
    for pipelining in (True, False):
        server = scripted(pipelining=pipelining, script=script)
        results[pipelining] = send_made(messages(2), server.config())
        assert [(r.ok, r.permanent, r.status) for r in results[pipelining]] == [(False, False, 421)] * 2
        assert server.bodies == {} and server.connections == 1
    assert outcome(results[True]) == outcome(results[False])
    stage_name = {"MAIL": "MAIL FROM", "RCPT": "RCPT TO", "DATA": "DATA"}[stage]
    assert results[True][0].error == f"421 at {stage_name}: 4.3.2 Closing, try later"
    assert [(r.code, r.fields) for r in results[True]] == \
        [("smtp", {"status": 421, "stage": stage_name})] * 2


@pytest.mark.parametrize("stage", ["MAIL", "RCPT", "DATA"])
def test_421_after_progress_puts_the_message_back_and_it_goes_once(scripted, stage):
    server = scripted(script={(2, stage): b"421 4.3.2 Closing, try later"})
    results = send_made(messages(3), server.config())
    assert all(r.ok for r in results), outcome(results)
    assert server.connections == 2 and server.transactions == 4  # the second went again
    assert sorted(body.split(b"\r\n")[0] for body in server.bodies.values()) == \
        [b"Subject: 1", b"Subject: 2", b"Subject: 3"]


@pytest.mark.parametrize("stage", ["MAIL", "RCPT", "DATA"])
def test_a_connection_lost_before_the_data_means_not_sent_and_the_message_goes_again_once(
        scripted, stage):
    """The relay reads the whole group, answers up to `stage` and closes: the message's data was
    never sent, so after progress it goes again on a new connection, once; as the first message
    it fails (not permanently), and the error does not say the relay may have kept it."""
    server = scripted(script={(2, stage): None})
    results = send_made(messages(3), server.config())
    assert all(r.ok for r in results), outcome(results)
    assert server.connections == 2
    assert sorted(server.bodies) == [1, 3, 4]  # transaction 2 lost before any data
    assert [server.bodies[n].split(b"\r\n")[0] for n in (1, 3, 4)] == \
        [b"Subject: 1", b"Subject: 3", b"Subject: 2"]  # put back at the end of the queue

    server = scripted(script={(1, stage): None})
    first, second = send_made(messages(2), server.config())
    name = {"MAIL": "MAIL FROM", "RCPT": "RCPT TO", "DATA": "DATA"}[stage]
    for result in (first, second):
        assert (result.ok, result.permanent, result.status) == (False, False, None)
        assert result.error.startswith(f"connection lost at {name}: ")
        assert "may have accepted" not in result.error
    assert server.bodies == {} and server.connections == 1


def test_a_connection_lost_after_a_refused_recipient_reports_the_refusal(scripted):
    server = scripted(script={(1, "RCPT"): b"550 5.1.1 No such user", (1, "DATA"): None})
    first, second = send_made(messages(2), server.config())
    assert (first.ok, first.permanent, first.status) == (False, False, 550)
    assert first.error == "550 at RCPT TO: 5.1.1 No such user" and first.code == "smtp"
    assert not second.ok and server.bodies == {}


def test_a_connection_lost_after_the_data_may_have_delivered_it(scripted):
    """Past 354 the data went: as without pipelining, the relay may have kept the message."""
    server = scripted(script={(2, "."): None})
    results = send_made(messages(3), server.config())
    assert [r.ok for r in results] == [True, False, True], outcome(results)
    assert "may have accepted" in results[1].error and not results[1].permanent
    assert server.connections == 2 and sorted(server.bodies) == [1, 2, 3]


@pytest.fixture
def pipelined(monkeypatch) -> list[int]:
    """The delivery ids that went through the pipelined path (the real function, watched)."""
    seen: list[int] = []
    real = relay._start_pipelined

    def watched(session, message):
        seen.append(message.delivery_id)
        return real(session, message)

    monkeypatch.setattr(relay, "_start_pipelined", watched)
    return seen


def test_aiosmtpd_advertising_pipelining_gets_every_message_once_across_drops_and_421s(
        smtp, pipelined):
    """aiosmtpd answers pipelined commands line by line; a pool of 3 against it, one recipient
    refused, one whose connection drops after the data (kept, outcome unknown), and every
    connection closed with 421 after three messages."""
    recorder = smtp.recorder
    recorder.pipelining = True
    recorder.per_connection = 3
    recorder.rcpt_replies["gone@example.org"] = "550 5.1.1 No such user"
    recorder.drop_after_data.add("r4@example.org")
    batch = messages(12)
    batch.insert(6, (99, "gone@example.org", b"Subject: gone\r\n\r\nx\r\n"))
    results = send_made(batch, dict(smtp.config, SMTP_CONNECTIONS=3))
    by_id = {r.delivery_id: r for r in results}
    assert (by_id[99].ok, by_id[99].permanent, by_id[99].status) == (False, True, 550)
    assert not by_id[4].ok and "may have accepted" in by_id[4].error
    assert all(r.ok for n, r in by_id.items() if n not in (4, 99)), outcome(results)
    assert sorted(m.rcpt_tos[0] for m in recorder.messages) == \
        sorted(f"r{n}@example.org" for n in range(1, 13))  # each once, r4 too (kept)
    assert set(pipelined) == {*range(1, 13), 99}
