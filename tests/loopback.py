"""A real HTTP server on loopback for tests: routes by path, a log of what was asked, a latch that
holds a handler until the test ends. Loopback only; every wait is bounded."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterable, Iterator


@dataclass
class Site:
    """A loopback web server: routes by path, a log of requested paths, a latch for stuck handlers."""

    base: str = ""
    routes: dict[str, Callable[[BaseHTTPRequestHandler], None]] = field(default_factory=dict)
    requested: list[str] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    sent: dict[str, int] = field(default_factory=dict)
    finished: dict[str, threading.Event] = field(default_factory=dict)


def respond(body: bytes, content_type: str = "text/html; charset=utf-8", status: int = 200,
            headers: dict[str, str] | None = None) -> Callable[[BaseHTTPRequestHandler], None]:
    def handle(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(body)
    return handle


@contextmanager
def serve() -> Iterator[Site]:
    """A Site on 127.0.0.1 with a free port, shut down (and its stuck handlers released) on exit."""
    state = Site()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requested.append(self.path)
            route = state.routes.get(self.path)
            if route is None:
                self.send_error(404)
            else:
                route(self)

        do_POST = do_GET  # webhooks POST: the same routes (a route reads the body itself)

        def log_message(self, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 128  # many deliveries arrive at once; 5 (the default) resets some

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def stream(state: Site, name: str, total: int,
           content_length: bool) -> Callable[[BaseHTTPRequestHandler], None]:
    """A body of `total` bytes written in 64 KB chunks, counting what the client accepted."""
    chunk = b"x" * 65536
    state.finished[name] = threading.Event()

    def handle(handler: BaseHTTPRequestHandler) -> None:
        state.sent[name] = 0
        try:
            handler.send_response(200)
            handler.send_header("Content-Type", "text/plain; charset=utf-8")
            if content_length:
                handler.send_header("Content-Length", str(total))
            handler.end_headers()
            while state.sent[name] < total and not state.release.is_set():
                handler.wfile.write(chunk)
                state.sent[name] += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            state.finished[name].set()
    return handle


def record_connections(state: Site, paths: Iterable[str],
                       answer: Callable[[BaseHTTPRequestHandler], None]) -> list[str]:
    """Route `paths` to `answer`, noting "METHOD path" of every request that arrives (a server that
    stands for the host's own network: what reached it is the finding). The list is also
    `state.connections`."""
    connections: list[str] = []

    def record(handler: BaseHTTPRequestHandler) -> None:
        connections.append(f"{handler.command} {handler.path}")
        answer(handler)

    for path in paths:
        state.routes[path] = record
    state.connections = connections  # type: ignore[attr-defined]
    return connections
