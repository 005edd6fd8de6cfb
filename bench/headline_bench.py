"""Hits filed under their own headline: the share of keyword hits whose article's title is the
headline printed over that hit's article, on the seed pages (TRACKER_SEEDS, default
../shared/seeds, read at run time; the right titles are the hand check in tests/test_articles.py)
and on our golden pages of the roundup and short-item shapes (the cases in tests/data/splitter
marked `headline_score`), each read as a plain-text file and as HTML the way `tracker match` and
the worker read them.

    .venv/bin/python bench/headline_bench.py [--misses]

Fails (exit 1) when plain-text pages are under GOAL.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from splitter_cases import (as_html, as_text, exact, filed, fragment, score,  # noqa: E402
                            scored_cases, seed_right)

GOAL = 0.98


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--misses", action="store_true", help="list every hit filed elsewhere")
    args = parser.parse_args()
    seeds = Path(os.environ.get("TRACKER_SEEDS") or ROOT.parent / "shared" / "seeds")
    seed_texts = {p.name: p.read_text(encoding="utf-8") for p in sorted(seeds.glob("*.txt"))}
    if not seed_texts:
        print(f"no seed pages in {seeds}; set TRACKER_SEEDS", file=sys.stderr)
        return 2
    right_seeds = seed_right(seed_texts)
    golden = {name: (case.page, case.hits) for name, case in scored_cases().items()}
    totals = {}
    for shape_name, shape in (("plain text", as_text), ("HTML", as_html)):
        rows = [(f"seed {name[:3]}", *score(filed(seed_texts[name], shape, right), right, fragment))
                for name, right in right_seeds.items()]
        rows += [(f"golden {name}", *score(filed(text, shape, right), right, exact))
                 for name, (text, right) in golden.items()]
        for label, good, total, misses in rows:
            print(f"{shape_name:10} {label:28} {good:4}/{total:<4}")
            for miss in misses if args.misses else ():
                print(f"{'':12}{miss[0]}: filed under {miss[2]!r}, not {miss[1]!r}")
        seed = [r for r in rows if r[0].startswith("seed")]
        for part, chosen in (("seed pages", seed), ("golden pages", [r for r in rows if r not in seed]),
                             ("all", rows)):
            good, total = sum(r[1] for r in chosen), sum(r[2] for r in chosen)
            print(f"{shape_name:10} {part:28} {good:4}/{total:<4} {good / total:.1%}")
            totals[(shape_name, part)] = good / total
    rate = totals[("plain text", "all")]
    print(f"plain-text pages: {rate:.1%} of hits under their own headline (goal {GOAL:.0%})")
    return 0 if rate >= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
