"""/subscribe and /manage with many rules: bytes, checkboxes and median time per request.

The web app (Flask's test client, in this process: no network in the figure) on a temporary
instance whose rules folder holds --rules rules named after jieba dictionary words, each with a
description. The last 12 weeks of `hit_days` (the per-day counts the worker's triggers keep) get
synthetic counts for a tenth of the rules, so "most active first" and the sparklines have
something to show. Each page is asked --requests times after one warm-up request (the first fills the
rule cache); the median is reported, and the warm-up's time apart. With --serve, the same
pages through `tracker serve` (waitress) on loopback, one keep-alive client.

    .venv/bin/python bench/subscribe_many_bench.py [--rules 10000] [--requests 20] [--serve]
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

def words(n: int) -> list[str]:
    import jieba

    found = [w for w in (line.split(" ", 1)[0] for line in
                         Path(jieba.__file__).with_name("dict.txt").open(encoding="utf-8"))
             if len(w) in (3, 4)]
    return random.Random(1).sample(found, n)


def write_rules(folder: Path, names: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "many.yaml").open("w", encoding="utf-8") as f:
        f.write("rules:\n")
        for i, w in enumerate(names):
            f.write(f"  - {{id: k{i}, name: {w}, description: 关于{w}的报道, keywords: [{w}]}}\n")


def fill_hit_days(db_path: Path, n: int) -> None:
    """Synthetic counts: a tenth of the rules have hits on some days of the last 12 weeks."""
    from tracker.store import connect

    rng = random.Random(2)
    today = date.today()
    rows = []
    for i in rng.sample(range(n), n // 10):
        for back in rng.sample(range(84), 6):
            rows.append(((today - timedelta(days=back)).isoformat(), f"k{i}", "bench",
                         rng.randint(1, 9)))
    db = connect(db_path)
    with db.conn:
        db.conn.executemany("INSERT OR REPLACE INTO hit_days (day, rule_id, source_id, articles) "
                            "VALUES (?, ?, ?, ?)", rows)
    db.conn.close()


class Loopback:
    """GET over one keep-alive HTTP connection to `tracker serve` on 127.0.0.1."""

    def __init__(self, port: int) -> None:
        import http.client

        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def get(self, url: str) -> tuple[int, bytes]:
        from urllib.parse import quote

        self.conn.request("GET", quote(url, safe="/?=&"))
        answer = self.conn.getresponse()
        return answer.status, answer.read()


def in_process(client):
    def get(url: str) -> tuple[int, bytes]:
        answer = client.get(url)
        return answer.status_code, answer.data
    return get


def measure(get, url: str, requests: int) -> dict:
    start = time.perf_counter()
    status, body = get(url)  # warm-up: the rule cache, templates
    first = time.perf_counter() - start
    assert status == 200, (url, status)
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        status, body = get(url)
        times.append(time.perf_counter() - start)
    return {"median_ms": round(statistics.median(times) * 1000, 1), "bytes": len(body),
            "first_ms": round(first * 1000),
            "checkboxes": len(re.findall(rb'type="checkbox" name="rules"', body))}


def start_server(tmp_path: Path, secret: str):
    """`tracker serve` (waitress) on this instance and rules; (process, get)."""
    import os

    from web_bench import free_port, serve

    port = free_port()
    env = {**os.environ, "TRACKER_INSTANCE": str(tmp_path / "instance"),
           "TRACKER_RULES": str(tmp_path / "rules"), "TRACKER_SECRET_KEY": secret}
    return serve(env, port), Loopback(port).get


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--serve", action="store_true", help="through tracker serve on loopback")
    args = parser.parse_args()

    from tracker.alerts.links import MANAGE, make_token
    from tracker.alerts.subscribe import subscribe
    from tracker.store import connect
    from tracker.web import create_app

    names = words(args.rules)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        write_rules(tmp_path / "rules", names)
        app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"),
                          "RULES": str(tmp_path / "rules"), "SECRET_KEY": "bench"})
        db_path = Path(app.config["INSTANCE_PATH"]) / app.config["DATABASE"]
        client = app.test_client()
        client.get("/healthz")  # the database and its tables
        fill_hit_days(db_path, args.rules)
        ids = [f"k{i}" for i in range(args.rules)]
        db = connect(db_path)
        sub, _ = subscribe(db, app.config, "email", "bench@example.org", ids[-3:], ids, "daily",
                           confirmed=True)
        db.conn.close()
        urls = {"GET /subscribe": "/subscribe",
                f"GET /subscribe?q={names[7][:2]}": f"/subscribe?q={names[7][:2]}",
                "GET /subscribe?q=关于 (all match)": "/subscribe?q=关于",
                "GET /manage/<token>": f"/manage/{make_token(app.config, MANAGE, sub.id)}"}
        server = None
        if args.serve:
            server, get = start_server(tmp_path, app.config["SECRET_KEY"])
        else:
            get = in_process(client)
        try:
            figures = {label: measure(get, url, args.requests) for label, url in urls.items()}
        finally:
            if server is not None:
                server.terminate()
                server.wait(timeout=30)
    how = "tracker serve on loopback" if args.serve else "Flask test client"
    print(f"{args.rules} rules, median of {args.requests} requests ({how}); "
          "the first request of each, which may read the rules, apart:")
    for key, value in figures.items():
        print(f"  {key:<30}  {value['median_ms']:>8} ms  {value['bytes']:>9} bytes  "
              f"{value['checkboxes']:>6} checkboxes  (first {value['first_ms']} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
