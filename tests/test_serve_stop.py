"""`tracker serve` stopped as an orchestrator stops it (SIGTERM): no new connections, the request
under way finished and answered, exit 0 — not -15 with the answer cut."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from test_demo import free_port
from test_worker import wait_for

REPO = Path(__file__).resolve().parents[1]


def start(tmp_path: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")},
           "TRACKER_INSTANCE": str(tmp_path / "instance"), "TRACKER_RULES": str(REPO / "rules"), "TRACKER_LOG_LEVEL": "DEBUG"}
    serve = subprocess.Popen([sys.executable, "-m", "tracker", "serve", "--port", str(port),
                              "--grace", "30"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)

    assert wait_for(lambda: listening(port), 60), "tracker serve did not start"
    return serve, port


def listening(port: int) -> bool:
    """Whether something accepts connections on the port."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def test_sigterm_with_nothing_under_way_exits_0(tmp_path):
    serve, _ = start(tmp_path)
    serve.send_signal(signal.SIGTERM)
    assert serve.wait(timeout=30) == 0, serve.stdout.read()


def test_sigterm_finishes_the_request_under_way_and_refuses_new_ones(tmp_path):
    serve, port = start(tmp_path)
    try:
        body = "address=reader%40example.org&rules=zhuanyezhen"
        client = socket.create_connection(("127.0.0.1", port), timeout=30)
        client.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")  # kept alive
        first = b""
        while b"\r\n\r\n" not in first or not first.rstrip().endswith(b"}"):
            first += client.recv(65536)
        assert first.startswith(b"HTTP/1.1 200")
        # then a request on the same connection whose body is still on its way
        client.sendall(f"POST /subscribe HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                       f"application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
                       f"Connection: close\r\n\r\n{body[:10]}".encode())
        serve.send_signal(signal.SIGTERM)

        assert wait_for(lambda: not listening(port), 30), "still accepting after SIGTERM"
        assert serve.poll() is None  # waiting for the request under way
        try:
            client.sendall(body[10:].encode())
            answer = b""
            while chunk := client.recv(65536):
                answer += chunk
        except OSError:
            serve.kill()
            raise AssertionError(serve.stdout.read()) from None
        client.close()
        head, _, page = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400"), head  # answered whole: no CSRF token sent
        assert b"</html>" in page
        assert serve.wait(timeout=30) == 0
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait(timeout=30)
