"""Matching benchmark: 100,000 one-keyword rules against 100 newspaper pages.

Side by side in one run:
  naive   — every keyword tested against every page's match key (`keyword in key`);
  tracker — Matcher.match_many (normalisation, article split, one automaton pass, word checks)
            over an issue's pages at once, as the worker calls it.
The two are timed issue by issue (20 pages), one after the other, so that the host's changing
load meets both alike; each issue's tracker time is the median of --repeat runs (default 5).
Also: how long the 100,000 rules take to load from YAML and to compile, and the peak memory of
the whole run; and matching with 100 `regex:` rules beside the keyword rules, as a ratio to the
keyword-only matcher timed alongside it (`regex_match`). Pages are the seed pages (TRACKER_SEEDS or ../shared/seeds) repeated to 100.

    make bench        # or: .venv/bin/python bench/match_bench.py [--rules N] [--pages N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import jieba

from tracker.documents import Document
from tracker.matching import Matcher
from tracker.rules import Rule, load_rules
from tracker.text.normalize import normalize

ROOT = Path(__file__).resolve().parents[1]
ISSUE_PAGES = 20
REGEX_RATIO_GOAL = 2.0


def seed_dir() -> Path:
    return Path(os.environ.get("TRACKER_SEEDS") or ROOT.parent / "shared" / "seeds")


def dictionary_words(n: int, seed: int = 20250409) -> list[str]:
    """n distinct 3–4 character words from jieba's dictionary, the same ones every run."""
    path = Path(jieba.__file__).with_name("dict.txt")
    with path.open(encoding="utf-8") as f:
        words = [w for w in (line.split(" ", 1)[0] for line in f) if len(w) in (3, 4)]
    return random.Random(seed).sample(words, n)


def write_rules(words: list[str], folder: Path) -> Path:
    path = folder / "bench.yaml"
    with path.open("w", encoding="utf-8") as f:
        f.write("rules:\n")
        for i, w in enumerate(words):
            f.write(f"  - {{id: k{i}, name: {w}, keywords: [{w}]}}\n")
    return path


def regex_rules(words: list[str], pages: list[Document], n: int = 100) -> list[Rule]:
    """n `regex:` rules built from dictionary words, half of them words the pages hold: a gap
    inside the word, an alternation, a number after it — shapes TrendRadar users write."""
    shapes = ("{a}.{{0,6}}{b}", "({b}|{a}){b}", "{a}{b}\\d*", "{a}[^，。]{{0,10}}{b}")
    text = "\n".join(normalize(p.text).key for p in pages)
    present = [w for w in words if w in text]
    chosen = present[:n // 2] + [w for w in words if w not in text][:n - min(len(present), n // 2)]
    rules = []
    for i, w in enumerate(chosen):
        pattern = shapes[i % len(shapes)].format(a=w[:2], b=w[2:])
        rules.append(Rule(id=f"re{i}", name=w, keywords=(), regex=(pattern,)))
    return rules


def regex_match(plain: Matcher, extra: list[Rule], pages: list[Document],
                repeat: int) -> dict:
    """Matching with `extra` (regex rules) beside the rules of `plain`, against `plain` alone,
    issue by issue in the same process, each the median of `repeat` runs: the ratio is what
    the regex rules cost."""
    mixed = Matcher(plain.rules + extra)
    plain_s = mixed_s = 0.0
    fired = 0
    for first in range(0, len(pages), ISSUE_PAGES):
        issue = pages[first:first + ISSUE_PAGES]
        for matcher in (plain, mixed):
            runs = []
            for _ in range(repeat):
                t = time.perf_counter()
                results = matcher.match_many(issue)
                runs.append(time.perf_counter() - t)
            if matcher is plain:
                plain_s += statistics.median(runs)
            else:
                mixed_s += statistics.median(runs)
                fired += sum(1 for found in results for f in found if f.rule.id.startswith("re"))
    return {"regex_rules": len(extra), "keyword_only_match_s": round(plain_s, 3),
            "with_regex_match_s": round(mixed_s, 3),
            "regex_ratio": round(mixed_s / plain_s, 2), "regex_rules_fired": fired}


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=100_000)
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5, help="tracker runs per issue (median)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    seeds = sorted(seed_dir().glob("*.txt"))
    if not seeds:
        print(f"no seed pages in {seed_dir()} (set TRACKER_SEEDS)", file=sys.stderr)
        return 2
    texts = [p.read_text(encoding="utf-8") for p in seeds]
    pages = [Document(f"page{i}", texts[i % len(texts)], "text") for i in range(args.pages)]
    words = dictionary_words(args.rules)

    with tempfile.TemporaryDirectory() as tmp:
        path = write_rules(words, Path(tmp))
        t = time.perf_counter()
        rules = load_rules(path)
        load_s = time.perf_counter() - t
    t = time.perf_counter()
    matcher = Matcher(rules)
    compile_s = time.perf_counter() - t

    # Side by side, issue by issue (20 pages, a big issue): the host's load drifts, and both
    # sides should meet it alike.
    fired_fast: set[tuple[int, str]] = set()
    fired_naive: set[tuple[int, str]] = set()
    hit_count = 0
    fast_s = naive_s = 0.0
    for first in range(0, len(pages), ISSUE_PAGES):
        issue = pages[first:first + ISSUE_PAGES]
        runs = []
        for _ in range(args.repeat):  # an issue takes a tenth of a second: the median of a few
            t = time.perf_counter()
            results = matcher.match_many(issue)
            runs.append(time.perf_counter() - t)
        fast_s += statistics.median(runs)
        for i, found in enumerate(results, start=first):
            fired_fast.update((i, f.rule.id) for f in found)
            hit_count += sum(len(f.occurrences) for f in found)

        t = time.perf_counter()
        for i, page in enumerate(issue, start=first):
            key = normalize(page.text).key
            for r in rules:
                if any(k in key for k in r.keywords):
                    fired_naive.add((i, r.id))
        naive_s += time.perf_counter() - t

    # Word mode fires on a subset of what plain substring search finds.
    assert fired_fast <= fired_naive, "the matcher fired where the keyword is absent"
    chars = sum(len(p.text) for p in pages)
    figures = {
        "rules": len(rules), "pages": len(pages), "characters": chars,
        "rules_load_s": round(load_s, 2), "compile_s": round(compile_s, 2),
        "tracker_match_s": round(fast_s, 3),
        "naive_match_s": round(naive_s, 2),
        "speedup": round(naive_s / fast_s, 1),
        "fired_tracker": len(fired_fast), "fired_naive_substring": len(fired_naive),
        "hits": hit_count, "peak_rss_mib": round(rss_mib()),
    }
    figures.update(regex_match(matcher, regex_rules(words, pages), pages, args.repeat))
    width = max(map(len, figures))
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    ok = figures["speedup"] >= 100 and figures["peak_rss_mib"] < 1024
    print("goal (≥100× faster, <1 GiB):", "met" if ok else "NOT met")
    regex_ok = figures["regex_ratio"] <= REGEX_RATIO_GOAL
    print(f"goal (100 regex rules cost ≤{REGEX_RATIO_GOAL}× the keyword-only time):",
          "met" if regex_ok else "NOT met")
    return 0 if ok and regex_ok else 1


if __name__ == "__main__":
    sys.exit(main())
