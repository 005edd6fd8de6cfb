"""The SMTP pool's send path against real servers on 127.0.0.1: the bytes after DATA are what
smtplib's own `SMTP.data` sends (a raw socket server records both), a message made ahead while
the relay answered another is sent exactly once when that connection drops, and a 421 in the
middle of a pool costs no message. Every wait bounded, loopback only.
"""

from __future__ import annotations

import email
import smtplib
import socket
import threading
import time
from email import policy

import pytest

from smtp_loopback import RawServer

import tracker.alerts.email.send as email_send
from tracker.alerts.email.send import send_emails, send_made
from tracker.alerts.model import Alert, AlertItem


def alert(delivery_id: int) -> Alert:
    item = AlertItem(1, "zyz", "专业镇", "我省新认定一批特色专业镇", "http://example.cn/a/1", "src",
                     "示例日报", "2025-04-08", "第1版", ("推动【专业镇】发展。",), ("专业镇",),
                     "https://tracker.example.org/articles/1")
    return Alert(delivery_id, delivery_id, "instant", "2025-04-08T00:00:00+00:00",
                 f"<delivery-{delivery_id}.pool@tracker.example.org>", f"msg_{delivery_id}", (item,),
                 "https://tracker.example.org/s/manage/t", "https://tracker.example.org/s/unsubscribe/t",
                 None)


def message_id(data: bytes) -> str:
    return str(email.message_from_bytes(data, policy=policy.default)["Message-ID"])


