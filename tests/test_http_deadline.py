"""Time limits that hold: TRACKER_HTTP_TOTAL_TIMEOUT bounds the whole request, the wait for the
response headers included, and so does the e-paper deadline. The server here answers at once
but drips its headers one byte at a time, faster than the read timeout (which never trips)."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from typing import Iterator

import pytest

from epaper_site import DAY
from tracker.documents import InputError
from tracker.sources.catalog import Source
from tracker.sources.epaper import issue_documents
from tracker.sources.http import fetch


@contextmanager
def dripping_server(step: float) -> Iterator[int]:
    """A loopback server that sends a status line, then one header byte every `step` seconds
    for as long as the client listens (at most 60 s)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()

    def drip(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            try:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                deadline = time.monotonic() + 60
                while not stop.is_set() and time.monotonic() < deadline:
                    conn.sendall(b"a")
                    stop.wait(step)
            except OSError:
                return  # the client hung up: what we wanted

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except (socket.timeout, OSError):
                continue
            threading.Thread(target=drip, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


@pytest.fixture
def dripping() -> Iterator[int]:
    with dripping_server(0.25) as port:
        yield port


def test_headers_dripped_slower_than_the_total_limit_are_cut_at_it(dripping):
    config = {"HTTP_CONNECT_TIMEOUT": 1.0, "HTTP_READ_TIMEOUT": 1.0, "HTTP_TOTAL_TIMEOUT": 1.5}
    started = time.monotonic()
    with pytest.raises(InputError) as caught:
        fetch(f"http://127.0.0.1:{dripping}/feed.xml", config)
    took = time.monotonic() - started
    assert 1.4 <= took < 3.5, took
    assert str(caught.value).endswith("timed out after 1.5 s")


def test_the_epaper_deadline_cuts_an_index_whose_headers_drip(dripping):
    source = Source(id="slow", name="慢报", type="epaper",
                    url=f"http://127.0.0.1:{dripping}/{{date:%Y-%m/%d}}/node_1.htm")
    config = {"HTTP_CONNECT_TIMEOUT": 1.0, "HTTP_READ_TIMEOUT": 1.0, "HTTP_TOTAL_TIMEOUT": 30.0,
              "EPAPER_DEADLINE": 1.5}
    started = time.monotonic()
    try:
        issue = issue_documents(source, DAY, config)
        said = " ".join(issue.problems)
    except InputError as error:
        said = str(error)
    assert time.monotonic() - started < 3.5
    assert "timed out" in said or "EPAPER_DEADLINE" in said, said


def test_a_quick_answer_is_untouched_by_the_watchdog(site):
    from loopback import respond

    site.routes["/ok.txt"] = respond(b"fine", "text/plain")
    config = {"HTTP_CONNECT_TIMEOUT": 1.0, "HTTP_READ_TIMEOUT": 1.0, "HTTP_TOTAL_TIMEOUT": 0.5}
    for _ in range(3):  # the timer of one request never reaches the next
        assert fetch(f"{site.base}/ok.txt", config).data == b"fine"
