"""E-paper benchmark: one issue of 8 pages and 60 articles from a loopback site, read by
tracker.sources.epaper.issue_documents, against fetching the same 68 files with plain httpx in
the same run.

  plain    — one httpx.Client, GET each page and article URL in turn, read the body: the least
             any reader of the issue must do (it knows the URLs; it parses nothing).
  per-GET  — the same with a new httpx.Client for every GET, as tracker.sources.http.fetch makes
             one (for its SSRF pinning and limits): shows what the fetcher's own cost is.
  tracker  — issue_documents: every hop through tracker.sources.http.fetch (SSRF check, size and
             time limits), each page decoded from its bytes, links and page names read, each
             article's headline and body parsed.

The three are interleaved --rounds times (the host's load meets them alike); figures are medians.
The site is the 科技日报 2023 layout of tests/epaper_layouts.py (Founder classic, UTF-8).
Goal: tracker ≤ 1.5× plain.

    .venv/bin/python bench/epaper_bench.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import epaper_layouts  # noqa: E402
from loopback import serve  # noqa: E402

DAY = datetime.date(2024, 3, 1)
PER_PAGE = [8, 8, 8, 8, 7, 7, 7, 7]  # 8 pages, 60 articles
GOAL = 1.5


def plain(urls: list[str]) -> float:
    start = time.perf_counter()
    with httpx.Client() as client:
        for url in urls:
            client.get(url).raise_for_status()
    return time.perf_counter() - start


def per_get(urls: list[str]) -> float:
    start = time.perf_counter()
    for url in urls:
        with httpx.Client() as client:
            client.get(url).raise_for_status()
    return time.perf_counter() - start


def tracker(url: str) -> float:
    from tracker.sources.catalog import Source
    from tracker.sources.epaper import issue_documents

    start = time.perf_counter()
    issue = issue_documents(Source(id="kjrb", name="科技日报", type="epaper", url=url), DAY, {})
    seconds = time.perf_counter() - start
    if len(issue.documents) != sum(PER_PAGE) or issue.problems:
        raise SystemExit(f"the issue was not read whole: {len(issue.documents)} articles, "
                         f"{issue.problems}")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    with serve() as site:
        paper = epaper_layouts.kjrb(site, DAY, pages=len(PER_PAGE), per_page=PER_PAGE,
                                   pdf_page=False, div=("", ""))
        urls = [paper.full(path) for path in [*paper.pages, *paper.titles]]
        tracker(paper.url)  # warm-up: imports, tables
        runs: dict[str, list[float]] = {"plain": [], "per_get": [], "tracker": []}
        for _ in range(args.rounds):
            runs["plain"].append(plain(urls))
            runs["per_get"].append(per_get(urls))
            runs["tracker"].append(tracker(paper.url))
    med = {name: statistics.median(values) for name, values in runs.items()}
    figures = {
        "pages": len(paper.pages), "articles": len(paper.titles), "requests": len(urls),
        "plain_s": round(med["plain"], 3), "per_get_s": round(med["per_get"], 3),
        "tracker_s": round(med["tracker"], 3),
        "ratio": round(med["tracker"] / med["plain"], 2),
        "ratio_to_per_get": round(med["tracker"] / med["per_get"], 2),
        "per_get_overhead_ms": round((med["per_get"] - med["plain"]) / len(urls) * 1000, 1),
    }
    width = max(map(len, figures))
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    ok = figures["ratio"] <= GOAL
    print(f"goal: tracker ≤ {GOAL}× plain httpx — {'met' if ok else 'NOT met'}")
    if not ok and figures["ratio_to_per_get"] <= GOAL:
        print("  (the gap is tracker.sources.http.fetch's new httpx.Client per request: "
              f"{figures['per_get_overhead_ms']} ms each, mostly loading the CA bundle)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
