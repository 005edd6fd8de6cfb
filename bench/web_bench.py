"""Web benchmark: /healthz and /subscribe throughput idle and while the worker ingests.

`tracker serve` (waitress, 8 threads) runs on an archive of --archive pages; a small load
generator on loopback (--clients threads, keep-alive, --seconds per measurement) asks one URL
over and over and counts the answers. Then `tracker worker --once` ingests --pages new pages
and the same is measured while it runs. Goals: /healthz keeps ≥ 50% of its idle rate during the
ingest; /subscribe serves ≥ 30% of /healthz's rate during it. Also: /subscribe with --big-rules
rules (idle): its latency and size. The load generator is bounded: it stops after its seconds.

    .venv/bin/python bench/web_bench.py [--pages 1600] [--seconds 4] [--clients 8]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pages import ROOT, write_pages  # noqa: E402

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load(port: int, path: str, seconds: float, clients: int) -> dict:
    """Ask GET `path` from `clients` threads for `seconds`; rate and latency of the answers."""
    latencies: list[float] = []
    errors = [0]
    size = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        while time.monotonic() < stop:
            t = time.perf_counter()
            try:
                conn.request("GET", path)
                answer = conn.getresponse()
                body = answer.read()
                ok = answer.status == 200
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                ok, body = False, b""
            if ok:
                mine.append(time.perf_counter() - t)
                size[0] = len(body)
            else:
                with lock:
                    errors[0] += 1
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    latencies.sort()

    def pick(q: float) -> float | None:
        if not latencies:
            return None
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000, 1)

    return {"rps": round(len(latencies) / elapsed, 1), "p50_ms": pick(0.5), "p99_ms": pick(0.99),
            "errors": errors[0], "bytes": size[0]}


def wait_until(condition, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return False


def serve(env: dict, port: int) -> subprocess.Popen:
    server = subprocess.Popen([str(BIN / "tracker"), "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def up() -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False

    if not wait_until(up, 60):
        server.kill()
        raise SystemExit("tracker serve did not start")
    return server


def big_rules(folder: Path, n: int) -> None:
    import random

    import jieba

    words = [w for w in (line.split(" ", 1)[0] for line in
                         Path(jieba.__file__).with_name("dict.txt").open(encoding="utf-8"))
             if len(w) in (3, 4)]
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "many.yaml").open("w", encoding="utf-8") as f:
        f.write("rules:\n")
        for i, w in enumerate(random.Random(1).sample(words, n)):
            f.write(f"  - {{id: k{i}, name: {w}, keywords: [{w}]}}\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=int, default=400, help="pages kept before")
    parser.add_argument("--pages", type=int, default=1600, help="pages ingested under load")
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--big-rules", type=int, default=10_000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    figures: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        instance, drop = tmp_path / "instance", tmp_path / "drop"
        instance.mkdir()
        (instance / "sources.yaml").write_text(
            f"sources:\n  - id: bench\n    name: 基准日报\n    path: {drop}\n", encoding="utf-8")
        env = {**os.environ, "TRACKER_INSTANCE": str(instance), "TRACKER_RULES": str(ROOT / "rules"),
               "TRACKER_FOLDER_SETTLE_SECONDS": "0", "TRACKER_TIMEZONE": "Asia/Shanghai"}
        write_pages(args.archive, drop)
        subprocess.run([str(BIN / "tracker"), "worker", "--once"], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port = free_port()
        server = serve(env, port)
        try:
            for url in ("/healthz", "/subscribe"):
                load(port, url, 1, 2)  # warm up
                figures[f"idle {url}"] = load(port, url, args.seconds, args.clients)
            more = tmp_path / "more"
            write_pages(args.archive + args.pages, more)
            for path in sorted(more.iterdir())[args.archive:]:
                path.rename(drop / path.name)
            start = time.perf_counter()
            worker = subprocess.Popen([str(BIN / "tracker"), "worker", "--once"], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0)
            during = {}
            for url in ("/healthz", "/subscribe"):
                during[url] = load(port, url, args.seconds, args.clients)
                during[url]["ingest_running"] = worker.poll() is None
            worker.wait(timeout=1800)
            figures["ingest_s_under_load"] = round(time.perf_counter() - start, 1)
            for url, value in during.items():
                figures[f"ingesting {url}"] = value
        finally:
            server.terminate()
            server.wait(timeout=30)
        if args.big_rules:
            rules = tmp_path / "rules"
            big_rules(rules, args.big_rules)
            server = serve({**env, "TRACKER_RULES": str(rules)}, port)
            try:
                load(port, "/subscribe", 1, 1)
                figures[f"idle /subscribe, {args.big_rules} rules"] = load(
                    port, "/subscribe", args.seconds, 2)
            finally:
                server.terminate()
                server.wait(timeout=30)
    h_idle, h_busy = figures["idle /healthz"]["rps"], figures["ingesting /healthz"]["rps"]
    s_busy = figures["ingesting /subscribe"]["rps"]
    figures["healthz_kept"] = round(h_busy / h_idle, 2) if h_idle else 0
    figures["subscribe_vs_healthz"] = round(s_busy / h_busy, 2) if h_busy else 0
    for key, value in figures.items():
        print(f"{key:<36}  {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False))
    ok = figures["healthz_kept"] >= 0.5 and figures["subscribe_vs_healthz"] >= 0.3 and all(
        v.get("ingest_running") for k, v in figures.items() if k.startswith("ingesting"))
    print("goal (/healthz ≥ 50% of idle, /subscribe ≥ 30% of /healthz, during the ingest):",
          "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
