"""Time limits, measured against themselves: each call below meets a peer on loopback that never
finishes (it drips, trickles, hangs or stays silent; tests/slow_peers.py) and must be ended by
one limit. The figure is the call's wall time divided by that limit, the median of --rounds
runs (in this one process, one case after the other, so the host's load meets them alike).

  fetch, headers dripped       tracker.sources.http.fetch; a header byte every 0.25 s      HTTP_TOTAL_TIMEOUT
  read, body trickled          tracker.sources.read; a body byte every 50 ms               HTTP_TOTAL_TIMEOUT
  e-paper, index dripped       issue_documents; the index's headers dripped               EPAPER_DEADLINE
  e-paper, an article hangs    issue_documents; one article never answers                 EPAPER_DEADLINE
  webhook, receiver hung       send_webhooks to it and to one that answers at once        HTTP_READ_TIMEOUT
  webhook, headers trickled    send_webhooks; a header byte every 50 ms                   WEBHOOK_TIMEOUT
  mail, relay silent           send_emails; the relay never greets                        SMTP_TIMEOUT

The tests of these limits (tests/test_http_deadline.py, test_sources.py, test_epaper.py,
test_webhook.py, test_email.py) assert which limit ended the call; how soon it did is measured
here, never in a test. Each run here checks the outcome too (the error names the limit).
Goal: every call ends within GOAL× its limit, and none before 0.9× it (a limit cut short).

    .venv/bin/python bench/deadline_bench.py [--rounds 3] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
import epaper_site  # noqa: E402
from loopback import respond, serve  # noqa: E402
from slow_peers import (dripping_server, hung, silent_server, trickled_body,  # noqa: E402
                        trickled_headers)
from tracker.alerts.email.send import send_emails  # noqa: E402
from tracker.alerts.model import Alert, AlertItem  # noqa: E402
from tracker.alerts.webhook.send import send_webhooks  # noqa: E402
from tracker.config import load_config  # noqa: E402
from tracker.documents import InputError  # noqa: E402
from tracker.sources import read  # noqa: E402
from tracker.sources.catalog import Source  # noqa: E402
from tracker.sources.epaper import issue_documents  # noqa: E402
from tracker.sources.http import fetch  # noqa: E402

GOAL = 1.5
SHORT = 0.9
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def alert(delivery_id: int) -> Alert:
    item = AlertItem(11, "green-power", "绿电", "河谷县绿电产业园开工", "https://news.example/a/11",
                     "demo-daily", "演示日报", "2025-04-10", "第1版 要闻", ("……【绿电】产业园……",))
    return Alert(delivery_id=delivery_id, subscription_id=7, frequency="instant",
                 created_at="2025-04-10T08:00:00Z", message_id=f"<d{delivery_id}@tracker.example>",
                 webhook_id=f"msg_{delivery_id:04d}", items=(item,),
                 manage_url="https://tracker.example/manage/tok",
                 unsubscribe_url="https://tracker.example/u/tok")


def outcome(call: Callable[[], object]) -> str:
    """What the call said: its error's text, or its result's problems."""
    try:
        return str(call())
    except InputError as error:
        return str(error)


# Each case: (name, the limit's setting, its seconds, a run returning what the call said,
# a test of that outcome: the limit named).

def fetch_dripped(limit: float) -> str:
    with dripping_server(0.25) as port:
        config = {"HTTP_CONNECT_TIMEOUT": 1.0, "HTTP_READ_TIMEOUT": 1.0, "HTTP_TOTAL_TIMEOUT": limit}
        return outcome(lambda: fetch(f"http://127.0.0.1:{port}/feed.xml", config))


def read_trickled(limit: float) -> str:
    with serve() as site, tempfile.TemporaryDirectory() as tmp:
        site.routes["/trickle"] = trickled_body(site)
        config = load_config({"INSTANCE_PATH": tmp, "HTTP_READ_TIMEOUT": 5.0,
                              "HTTP_TOTAL_TIMEOUT": limit}, environ={})
        return outcome(lambda: read(f"{site.base}/trickle", config))


def epaper_dripped(limit: float) -> str:
    with dripping_server(0.25) as port:
        source = Source(id="slow", name="慢报", type="epaper",
                        url=f"http://127.0.0.1:{port}/{{date:%Y-%m/%d}}/node_1.htm")
        config = {"HTTP_CONNECT_TIMEOUT": 1.0, "HTTP_READ_TIMEOUT": 1.0, "HTTP_TOTAL_TIMEOUT": 30.0,
                  "EPAPER_DEADLINE": limit}
        return outcome(lambda: issue_documents(source, epaper_site.DAY, config).problems)


def epaper_hangs(limit: float) -> str:
    with serve() as site:
        paper = epaper_site.build(site, hang="content_101.htm")
        source = Source(id="sxrb", name="山西日报", type="epaper", url=paper.template)
        config = {"HTTP_CONNECT_TIMEOUT": 5.0, "HTTP_READ_TIMEOUT": 5.0, "HTTP_TOTAL_TIMEOUT": 10.0,
                  "EPAPER_DEADLINE": limit}
        return outcome(lambda: issue_documents(source, epaper_site.DAY, config).problems)


def webhook_hung(limit: float) -> str:
    with serve() as site:
        site.routes["/hung"] = hung(site)
        site.routes["/fine"] = respond(b"", "text/plain")
        config = {"WEBHOOK_ALLOW_PRIVATE": True, "WEBHOOK_TIMEOUT": 30.0, "HTTP_READ_TIMEOUT": limit}
        stuck, fine = send_webhooks([(alert(1), site.base + "/hung", SECRET),
                                     (alert(2), site.base + "/fine", SECRET)], config)
        return f"{stuck.error}; the other delivered: {fine.ok}"


def webhook_trickled(limit: float) -> str:
    with serve() as site:
        site.routes["/trickle"] = trickled_headers(site)
        config = {"WEBHOOK_ALLOW_PRIVATE": True, "HTTP_READ_TIMEOUT": 5.0, "WEBHOOK_TIMEOUT": limit}
        [result] = send_webhooks([(alert(1), site.base + "/trickle", SECRET)], config)
        return str(result.error)


def mail_silent(limit: float) -> str:
    with silent_server() as port:
        config = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_SECURITY": "none",
                  "SMTP_TIMEOUT": limit}
        [result] = send_emails([(alert(1), "a@example.com")], config)
        return str(result.error)


def cut_after(seconds: str) -> Callable[[str, float], bool]:
    """The outcome says `timed out after N s` with N at most the limit."""
    def named(said: str, limit: float) -> bool:
        found = re.search(seconds, said)
        return bool(found) and float(found.group(1)) <= limit + 1e-6
    return named


CASES = [
    ("fetch, headers dripped", "HTTP_TOTAL_TIMEOUT", 1.5, fetch_dripped,
     cut_after(r"timed out after ([\d.]+) s$")),
    ("read, body trickled", "HTTP_TOTAL_TIMEOUT", 1.0, read_trickled,
     cut_after(r"timed out after ([\d.]+) s$")),
    ("e-paper, index dripped", "EPAPER_DEADLINE", 1.5, epaper_dripped,
     lambda said, limit: "EPAPER_DEADLINE" in said or cut_after(r"timed out after ([\d.]+) s")(said, limit)),
    ("e-paper, an article hangs", "EPAPER_DEADLINE", 1.0, epaper_hangs,
     lambda said, limit: "EPAPER_DEADLINE" in said),
    ("webhook, receiver hung", "HTTP_READ_TIMEOUT", 1.0, webhook_hung,
     lambda said, limit: f"timed out after {limit:g} s" in said and said.endswith("delivered: True")),
    ("webhook, headers trickled", "WEBHOOK_TIMEOUT", 1.0, webhook_trickled,
     lambda said, limit: f"no complete answer within {limit:g} s" in said),
    ("mail, relay silent", "SMTP_TIMEOUT", 1.0, mail_silent,
     lambda said, limit: said.endswith("timed out")),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    rows = []
    runs: dict[str, list[float]] = {name: [] for name, *_ in CASES}
    wrong: dict[str, str] = {}
    for _ in range(args.rounds):
        for name, _setting, limit, run, named in CASES:
            started = time.perf_counter()
            said = run(limit)
            runs[name].append((time.perf_counter() - started) / limit)
            if not named(said, limit):
                wrong[name] = said[-160:]
    width = max(len(name) for name, *_ in CASES)
    print(f"{'case':<{width}}  {'limit':<24}  × limit (median, min–max)")
    for name, setting, limit, _run, _named in CASES:
        ratios = runs[name]
        row = {"case": name, "setting": setting, "limit_s": limit,
               "ratio": round(statistics.median(ratios), 2),
               "ratio_min": round(min(ratios), 2), "ratio_max": round(max(ratios), 2),
               "limit_named": name not in wrong}
        rows.append(row)
        print(f"{name:<{width}}  {f'{setting} {limit:g} s':<24}  {row['ratio']:.2f}× "
              f"({row['ratio_min']:.2f}–{row['ratio_max']:.2f})"
              + ("" if row["limit_named"] else f"  NOT ended by its limit: {wrong[name]}"))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2, ensure_ascii=False))
    ok = all(SHORT <= r["ratio"] <= GOAL and r["limit_named"] for r in rows)
    print(f"goal (each call ended by its limit, within {SHORT}–{GOAL}× it):",
          "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
