"""The web app beside a slow mail relay: `tracker serve --threads 4` on a fresh instance, a relay
on loopback (aiosmtpd) that takes 25 s per message, ten subscriptions at once. Prints how long
each subscription took to answer and /healthz's latency while the ten confirmation mails wait
on the relay, then waits for the mails to arrive.

    .venv/bin/python bench/slow_relay.py [--delay 25]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

from aiosmtpd.controller import Controller


class SlowRelay:
    def __init__(self, delay: float):
        self.delay, self.received = delay, 0

    async def handle_DATA(self, server, session, envelope) -> str:
        await asyncio.sleep(self.delay)
        self.received += 1
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def sign_up(base: str, address: str) -> float:
    visitor = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    page = visitor.open(f"{base}/subscribe", timeout=120).read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"csrf_token": token, "channel": "email", "email": address,
                                   "rules": "zhuanyezhen", "frequency": "instant"}).encode()
    started = time.monotonic()
    visitor.open(f"{base}/subscribe", data=form, timeout=120).read()
    return time.monotonic() - started


def healthz(base: str) -> float:
    started = time.monotonic()
    urllib.request.urlopen(f"{base}/healthz", timeout=120).read()  # noqa: S310 - loopback
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=25.0)
    args = parser.parse_args()
    relay = SlowRelay(args.delay)
    smtp_port = free_port()
    controller = Controller(relay, hostname="127.0.0.1", port=smtp_port, ready_timeout=10)
    controller.start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "TRACKER_INSTANCE": tmp, "TRACKER_SMTP_HOST": "127.0.0.1",
               "TRACKER_SMTP_PORT": str(smtp_port), "TRACKER_SMTP_SECURITY": "none",
               "TRACKER_SMTP_TIMEOUT": str(args.delay + 30), "TRACKER_BASE_URL": base,
               "TRACKER_SUBSCRIBE_LIMIT": "1000 per hour",
               "TRACKER_RULES": str(Path(__file__).resolve().parents[1] / "rules")}
        web = subprocess.Popen([sys.executable, "-m", "tracker", "serve", "--port", str(port),
                                "--threads", "4"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    healthz(base)
                    break
                except OSError:
                    time.sleep(0.2)
            posts: list[float] = []
            threads = [threading.Thread(target=lambda n=n: posts.append(
                sign_up(base, f"reader{n}@example.org"))) for n in range(10)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            waits = [healthz(base) for _ in range(10)]
            pending = 10 - relay.received
            print(f"10 subscriptions answered in: max {max(posts):.3f} s, "
                  f"median {statistics.median(posts):.3f} s")
            print(f"/healthz while {pending} confirmation mails wait on a {args.delay:g} s relay: "
                  f"max {max(waits) * 1000:.1f} ms, median {statistics.median(waits) * 1000:.1f} ms")
            deadline = time.monotonic() + args.delay * 3 + 60
            while relay.received < 10 and time.monotonic() < deadline:
                time.sleep(0.2)
            print(f"confirmation mails delivered: {relay.received} of 10")
        finally:
            web.terminate()
            web.wait(timeout=30)
            controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
