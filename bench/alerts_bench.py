"""Delivery benchmark: 10,000 webhook deliveries to a loopback receiver that takes 50 ms per
request, and 10,000 emails to a loopback SMTP server (aiosmtpd), each through the whole delivery
path (`tracker.alerts.deliver`: outbox → deliveries → alert built from the database → sender →
attempt recorded). The receiver and the SMTP servers run in processes of their own, as real ones
would. Reports wall time and throughput; the webhook run is compared with sending one at a time
(WEBHOOK_CONCURRENCY=1, measured on --sample deliveries and scaled).

Then --mail-count emails to a relay that takes 20 ms per message, twice: a relay that offers
PIPELINING in its EHLO reply, as real relays do (Postfix, Exim, Gmail, SES), so that MAIL, RCPT
and DATA go in one send; and one that does not (aiosmtpd as it comes), so that each command
waits for its reply. Against each (each figure the best of --rounds rounds, in alternating
order):
- strictly serial, the baseline the goal is set against: one message at a time over one connection
  with smtplib (which never pipelines) — built, composed, sent, its 250 awaited, recorded, then
  the next (the same building, composing and recording code, in one loop, by
  `deliver_strictly_serially` in bench/mail_baselines.py);
- the whole delivery path (`deliver`) with SMTP_CONNECTIONS=1 and with pools of
  --smtp-connections (default 4,8): each connection makes its next message while the relay
  answers, so even one connection is faster than strictly serial;
- the SMTP transport alone (messages already made, `send_made`) over the same numbers of
  connections.
Goal: the default pool (4) through the whole path at least 4× strictly serial, against the
relay that offers PIPELINING.

    make bench-alerts     # or: .venv/bin/python bench/alerts_bench.py [--count N] [--sample N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import resource
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

from aiosmtpd.controller import Controller

from delay_proxy import serve_delayed
from mail_baselines import deliver_strictly_serially, time_transport
from tracker.alerts.deliver import deliver
from tracker.config import load_config
from tracker.store import connect, transaction

LATENCY = 0.05  # the receiver's time per request
SMTP_LATENCY = 0.02  # the slow relay's time per message


class Sink:
    """aiosmtpd handler that counts messages (in a shared counter: it runs in its own process)."""

    def __init__(self, count) -> None:
        self.count = count

    async def handle_DATA(self, server, session, envelope) -> str:
        with self.count.get_lock():
            self.count.value += 1
        return "250 OK"


class SlowSink(Sink):
    """A relay that takes SMTP_LATENCY per message before its 250 (a real relay's own work:
    queueing, scanning, writing to disk). It does not offer PIPELINING (aiosmtpd as it comes)."""

    async def handle_DATA(self, server, session, envelope) -> str:
        await asyncio.sleep(SMTP_LATENCY)
        return await super().handle_DATA(server, session, envelope)


class PipeliningSlowSink(SlowSink):
    """The slow relay offering PIPELINING in its EHLO reply, as Postfix, Exim, Gmail and SES do
    (aiosmtpd reads commands line by line, so it takes pipelined ones; it only does not say so)."""

    async def handle_EHLO(self, server, session, envelope, hostname, responses) -> list[str]:
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]]


def serve_receiver(ready, port) -> None:
    """The webhook receiver, in a process of its own (a real receiver does not share our GIL):
    asyncio, so that its 50 ms per request is the only cost it adds."""
    from aiohttp import web

    async def hook(request: web.Request) -> web.Response:
        await request.read()
        await asyncio.sleep(LATENCY)  # the receiver's own work: what concurrency has to hide
        return web.Response(text="ok")

    async def run() -> None:
        app = web.Application()
        app.router.add_post("/hook/{n}", hook)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        port.value = site._server.sockets[0].getsockname()[1]
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(run())


SINKS = {"sink": Sink, "slow": SlowSink, "slow-pipelining": PipeliningSlowSink}


def serve_smtp(ready, port, count, kind: str = "sink", rtt: float = 0.0) -> None:
    """The SMTP server, in a process of its own; with `rtt`, reached through a proxy that holds
    each chunk rtt/2 each way (bench/delay_proxy.py), and `port` is the proxy's."""
    smtp = Controller(SINKS[kind](count), hostname="127.0.0.1", port=port.value, ready_timeout=10)
    smtp.start()
    if not rtt:
        ready.set()
        threading.Event().wait()  # until terminated

    async def proxy() -> None:
        started = asyncio.get_running_loop().create_future()
        serving = asyncio.create_task(serve_delayed(smtp.port, rtt / 2, started))
        port.value = await started
        ready.set()
        await serving

    asyncio.run(proxy())


