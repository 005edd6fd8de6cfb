"""The web app beside a slow mail relay: `tracker serve --threads 4` on a fresh instance, a relay
on loopback (aiosmtpd), ten subscriptions at once, then /healthz thirty times. First with the
relay answering at once (the baseline), then with it taking --delay seconds per message (default 10):
the ten answers and /healthz while the ten confirmation mails wait on the relay, each figure as
a ratio to the same figure of the baseline, measured in this one run. Then it waits for the
mails to arrive.

Goal: with the relay slow, the slowest of the ten answers and /healthz's median each within
GOAL× the baseline's (the mails are queued and sent by a background thread, not inside the
request: sent inside it, an answer would take the relay's whole delay).
tests/test_serve_and_worker.py checks the same by order (the answers come while every mail is
held), never by a clock.

    .venv/bin/python bench/slow_relay.py [--delay 10] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
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


GOAL = 5.0


class SlowRelay:
    def __init__(self, delay: float = 0.0):
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


def phase(base: str, relay: SlowRelay, name: str) -> dict[str, float]:
    """Ten subscriptions at once (addresses `name`N), then /healthz thirty times, one by one."""
    posts: list[float] = []
    threads = [threading.Thread(target=lambda n=n: posts.append(
        sign_up(base, f"{name}{n}@example.org"))) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    waits = [healthz(base) for _ in range(30)]
    return {"post_max_s": max(posts), "post_median_s": statistics.median(posts),
            "healthz_median_s": statistics.median(waits), "healthz_max_s": max(waits)}


def delivered(relay: SlowRelay, count: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while relay.received < count and time.monotonic() < deadline:
        time.sleep(0.2)
    return relay.received >= count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=10.0)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    relay = SlowRelay()
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
            sign_up(base, "warm-up@example.org")  # the first form and mail: imports, templates
            if not delivered(relay, 1, 60):
                raise SystemExit("the relay got no mail: is the instance sending?")
            relay.received = 0
            quick = phase(base, relay, "quick")
            if not delivered(relay, 10, 60):
                raise SystemExit(f"only {relay.received} of 10 mails reached the quick relay")
            relay.received, relay.delay = 0, args.delay
            slow = phase(base, relay, "slow")
            pending = 10 - relay.received
            arrived = delivered(relay, 10, args.delay * 3 + 60)
        finally:
            web.terminate()
            web.wait(timeout=30)
            controller.stop()
    figures = {"relay_delay_s": args.delay,
               **{f"quick_{k}": round(v, 4) for k, v in quick.items()},
               **{f"slow_{k}": round(v, 4) for k, v in slow.items()},
               "mails_waiting_during_slow_phase": pending, "mails_delivered": relay.received,
               "post_max_ratio": round(slow["post_max_s"] / quick["post_max_s"], 2),
               "healthz_median_ratio": round(slow["healthz_median_s"] / quick["healthz_median_s"], 2)}
    width = max(map(len, figures))
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    ok = (figures["post_max_ratio"] <= GOAL and figures["healthz_median_ratio"] <= GOAL
          and pending > 0 and arrived)
    print(f"goal: with the relay taking {args.delay:g} s a mail, the ten answers and /healthz each "
          f"within {GOAL:g}× the quick relay's, the mails delivered later — {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
