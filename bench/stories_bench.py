"""Story clustering benchmark: are reprints one story, and are different stories apart?

On the generated set of bench/story_set.py (1,000 stories from public news text, each an
original and 3–5 reprints with the edits papers make, among them 200 same-topic stories that are
not the same: 100 pairs of State Council meeting reports, 100 pairs of items of one roundup),
every copy is stored as the worker stores it (tracker.store.articles.add_articles, then
tracker.store.stories.assign_stories with its fingerprint), a day's papers per transaction, in
the order papers come in (by day; within a day a reprint may come first). Pairs of copies are
scored: precision = pairs put in one story that are one story; recall = pairs of one story put
in one story. Goals: precision ≥ 0.98, recall ≥ 0.95.

    .venv/bin/python bench/stories_bench.py [--stories 1000] [--threshold T] [--sweep]

`--sweep` scores the thresholds around the chosen one (how THRESHOLD was chosen).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter, defaultdict
from itertools import groupby
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from story_set import Copy, build  # noqa: E402


def pairs(n: int) -> int:
    return n * (n - 1) // 2


def cluster(copies: list[Copy], db_path: Path, threshold: float) -> tuple[list[int], float]:
    """Store every copy, a day at a time; each copy's story id, and the seconds spent on
    fingerprints and stories (not on storing the articles)."""
    from tracker.store import connect, transaction
    from tracker.store.articles import NewArticle, add_articles
    from tracker.store.stories import assign_stories
    from tracker.text.fingerprint import fingerprints
    from tracker.text.normalize import normalize

    db = connect(db_path)
    with transaction(db):
        db.conn.executemany("INSERT OR IGNORE INTO sources (id, name, type) VALUES (?, ?, 'epaper')",
                            [(c.source, c.source) for c in copies])
    out: list[int] = []
    spent = 0.0
    for _, day_copies in groupby(copies, key=lambda c: c.day):
        batch = list(day_copies)
        keys = [(normalize(c.title).key, normalize(c.text).key) for c in batch]
        start = time.perf_counter()
        prints = fingerprints([text for _, text in keys])
        spent += time.perf_counter() - start
        with transaction(db):
            stored = add_articles(db, [NewArticle(source_id=c.source, title=c.title, text=c.text,
                                                  issue_date=c.day) for c in batch], keys)
            start = time.perf_counter()
            new = [(i, fp) for (i, is_new), fp in zip(stored, prints) if is_new]
            stories = dict(zip([i for i, _ in new], assign_stories(db, new, threshold=threshold)))
            spent += time.perf_counter() - start
            for article_id, _ in stored:
                out.append(stories.get(article_id) or db.execute(
                    "SELECT story_id FROM articles WHERE id = ?", [article_id]).fetchone()[0])
    db.conn.close()
    return out, spent


def score(copies: list[Copy], found: list[int]) -> dict:
    """Pair precision and recall, and how many same-topic pairs were put in one story."""
    both = Counter(zip((c.story for c in copies), found))
    true = Counter(c.story for c in copies)
    predicted = Counter(found)
    together = sum(pairs(n) for n in both.values())
    precision = together / max(1, sum(pairs(n) for n in predicted.values()))
    recall = together / max(1, sum(pairs(n) for n in true.values()))
    stories_of = defaultdict(set)
    for c, s in zip(copies, found):
        stories_of[c.story].add(s)
    kinds = {c.story: c.kind for c in copies}
    pairs_merged = sum(1 for s in range(0, max(kinds) + 1, 2)
                       if kinds.get(s) in ("meeting", "roundup") and kinds.get(s + 1) == kinds[s]
                       and stories_of[s] & stories_of[s + 1])
    split = sum(1 for s in true if len(stories_of[s]) > 1)
    return {"precision": round(precision, 4), "recall": round(recall, 4),
            "same_topic_pairs_merged": pairs_merged, "stories_split": split,
            "stories_found": len(predicted)}


def run(copies: list[Copy], threshold: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        found, spent = cluster(copies, Path(tmp) / "stories.db", threshold)
        total = time.perf_counter() - start
    return {"threshold": threshold, **score(copies, found), "seconds": round(total, 1),
            "clustering_s": round(spent, 2)}


def main() -> int:
    from tracker.store.stories import THRESHOLD

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threshold", type=float, default=THRESHOLD)
    parser.add_argument("--sweep", action="store_true")
    args = parser.parse_args()
    copies = build(args.stories, args.seed)
    print(f"{args.stories} stories, {len(copies)} copies "
          f"({sum(1 for c in copies if c.kind != 'plain')} in same-topic pairs)")
    thresholds = [round(args.threshold + d, 2) for d in (-0.15, -0.1, -0.05, 0, 0.05, 0.1, 0.15)] \
        if args.sweep else [args.threshold]
    results = [run(copies, t) for t in thresholds if t > 0]
    for r in results:
        print("  ".join(f"{k} {v}" for k, v in r.items()))
    chosen = next(r for r in results if r["threshold"] == args.threshold)
    ok = chosen["precision"] >= 0.98 and chosen["recall"] >= 0.95
    print("goal (pair precision ≥ 0.98, recall ≥ 0.95):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
