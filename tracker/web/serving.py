"""The web app under waitress, stopped gracefully: on SIGTERM (or SIGINT) it stops accepting,
lets the requests under way finish and their answers go out (for at most `grace` seconds),
closes idle keep-alive connections and returns, so `tracker serve` exits 0.

Waitress has no graceful stop of its own: its `serve` ends on a signal by closing every
connection at once (an answer being written is cut). So the loop is run here, a turn at a time:
a signal closes the listening sockets, and the loop goes on until no channel has a request or
unsent bytes left."""

from __future__ import annotations

import logging
import signal
import socket
import time
from typing import Any, Callable

log = logging.getLogger("tracker.web")
GRACE_SECONDS = 20.0
TURN = 0.1  # seconds a loop turn waits for activity while stopping


def _busy(channels: list[Any]) -> int:
    """How many connections still have a request under way: being received, served or sent,
    or bytes of one that arrived and are not read yet (waitress reads a kept-alive
    connection's next request only once the task serving the last one is done)."""
    return sum(1 for ch in channels if getattr(ch, "request", None) is not None
               or getattr(ch, "requests", None) or getattr(ch, "total_outbufs_len", 0)
               or _unread(ch))


def _unread(channel: Any) -> bool:
    """Whether the connection holds bytes the server has not read yet (a peek: nothing is
    taken from the socket)."""
    sock = getattr(channel, "socket", None)
    if sock is None:
        return False
    try:
        return bool(sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT))
    except OSError:  # nothing to read (EAGAIN), or the connection is gone
        return False


def serve(app: Callable, host: str, port: int, *, threads: int = 8, grace: float = GRACE_SECONDS,
          on_ready: Callable[[str], None] | None = None, **options: Any) -> None:
    """Serve `app` on host:port until SIGTERM or SIGINT, then stop as the module says."""
    from waitress import wasyncore
    from waitress.server import BaseWSGIServer, create_server

    server = create_server(app, host=host, port=port, threads=threads, **options)
    socket_map = getattr(server, "map", None) or server._map
    listeners = [obj for obj in socket_map.values() if isinstance(obj, BaseWSGIServer)]
    state: dict[str, Any] = {"stopping": 0}  # the signal that stops it

    def stop(signum: int, _frame: Any) -> None:
        # Only a flag: the loop may be inside select(), whose sockets must stay open.
        if not state["stopping"]:
            state["stopping"] = signum

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    if on_ready:
        on_ready(f"http://{host}:{port}/")
    adj = listeners[0].adj
    deadline = None
    try:
        while True:
            wasyncore.loop(timeout=TURN if state["stopping"] else adj.asyncore_loop_timeout,
                           map=socket_map, use_poll=adj.asyncore_use_poll, count=1)
            if not state["stopping"]:
                continue
            if deadline is None:  # the first turn after the signal
                log.info("signal %d: no new connections; finishing the requests under way",
                         state["stopping"])
                deadline = time.monotonic() + grace
                for listener in listeners:
                    listener.accepting = False
                    wasyncore.dispatcher.close(listener)
                continue  # one more turn: what had arrived before the signal is read first
            channels = [obj for obj in socket_map.values()
                        if not isinstance(obj, BaseWSGIServer) and hasattr(obj, "requests")]
            busy = _busy(channels)
            if busy == 0 or time.monotonic() >= deadline:
                if busy:
                    log.warning("%d requests still under way after %g s: closing them",
                                busy, grace)
                break
    finally:
        for listener in listeners:
            listener.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
        wasyncore.close_all(socket_map)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    log.info("web app stopped")