def seed(db, channel: str, addresses: list[str]) -> None:
    """One article with one hit, and an active subscription with an outbox row per address."""
    with transaction(db):
        db["sources"].insert({"id": "bench", "name": "演示日报", "type": "folder", "location": "-"},
                             ignore=True)
        article = db["articles"].insert({
            "source_id": "bench", "title": "我省新认定一批特色专业镇", "text": "推动专业镇发展。",
            "content_hash": f"bench-{channel}", "first_seen": "2025-04-09T00:00:00+00:00",
            "issue_date": "2025-04-09", "page": "第1版 要闻", "url": "http://example.cn/a/1"}).last_pk
        hit = db["hits"].insert({"article_id": article, "rule_id": "zhuanyezhen", "rule_name": "专业镇",
                                 "count": 1, "matched_at": "2025-04-09T00:00:00+00:00",
                                 "snippets": json.dumps([{"snippet": "推动【专业镇】发展。"}])}).last_pk
        db["subscriptions"].insert_all(
            ({"channel": channel, "address": a, "rules": '["zhuanyezhen"]', "frequency": "instant",
              "state": "active", "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
              "created_at": "2025-04-09T00:00:00+00:00"} for a in addresses), batch_size=1000)
        db.execute("INSERT INTO outbox (subscription_id, article_id, rule_id, hit_id, created_at) "
                   "SELECT id, ?, 'zhuanyezhen', ?, '2025-04-09T00:00:00+00:00' FROM subscriptions "
                   "WHERE channel = ?", [article, hit, channel])


def timed_delivery(folder: Path, channel: str, addresses: list[str], extra: dict,
                   how=deliver) -> tuple[float, dict]:
    """Seed an instance with `addresses`, then time one delivery run (`deliver()`, or `how`)
    over all of them."""
    config = load_config({"INSTANCE_PATH": str(folder), "WEBHOOK_ALLOW_PRIVATE": True,
                          "BASE_URL": "https://tracker.example.org", **extra}, environ={})
    db = connect(folder / "tracker.db")
    seed(db, channel, addresses)
    start = time.perf_counter()
    outcome = how(db, config)
    return time.perf_counter() - start, dict(outcome)


def time_compose(count: int = 500) -> float:
    """CPU per mail made (`compose_bytes`: built, serialised, checked), in ms: one article, one
    hit, as in the runs above; each mail to its own subscription and address."""
    from tracker.alerts.email.compose import compose_bytes
    from tracker.alerts.model import Alert, AlertItem

    item = AlertItem(1, "zhuanyezhen", "专业镇", "我省新认定一批特色专业镇", "http://example.cn/a/1",
                     "bench", "演示日报", "2025-04-09", "第1版 要闻", ("推动【专业镇】发展。",),
                     ("专业镇",), "https://tracker.example.org/articles/1")
    alerts = [Alert(i, i, "instant", "2025-04-09T00:00:00+00:00", f"<d{i}.bench@tracker.example.org>",
                    f"msg_{i}", (item,), f"https://tracker.example.org/manage/{i}?t=x",
                    f"https://tracker.example.org/unsubscribe/{i}?t=x", f"mailto:unsub+{i}@example.org")
              for i in range(count)]
    config = {"BASE_URL": "https://tracker.example.org"}
    compose_bytes(alerts[0], "reader@example.org", config)  # the template compiled, once
    start = time.process_time()
    for i, alert in enumerate(alerts):
        compose_bytes(alert, f"reader{i}@example.org", config)
    return (time.process_time() - start) / count * 1000


