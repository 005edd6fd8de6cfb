"""Word edges against a public gold-standard segmentation (not ours, read at run time).

The corpus (default ../shared/corpora/pku-gold-a.utf8, or --corpus) has one sentence a line,
words separated by spaces. Joining a line's words gives the raw sentence a page would hold. An
occurrence of a keyword there is *whole* when the gold keeps it whole — it is a word, a run of
whole words, or lies inside one word (政府 in 乡政府) — and a *straddle* when a gold word boundary
falls strictly inside it while one of its ends lies inside a word (标准地 in 国家标准|地方).

Keywords: every gold word of 2–4 Han characters that occurs at least --min times in the corpus and
both ways (whole somewhere, a straddle somewhere) — the strings where word edges decide. All of
them go into one matcher as one `match: word` rule each (as a worker holds a rule set), and the
matcher's hits are compared with the gold:

    found   = whole occurrences the matcher reports / whole occurrences
    refused = straddles the matcher does not report / straddles

    .venv/bin/python bench/word_edges.py [--corpus PATH] [--min N] [--each] [--json]

Gold granularity differs from jieba's (北京|市政府 vs 北京市政府), so neither figure reaches
100% by design; docs/benchmarks.md records them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from collections import Counter
from pathlib import Path
from typing import Iterator, NamedTuple

from tracker.documents import Document
from tracker.matching import Matcher
from tracker.rules import Rule

ROOT = Path(__file__).resolve().parents[1]
HAN = re.compile(r"^[\u4e00-\u9fff]+$")


class Sentence(NamedTuple):
    text: str
    cuts: frozenset[int]  # gold word boundaries, 0 and len(text) included


def default_corpus() -> Path:
    base = Path(os.environ.get("TRACKER_CORPORA") or ROOT.parent / "shared" / "corpora")
    return base / "pku-gold-a.utf8"


def sentences(path: Path) -> list[Sentence]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        words = line.split()
        if not words:
            continue
        cuts, pos = {0}, 0
        for word in words:
            pos += len(word)
            cuts.add(pos)
        out.append(Sentence("".join(words), frozenset(cuts)))
    return out


def is_whole(sentence: Sentence, start: int, end: int) -> bool:
    """The gold's reading: whole unless a boundary lies inside while an end lies inside a word."""
    inside = any(c in sentence.cuts for c in range(start + 1, end))
    return not inside or (start in sentence.cuts and end in sentence.cuts)


def occurrences(sentence: Sentence, keyword: str) -> Iterator[int]:
    start = sentence.text.find(keyword)
    while start >= 0:
        yield start
        start = sentence.text.find(keyword, start + 1)


def pick_keywords(corpus: list[Sentence], minimum: int) -> list[str]:
    """Gold words of 2–4 Han characters seen at least `minimum` times, both whole and straddling."""
    whole: Counter[str] = Counter()
    straddle: Counter[str] = Counter()
    words: set[str] = set()
    for sentence in corpus:
        text = sentence.text
        cuts = sorted(sentence.cuts)
        words.update(text[a:b] for a, b in zip(cuts, cuts[1:]) if 2 <= b - a <= 4)
        for n in (2, 3, 4):
            for i in range(len(text) - n + 1):
                piece = text[i:i + n]
                if HAN.match(piece):
                    (whole if is_whole(sentence, i, i + n) else straddle)[piece] += 1
    return sorted(k for k in straddle if k in words and whole[k] + straddle[k] >= minimum)


def measure(corpus: list[Sentence], keywords: list[str], each: bool = False) -> dict:
    """Match the keywords (all in one matcher, or with `each` one matcher per keyword, as a
    subscriber with a single rule has it) and compare every occurrence with the gold."""
    groups = [[k] for k in keywords] if each else [keywords]
    reported: set[tuple[int, str, int]] = set()
    for group in groups:
        matcher = Matcher([Rule(id=f"k{i}", name=k, keywords=(k,)) for i, k in enumerate(group)])
        documents = [Document(f"line{n}", s.text, "article") for n, s in enumerate(corpus)]
        for n, fired in enumerate(matcher.match_many(documents)):
            for match in fired:
                reported.update((n, match.rule.name, hit.start) for hit in match.occurrences)
    counts = Counter()
    missed: Counter[str] = Counter()
    taken: Counter[str] = Counter()
    for n, sentence in enumerate(corpus):
        for keyword in keywords:
            for start in occurrences(sentence, keyword):
                kind = "whole" if is_whole(sentence, start, start + len(keyword)) else "straddle"
                hit = (n, keyword, start) in reported
                counts[kind] += 1
                counts[f"{kind}_reported"] += hit
                if kind == "whole" and not hit:
                    missed[keyword] += 1
                if kind == "straddle" and hit:
                    taken[keyword] += 1
    return {
        "sentences": len(corpus), "keywords": len(keywords),
        "whole": counts["whole"], "whole_found": counts["whole_reported"],
        "straddles": counts["straddle"],
        "straddles_refused": counts["straddle"] - counts["straddle_reported"],
        "found": round(counts["whole_reported"] / max(1, counts["whole"]), 4),
        "refused": round(1 - counts["straddle_reported"] / max(1, counts["straddle"]), 4),
        "most_missed": missed.most_common(10), "most_taken": taken.most_common(10),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=default_corpus())
    parser.add_argument("--min", type=int, default=5, help="least occurrences of a keyword")
    parser.add_argument("--each", action="store_true", help="one matcher per keyword")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    corpus = sentences(args.corpus)
    result = measure(corpus, pick_keywords(corpus, args.min), each=args.each)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return
    print(f"{result['sentences']} sentences, {result['keywords']} keywords that occur both ways")
    print(f"whole occurrences found: {result['whole_found']}/{result['whole']} = {result['found']:.1%}")
    print(f"straddles refused: {result['straddles_refused']}/{result['straddles']} = "
          f"{result['refused']:.1%}")
    print("most missed:", result["most_missed"])
    print("straddles most often taken:", result["most_taken"])


if __name__ == "__main__":
    main()
