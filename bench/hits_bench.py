"""Hits per page cost linear time: the starter rules on a page that holds
24,000 occurrences against the same page without any, in the same process; then twice the
occurrences, and a page of one line with no sentence end at two sizes.

Each run matches the page and cuts every kept hit's passage (what `tracker match` prints and
the worker stores). Each passage finds the other hits of its sentence by bisection; scanning
all of its rule's hits instead would make the time grow with the square of the hits.
Goals: with hits ≤ 3× without; twice the hits (or twice the one-line page) ≤ 2.5× the time.

    .venv/bin/python bench/hits_bench.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from tracker.documents import Document
from tracker.matching import Matcher
from tracker.rules import load_rules

ROOT = Path(__file__).resolve().parents[1]
HIT = "园区出让标准地12宗以上，新能源项目落地。"  # one occurrence of each of two rules
QUIET = "园区出让土地十二宗以上，一批项目已落地。"  # as long, no rule fires
ONE_LINE = "园区出让标准地12宗以上，新能源项目落地"  # no sentence end: one sentence of it all


def run(matcher: Matcher, text: str) -> tuple[float, int]:
    """Seconds to match `text` as one page and cut every kept hit's passage; hits counted."""
    start = time.perf_counter()
    found = matcher.match(Document(name="bench.txt", text=text, kind="text"))
    total = 0
    for match in found:
        total += len(match.occurrences) + getattr(match, "left_out", 0)  # also before the cap
        for hit in match.occurrences:
            hit.snippet.marked()
    return time.perf_counter() - start, total


def median(matcher: Matcher, text: str, repeat: int) -> tuple[float, int]:
    times, hits = [], 0
    for _ in range(repeat):
        seconds, hits = run(matcher, text)
        times.append(seconds)
    return statistics.median(times), hits


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    matcher = Matcher(load_rules(ROOT / "rules"))
    cases = {
        "no_hits_12000_sentences": "工业用地出让提速\n\n" + QUIET * 12000,
        "hits_24000": "工业用地出让提速\n\n" + HIT * 12000,
        "hits_48000": "工业用地出让提速\n\n" + HIT * 24000,
        "one_line_1mb": ONE_LINE * (1_000_000 // len(ONE_LINE.encode())),
        "one_line_2mb": ONE_LINE * (2_000_000 // len(ONE_LINE.encode())),
    }
    seconds, hits = {}, {}
    for name, text in cases.items():
        seconds[name], hits[name] = median(matcher, text, args.repeat)
        print(f"{name:<26} {seconds[name]:7.3f} s  {hits[name]:>7} hits")
    with_hits = seconds["hits_24000"] / seconds["no_hits_12000_sentences"]
    doubled = seconds["hits_48000"] / seconds["hits_24000"]
    line_doubled = seconds["one_line_2mb"] / seconds["one_line_1mb"]
    print(f"{'24,000 hits / no hits':<26} {with_hits:7.2f}×  (goal ≤ 3)")
    print(f"{'48,000 / 24,000 hits':<26} {doubled:7.2f}×  (goal ≤ 2.5: linear is 2)")
    print(f"{'one line 2 MB / 1 MB':<26} {line_doubled:7.2f}×  (goal ≤ 2.5)")
    ok = with_hits <= 3 and doubled <= 2.5 and line_doubled <= 2.5
    print("goal:", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