def start_servers(rtt: float = 0.0) -> tuple[list, str, dict[str, tuple[int, object]]]:
    """The receiver and the SMTP servers (SINKS) in their own processes, the slow ones `rtt`
    away: (processes, hook base URL, {sink kind: (port, shared count of mails received)})."""
    context = multiprocessing.get_context("spawn")
    receiver_port = context.Value("i", 0)
    smtp = {kind: (context.Value("i", 0), context.Value("i", 0)) for kind in SINKS}
    for port, _ in smtp.values():
        with socket.socket() as probe:  # aiosmtpd cannot start on port 0: pick a free port first
            probe.bind(("127.0.0.1", 0))
            port.value = probe.getsockname()[1]
    up = [context.Event() for _ in range(1 + len(smtp))]
    servers = [context.Process(target=serve_receiver, args=(up[0], receiver_port), daemon=True)]
    servers += [context.Process(target=serve_smtp, daemon=True,
                                args=(ready, port, count, kind, rtt if kind in RELAYS else 0.0))
                for ready, (kind, (port, count)) in zip(up[1:], smtp.items())]
    for server in servers:
        server.start()
    if not all(e.wait(30) for e in up):
        raise SystemExit("the loopback servers did not start")
    return (servers, f"http://127.0.0.1:{receiver_port.value}/hook/",
            {kind: (port.value, count) for kind, (port, count) in smtp.items()})


RELAYS = {"slow-pipelining": "slow_pipelining", "slow": "slow_no_pipelining"}  # sink: figure prefix
RELAY_LABELS = {"slow-pipelining": "relay offering PIPELINING (as Postfix, Exim, Gmail, SES do)",
                "slow": "relay without PIPELINING (aiosmtpd as it comes)"}