def wait_until(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


class RawSink(RawServer):
    """The smallest SMTP server that says yes to everything, on a raw socket: it keeps the exact
    bytes each client sent after DATA, up to and with the final "." line."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        super().__init__()

    def session(self, conn: socket.socket) -> None:
        buffer = b""
        conn.sendall(b"220 raw.test ESMTP\r\n")
        while True:
            while b"\r\n" not in buffer:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buffer += chunk
            line, buffer = buffer.split(b"\r\n", 1)
            verb = line[:4].upper()
            if verb == b"EHLO":
                conn.sendall(b"250-raw.test\r\n250 SIZE 1000000\r\n")
            elif verb == b"DATA":
                conn.sendall(b"354 go ahead\r\n")
                while b"\r\n.\r\n" not in b"\r\n" + buffer:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                at = (b"\r\n" + buffer).index(b"\r\n.\r\n") + 3  # in buffer: the end of "." CRLF
                self.bodies.append(buffer[:at])
                buffer = buffer[at:]
                conn.sendall(b"250 kept\r\n")
            elif verb == b"QUIT":
                conn.sendall(b"221 bye\r\n")
                return
            else:
                conn.sendall(b"250 ok\r\n")


@pytest.fixture
def raw_sink():
    sink = RawSink()
    yield sink
    sink.close()


TRICKY = [
    b"Subject: dots\r\n\r\n.a line that starts with a dot\r\n..two dots\r\n.\r\nno end of line",
    b"Subject: bare\n\nbare LF line ends\n.dot after LF\nlast\n",
    b"Subject: ends well\r\n\r\nbody\r\n",
    b"Subject: lone CR\r\n\r\nx\ry\r\n.\r",
    b".",
    b"",
]


def test_the_data_on_the_wire_is_exactly_what_smtplib_sends(raw_sink):
    for data in TRICKY:
        with smtplib.SMTP("127.0.0.1", raw_sink.port, timeout=10) as smtp:
            smtp.sendmail("tracker@example.org", ["a@example.org"], data)
    by_smtplib = list(raw_sink.bodies)
    raw_sink.bodies.clear()
    config = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": raw_sink.port, "SMTP_SECURITY": "none",
              "SMTP_TIMEOUT": 10, "SMTP_CONNECTIONS": 1, "MAIL_FROM": "tracker@example.org"}
    results = send_made([(n, "a@example.org", data) for n, data in enumerate(TRICKY)], config)
    assert all(r.ok for r in results), [r.error for r in results]
    assert raw_sink.bodies == by_smtplib
    assert raw_sink.bodies[0].startswith(b"Subject: dots\r\n\r\n..a line") and \
        raw_sink.bodies[0].endswith(b"\r\n...two dots\r\n..\r\nno end of line\r\n.\r\n")


def test_a_recipient_with_a_line_break_is_refused_and_the_rest_goes(raw_sink):
    config = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": raw_sink.port, "SMTP_SECURITY": "none",
              "SMTP_TIMEOUT": 10, "SMTP_CONNECTIONS": 1}
    results = send_made([(1, "a@example.org\r\nRCPT TO:<b@example.org>", b"x\r\n"),
                         (2, "c@example.org", b"y\r\n")], config)
    assert [(r.ok, r.permanent) for r in results] == [(False, True), (True, False)]
    assert raw_sink.bodies == [b"y\r\n.\r\n"]


@pytest.fixture
def composed(monkeypatch) -> list[int]:
    """The delivery ids in the order their mails were made (the real composing code, watched)."""
    made: list[int] = []
    real = email_send.compose_bytes

    def watched(alert, address, config):
        result = real(alert, address, config)
        made.append(alert.delivery_id)
        return result

    monkeypatch.setattr(email_send, "compose_bytes", watched)
    return made


def test_a_message_made_ahead_goes_once_on_the_next_connection_when_the_connection_drops(
        smtp, composed):
    """b's data is kept but its connection drops before the answer; c was made while the relay
    held b: c goes once, on the new connection, with its own Message-ID."""
    recorder = smtp.recorder
    recorder.hold_data.add("b@example.com")
    recorder.drop_after_data.add("b@example.com")

    def release_once_c_is_made() -> None:
        if recorder.holding.wait(10):
            wait_until(lambda: 3 in composed)
        recorder.release.set()

    watcher = threading.Thread(target=release_once_c_is_made)
    watcher.start()
    reported: list[int] = []
    results = send_emails([(alert(1), "a@example.com"), (alert(2), "b@example.com"),
                           (alert(3), "c@example.com")], dict(smtp.config, SMTP_CONNECTIONS=1),
                          report=lambda r: reported.append(r.delivery_id))
    watcher.join(timeout=15)
    assert composed == [1, 2, 3]  # each made once; c while b was held (the release waited for it)
    assert [r.ok for r in results] == [True, False, True]
    assert "may have accepted" in results[1].error and not results[1].permanent
    assert sorted(reported) == [1, 2, 3]
    assert recorder.connections == 2
    assert [m.rcpt_tos for m in recorder.messages] == [["a@example.com"], ["b@example.com"],
                                                       ["c@example.com"]]
    assert message_id(recorder.received("c@example.com")[0].data) == \
        "<delivery-3.pool@tracker.example.org>"


def test_in_a_pool_a_dropped_connection_loses_nothing_and_sends_nothing_twice(smtp, composed):
    recorder = smtp.recorder
    recorder.hold_data.add("r3@example.com")
    recorder.drop_after_data.add("r3@example.com")

    def release_once_more_are_made() -> None:
        if recorder.holding.wait(10):
            wait_until(lambda: len(composed) >= 8)
        recorder.release.set()

    watcher = threading.Thread(target=release_once_more_are_made)
    watcher.start()
    reported: list[int] = []
    batch = [(alert(n), f"r{n}@example.com") for n in range(12)]
    results = send_emails(batch, dict(smtp.config, SMTP_CONNECTIONS=3),
                          report=lambda r: reported.append(r.delivery_id))
    watcher.join(timeout=15)
    assert sorted(composed) == list(range(12))  # each made once
    assert sorted(reported) == list(range(12))  # each reported once
    assert [n for n, r in enumerate(results) if not r.ok] == [3]
    assert "may have accepted" in results[3].error
    received = sorted(m.rcpt_tos[0] for m in recorder.messages)
    assert received == sorted(a for _, a in batch)  # r3 kept by the server, the rest sent once
    ids = [message_id(m.data) for m in recorder.messages]
    assert len(set(ids)) == 12


def test_421_in_the_middle_of_a_pool(smtp):
    """Every connection is closed with 421 after two messages, and one recipient always gets
    421 at the end of its data: each other message arrives once; that one goes again while the
    connections it meets have made progress, and fails (not permanently, with its code) once a
    fresh connection gets 421 for it too."""
    recorder = smtp.recorder
    recorder.per_connection = 2
    recorder.data_replies["busy@example.com"] = "421 4.3.2 Closing, try later"
    batch = [(alert(n), f"r{n}@example.com") for n in range(11)]
    batch.insert(5, (alert(99), "busy@example.com"))
    reported: list[int] = []
    results = send_emails(batch, dict(smtp.config, SMTP_CONNECTIONS=3),
                          report=lambda r: reported.append(r.delivery_id))
    assert sorted(reported) == sorted(a.delivery_id for a, _ in batch)
    busy = results[5]
    assert (busy.ok, busy.permanent, busy.status) == (False, False, 421)
    assert all(r.ok for n, r in enumerate(results) if n != 5), [r.error for r in results]
    assert sorted(m.rcpt_tos[0] for m in recorder.messages) == \
        sorted(f"r{n}@example.com" for n in range(11))
    assert recorder.connections >= 6  # 11 messages, two per connection
