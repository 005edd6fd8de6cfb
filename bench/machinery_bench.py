"""Machinery that was bought for a benchmark, each against the standard tool that would replace
it, on the case it was bought for, in this one process, interleaved (A, B, B, A, …; the best of
each side kept), so that the host's changing load meets both alike. A piece pays when the
standard tool takes at least PAYS (1.5×) its time.

- SMTP PIPELINING client (tracker.alerts.email.relay + pool): --mails messages already made
  (`send_made`) over a pool of 4 connections to a relay that offers PIPELINING, 20 ms round
  trip away (bench/delay_proxy.py on loopback), against the same pool of 4 threads, each
  connection sending with smtplib's `sendmail` (one command, one wait).
- rule cache (tracker.rules.cache + plain): a start of `tracker match`'s work with 10,000
  one-keyword rules in a fresh process (imports, rules loaded, compiled), the cache warm,
  against the same start reading the YAML.

The third piece measured here, the hand-written fork pool of `tracker match -j`, did not pay
(0.76× `ProcessPoolExecutor` on 1,000 pages and 10,000 rules, -j 2: slower) and was replaced by
the executor; its measurement is in this file at commit c11f7ad (docs/benchmarks.md).

    .venv/bin/python bench/machinery_bench.py [--mails 200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import queue
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from delay_proxy import serve_delayed  # noqa: E402
from match_bench import dictionary_words, write_rules  # noqa: E402

PAYS = 1.5
PIECES = ("pipelining", "rule_cache")
RTT = 0.020  # the relay's round trip
CONNECTIONS = 4  # SMTP_CONNECTIONS' default


# ---- SMTP --------------------------------------------------------------------------------------

def _serve_relay(ready, port) -> None:
    """aiosmtpd offering PIPELINING (as Postfix, Exim, Gmail, SES do), behind a proxy that holds
    each chunk RTT/2 each way; `port` gets the proxy's. Its own process (spawned)."""
    from aiosmtpd.controller import Controller

    class Relay:
        async def handle_EHLO(self, server, session, envelope, hostname, responses):
            session.host_name = hostname
            return [*responses[:-1], "250-PIPELINING", responses[-1]]

        async def handle_DATA(self, server, session, envelope):
            return "250 OK"

    with socket.socket() as probe:  # aiosmtpd cannot start on port 0
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    smtp = Controller(Relay(), hostname="127.0.0.1", port=free, ready_timeout=10)
    smtp.start()

    async def proxy() -> None:
        started = asyncio.get_running_loop().create_future()
        serving = asyncio.create_task(serve_delayed(smtp.port, RTT / 2, started))
        port.value = await started
        ready.set()
        await serving

    asyncio.run(proxy())


def _messages(count: int) -> list[tuple[int, str, bytes]]:
    data = (b"From: bench@example.org\r\nTo: reader@example.org\r\nSubject: bench\r\n\r\n"
            + ("推动专业镇发展。" * 8 + "\r\n").encode() * 25)
    return [(i, f"reader{i}@example.org", data) for i in range(count)]


def ours(port: int, messages: list) -> float:
    from tracker.alerts.email.send import send_made

    config = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_SECURITY": "none",
              "SMTP_CONNECTIONS": CONNECTIONS}
    start = time.perf_counter()
    results = send_made(messages, config)
    wall = time.perf_counter() - start
    assert all(r.ok for r in results) and len(results) == len(messages)
    return wall


def standard(port: int, messages: list) -> float:
    """The same pool with the standard tool: CONNECTIONS threads sharing one queue, each with one
    smtplib connection and `sendmail` per message."""
    pending: queue.SimpleQueue = queue.SimpleQueue()
    for message in messages:
        pending.put(message)
    sent = []

    def connection() -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            while True:
                try:
                    _, recipient, data = pending.get_nowait()
                except queue.Empty:
                    return
                smtp.sendmail("bench@example.org", [recipient], data)
                sent.append(recipient)

    start = time.perf_counter()
    threads = [threading.Thread(target=connection) for _ in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    assert len(sent) == len(messages)
    return wall


def smtp_figures(args) -> dict:
    context = multiprocessing.get_context("spawn")
    ready, port = context.Event(), context.Value("i", 0)
    relay = context.Process(target=_serve_relay, args=(ready, port), daemon=True)
    relay.start()
    try:
        if not ready.wait(30):
            raise SystemExit("the relay did not start")
        messages = _messages(args.mails)
        walls = _interleaved(args.rounds, lambda: ours(port.value, messages),
                             lambda: standard(port.value, messages))
    finally:
        relay.terminate()
        relay.join(timeout=10)
    return _figures("pipelining", walls, f"{args.mails} mails, pool of {CONNECTIONS}, relay "
                    f"{RTT * 1000:g} ms round trip away; standard: smtplib sendmail")


# ---- the rule cache ----------------------------------------------------------------------------

START = ("import sys\nfrom pathlib import Path\nfrom tracker.rules import load_rules\n"
         "from tracker.matching import Matcher\n"
         "rules = load_rules(sys.argv[1], Path(sys.argv[2]) if sys.argv[2] else None)\n"
         "Matcher(rules)\nassert len(rules) == int(sys.argv[3])\n")


def _start(rules: Path, count: int, cache: Path | None) -> float:
    command = [sys.executable, "-c", START, str(rules), str(cache or ""), str(count)]
    begin = time.perf_counter()
    subprocess.run(command, check=True, timeout=300)
    return time.perf_counter() - begin


def cache_figures(args, tmp: Path) -> dict:
    rules = write_rules(dictionary_words(args.rules), tmp)
    cache = tmp / "cache"
    _start(rules, args.rules, cache)  # fills the cache, as a user's first start does
    assert any(cache.glob("rules-*.json")), "the rule file was not cached"
    walls = _interleaved(args.rounds, lambda: _start(rules, args.rules, cache),
                         lambda: _start(rules, args.rules, None))
    return _figures("rule_cache", walls, f"a fresh process loading and compiling {args.rules:,} "
                    "rules; standard: the YAML read at every start")


# ---- common ------------------------------------------------------------------------------------

def _interleaved(rounds: int, mine, theirs) -> dict[str, list[float]]:
    walls: dict[str, list[float]] = {"ours": [], "standard": []}
    for n in range(rounds):
        order = (("ours", mine), ("standard", theirs))
        for side, run in (order if n % 2 == 0 else order[::-1]):
            walls[side].append(run())
    return walls


def _figures(name: str, walls: dict[str, list[float]], case: str) -> dict:
    best = {side: min(times) for side, times in walls.items()}
    ratio = best["standard"] / best["ours"]
    return {f"{name}_case": case, f"{name}_ours_s": round(best["ours"], 3),
            f"{name}_standard_s": round(best["standard"], 3), f"{name}_ratio": round(ratio, 2),
            f"{name}_pays": ratio >= PAYS}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=200)
    parser.add_argument("--rules", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    figures: dict = {"cpus": os.cpu_count()}
    figures.update(smtp_figures(args))
    with tempfile.TemporaryDirectory() as tmp:
        figures.update(cache_figures(args, Path(tmp)))
    width = max(map(len, figures))
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False))
    for name in PIECES:
        print(f"goal ({name} ≥ {PAYS}× its standard replacement): {figures[f'{name}_ratio']}×,",
              "pays" if figures[f"{name}_pays"] else "does NOT pay")
    return 0 if all(figures[f"{n}_pays"] for n in PIECES) else 1


if __name__ == "__main__":
    sys.exit(main())
