"""Peers that never finish, on loopback: for the tests that a time limit ends a call (they assert
the outcome: which error, what was stored) and for bench/deadline_bench.py (how soon after the
limit). Every wait of theirs is bounded, so a broken limit fails a test late but never hangs it.
"""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from typing import Callable, Iterator

from loopback import Site

GIVE_UP = 60.0  # seconds a peer here keeps a connection at most: a hang guard, never a figure


@contextmanager
def _tcp_server(handle: Callable[[socket.socket, threading.Event], None]) -> Iterator[int]:
    """A TCP server on loopback (its port) giving each connection to `handle(conn, stop)` in a
    thread of its own; `stop` is set when the server closes."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except (socket.timeout, OSError):
                continue
            threading.Thread(target=handle, args=(conn, stop), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


@contextmanager
def dripping_server(step: float) -> Iterator[int]:
    """A loopback HTTP server (its port) that sends a status line, then one header byte every
    `step` seconds for as long as the client listens (at most GIVE_UP seconds)."""
    def drip(conn: socket.socket, stop: threading.Event) -> None:
        with conn:
            conn.settimeout(5)
            try:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                deadline = time.monotonic() + GIVE_UP
                while not stop.is_set() and time.monotonic() < deadline:
                    conn.sendall(b"a")
                    stop.wait(step)
            except OSError:
                return  # the client hung up: what we wanted

    with _tcp_server(drip) as port:
        yield port


def trickled_body(site: Site, step: float = 0.05) -> Callable[[BaseHTTPRequestHandler], None]:
    """A route: headers at once, then one byte of body every `step` seconds (never a read
    timeout), until the site is released or GIVE_UP seconds have passed."""
    def handle(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/plain")
        handler.end_headers()
        deadline = time.monotonic() + GIVE_UP
        try:
            while time.monotonic() < deadline and not site.release.wait(step):
                handler.wfile.write(b"x")
                handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
    return handle


def trickled_headers(site: Site, step: float = 0.05) -> Callable[[BaseHTTPRequestHandler], None]:
    """A route: the status line and a header one byte every `step` seconds, never finished,
    until the site is released or GIVE_UP seconds have passed."""
    def handle(handler: BaseHTTPRequestHandler) -> None:
        deadline = time.monotonic() + GIVE_UP
        try:
            for byte in b"HTTP/1.1 200 OK\r\nX-Padding: " + b"x" * 100_000:
                if time.monotonic() > deadline or site.release.wait(timeout=step):
                    return
                handler.wfile.write(bytes([byte]))
        except (BrokenPipeError, ConnectionResetError):
            pass
    return handle


def hung(site: Site) -> Callable[[BaseHTTPRequestHandler], None]:
    """A route that answers nothing until the site is released (GIVE_UP seconds at most)."""
    def handle(handler: BaseHTTPRequestHandler) -> None:
        site.release.wait(timeout=GIVE_UP)
    return handle


@contextmanager
def silent_server() -> Iterator[int]:
    """A TCP server on loopback (its port) that accepts and never says a word (a mail relay
    that does not greet), each connection held at most GIVE_UP seconds."""
    def hold(conn: socket.socket, stop: threading.Event) -> None:
        with conn:
            stop.wait(GIVE_UP)

    with _tcp_server(hold) as port:
        yield port
