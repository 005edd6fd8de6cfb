"""Public search cannot be made expensive: `/articles?q=的` against a common
three-character search (`/articles?q=中国人`, which walks the date index and stops at 50), both
through the web app as `tracker serve` makes it, on a synthetic archive of --articles articles
(PKU corpus sentences, `archive_bench.build`), in the same process.

A one-character query would range over every occurrence of 的 in the index, a cost that grows
with the archive; it is answered with a hint and the latest articles instead. Goal: 的 ≤ 2× the three-character search. A two-character common word
(中国) is reported too: it still grows with the articles that hold it (docs/capacity.md), and
SEARCH_LIMIT bounds how often one client may ask.

    .venv/bin/python bench/search_bench.py [--articles 100000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from archive_bench import build  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def timed(client, query: str, repeat: int) -> float:
    """Median seconds of GET /articles?q=query (each answered 200)."""
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        answer = client.get("/articles", query_string={"q": query})
        runs.append(time.perf_counter() - start)
        assert answer.status_code == 200, answer.status_code
    return statistics.median(runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from tracker.web import create_app

    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp) / "instance"
        instance.mkdir()
        build(instance / "tracker.db", args.articles, 365)
        app = create_app({"INSTANCE_PATH": str(instance), "RULES": str(ROOT / "rules"),
                          "RATELIMIT_ENABLED": False})
        client = app.test_client()
        client.get("/articles", query_string={"q": "中国人"})  # warm: rules, templates, pages
        seconds = {q: timed(client, q, args.repeat) for q in ("中国人", "的", "中国")}
    for q, s in seconds.items():
        print(f"/articles?q={q:<4} {s * 1000:8.1f} ms")
    ratio = seconds["的"] / seconds["中国人"]
    print(f"的 / 中国人 {ratio:6.2f}×  (goal ≤ 2); 中国 / 中国人 "
          f"{seconds['中国'] / seconds['中国人']:.2f}× (reported)")
    ok = ratio <= 2
    print("goal:", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