def slow_relay_runs(tmp: Path, sinks: dict, args) -> dict[tuple[str, str, int | str], list[float]]:
    """--mail-count emails to each 20 ms relay (with and without PIPELINING): strictly serial,
    one connection and pools, the same building, composing and recording code, and the
    transport alone; in rounds of alternating order (serial, 1, 4, 8 on one relay, then the
    other, then all of it backwards, …) so that a change in the machine's load weighs on every
    side. The wall times of each run: {(sink, "email" or "transport", connections): [s, …]}."""
    mails = [f"reader{i}@example.org" for i in range(args.mail_count)]
    runs = [(relay, n) for relay in RELAYS for n in ("serial", 1, *args.smtp_connections)]
    walls: dict[tuple[str, str, int | str], list[float]] = {}
    for round_ in range(args.rounds):
        for relay, n in (runs if round_ % 2 == 0 else runs[::-1]):
            port = sinks[relay][0]
            slow = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_SECURITY": "none"}
            folder = tmp / f"{relay}-{n}-{round_}"
            if n == "serial":
                wall, outcome = timed_delivery(folder, "email", mails, slow,
                                               how=deliver_strictly_serially)
            else:
                wall, outcome = timed_delivery(folder, "email", mails,
                                               {**slow, "SMTP_CONNECTIONS": n})
                walls.setdefault((relay, "transport", n), []).append(
                    time_transport(port, args.mail_count, n))
            assert outcome == {"sent": args.mail_count}, outcome
            walls.setdefault((relay, "email", n), []).append(wall)
    per_relay = args.rounds * (1 + 2 * (1 + len(args.smtp_connections))) * args.mail_count
    for relay in RELAYS:
        assert sinks[relay][1].value == per_relay, (relay, sinks[relay][1].value)
    return walls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=200, help="deliveries sent one at a time")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--mail-count", type=int, default=400,
                        help="emails to the slow relay, serial and then over the pool")
    parser.add_argument("--smtp-connections", type=lambda v: [int(n) for n in v.split(",")],
                        default=[4, 8], help="pool sizes to compare with one connection")
    parser.add_argument("--rounds", type=int, default=2,
                        help="slow-relay rounds, in alternating order; the best of each is kept")
    parser.add_argument("--relay-rtt", type=float, default=0.0,
                        help="ms: reach the 20 ms relays through a proxy that adds this round trip")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    servers, base, sinks = start_servers(args.relay_rtt / 1000)
    port, received = sinks["sink"]
    figures: dict = {"count": args.count, "receiver_latency_s": LATENCY}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            wall, outcome = timed_delivery(Path(tmp) / "one", "webhook",
                                           [f"{base}{i}" for i in range(args.sample)],
                                           {"WEBHOOK_CONCURRENCY": 1})
            assert outcome == {"sent": args.sample}, outcome
            figures["webhook_one_at_a_time_per_delivery_s"] = round(wall / args.sample, 4)
            figures["webhook_one_at_a_time_scaled_s"] = round(wall / args.sample * args.count, 1)

            wall, outcome = timed_delivery(Path(tmp) / "many", "webhook",
                                           [f"{base}{i}" for i in range(args.count)],
                                           {"WEBHOOK_CONCURRENCY": args.concurrency})
            assert outcome == {"sent": args.count}, outcome
            figures.update(webhook_concurrency=args.concurrency, webhook_wall_s=round(wall, 1),
                           webhook_per_s=round(args.count / wall),
                           webhook_speedup=round(figures["webhook_one_at_a_time_scaled_s"] / wall, 1))

            wall, outcome = timed_delivery(Path(tmp) / "mail", "email",
                                           [f"reader{i}@example.org" for i in range(args.count)],
                                           {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port,
                                            "SMTP_SECURITY": "none"})
            assert outcome == {"sent": args.count} and received.value == args.count, outcome
            figures.update(email_wall_s=round(wall, 1), email_per_s=round(args.count / wall))

            figures.update(slow_relay_latency_s=SMTP_LATENCY, slow_relay_rtt_ms=args.relay_rtt,
                           slow_mail_count=args.mail_count, slow_rounds=args.rounds)
            walls = slow_relay_runs(Path(tmp), sinks, args)
            for relay, name in RELAYS.items():
                serial = min(walls[relay, "email", "serial"])
                figures[f"{name}_email_strictly_serial_s"] = round(serial, 2)
                figures[f"{name}_email_strictly_serial_per_s"] = round(args.mail_count / serial, 1)
                for (where, what, n), times in walls.items():
                    if where == relay and n != "serial":
                        figures[f"{name}_{what}_{n}_connections_s"] = round(min(times), 2)
                for n in [1, *args.smtp_connections]:
                    figures[f"{name}_email_{n}_connections_vs_strictly_serial"] = round(
                        serial / min(walls[relay, "email", n]), 2)
                for n in args.smtp_connections:
                    for what in ("email", "transport"):
                        figures[f"{name}_{what}_{n}_connections_vs_1_connection"] = round(
                            min(walls[relay, what, 1]) / min(walls[relay, what, n]), 2)
            for n in [1, *args.smtp_connections]:
                for what in ("email", "transport"):
                    figures[f"slow_{what}_{n}_connections_pipelining_vs_not"] = round(
                        min(walls["slow", what, n]) / min(walls["slow-pipelining", what, n]), 2)
    finally:
        for server in servers:
            server.terminate()
            server.join(timeout=10)
    figures["email_compose_cpu_ms"] = round(time_compose(), 2)
    figures["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    width = max(map(len, figures))
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    ok = figures["webhook_speedup"] >= 20
    print("goal (webhooks ≥20× faster than one at a time):", "met" if ok else "NOT met")
    pool = figures.get("slow_pipelining_email_4_connections_vs_strictly_serial")
    mail_ok = pool is not None and pool >= 4
    print("email to the 20 ms relay, whole delivery path; baselines: strictly serial = one message"
          " at a time with smtplib (made, sent, 250 awaited, recorded), the goal's baseline;"
          " 1 connection = our pool with SMTP_CONNECTIONS=1 (makes the next message while the"
          " relay answers)")
    for relay, name in RELAYS.items():
        print(f"  {RELAY_LABELS[relay]}: strictly serial "
              f"{figures[f'{name}_email_strictly_serial_s']} s")
        for n in [1, *args.smtp_connections]:
            versus_one = figures.get(f"{name}_email_{n}_connections_vs_1_connection")
            print(f"    {n} connection(s): {figures[f'{name}_email_{n}_connections_s']} s, "
                  f"{figures[f'{name}_email_{n}_connections_vs_strictly_serial']}× strictly serial"
                  + (f", {versus_one}× 1 connection" if versus_one else ""))
    print("  the same pool, relay with PIPELINING vs without: " + ", ".join(
        f"{n} connection(s) {figures[f'slow_email_{n}_connections_pipelining_vs_not']}×"
        for n in [1, *args.smtp_connections]))
    away = f", {args.relay_rtt:g} ms round trip away" if args.relay_rtt else ""
    print(f"goal (email over the default pool of 4 ≥4× strictly serial, 20 ms relay offering"
          f" PIPELINING{away}, whole path): {pool}×,", "met" if mail_ok else "NOT met")
    return 0 if ok and mail_ok else 1


if __name__ == "__main__":
    sys.exit(main())
