"""Search latency on a big synthetic archive (default 1,000,000 articles), for docs/capacity.md.

The archive is made at run time with tracker's own schema (migrations, contentless trigram
index): each article a title and three to six sentences of the PKU corpus (../shared/corpora),
dated over --days days, ~5% with a hit of one of 20 rules. Each sentence is normalised once and
articles' keys are made by joining them (what normalise gives for text without line breaks).
Then tracker.store.search is timed for common and rare phrases of 2, 3 and 4+ characters, with
and without a date range, and a rule's latest articles; each the median of --repeat runs.

    .venv/bin/python bench/archive_bench.py [--articles 1000000] [--keep PATH]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pages import corpus_sentences  # noqa: E402

BATCH = 5000


def build(path: Path, n: int, days: int) -> None:
    from tracker.store import connect, transaction
    from tracker.store.fts import index_keys
    from tracker.text.normalize import normalize

    db = connect(path)
    sentences = corpus_sentences()
    keys = [normalize(s).key for s in sentences]
    pick = random.Random(12)
    first = date(2025, 1, 1)
    with transaction(db):
        db.execute("INSERT OR IGNORE INTO sources (id, name, type, location) VALUES "
                   "('synthetic', '合成日报', 'folder', '/synthetic')")
    done = 0
    while done < n:
        rows, index, hits = [], [], []
        for i in range(done + 1, min(n, done + BATCH) + 1):
            parts = [pick.randrange(len(sentences)) for _ in range(pick.randint(3, 6))]
            title = sentences[parts[0]][:20]
            day = (first + timedelta(days=i * days // n)).isoformat()
            rows.append((i, "synthetic", day, title, "\n".join(sentences[p] for p in parts),
                         f"h{i}", f"{day}T06:00:00+00:00"))
            index.append((i, keys[parts[0]][:20], "".join(keys[p] for p in parts)))
            if pick.random() < 0.05:
                hits.append((i, f"r{pick.randrange(20)}", "规则", 1, "[]", rows[-1][-1]))
        with transaction(db):
            db.conn.executemany("INSERT INTO articles (id, source_id, issue_date, title, text, "
                                "content_hash, first_seen) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            index_keys(db, index)
            db.conn.executemany("INSERT INTO hits (article_id, rule_id, rule_name, count, snippets, "
                                "matched_at) VALUES (?, ?, ?, ?, ?, ?)", hits)
        done += len(rows)
        print(f"\r{done} articles", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    db.execute("INSERT INTO articles_fts (articles_fts) VALUES ('optimize')")
    db.conn.close()


def timed(fn, repeat: int) -> tuple[float, int]:
    runs, found = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        found = len(fn())
        runs.append(time.perf_counter() - start)
    return round(statistics.median(runs) * 1000, 1), found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="build here (or reuse what is there)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    from tracker.store import connect
    from tracker.store.search import search

    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "big.db"
        start = time.perf_counter()
        if not path.exists():
            build(path, args.articles, args.days)
        build_s = time.perf_counter() - start
        db = connect(path, migrate=False, read_only=True)
        total = db.execute("SELECT count(*) FROM articles").fetchone()[0]
        size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
        text = db.execute("SELECT sum(length(text)) FROM articles").fetchone()[0]
        queries = {
            "3 chars, common (中国人)": lambda: search(db, "中国人"),
            "4 chars, common (经济发展)": lambda: search(db, "经济发展"),
            "5 chars, rare (可持续发展)": lambda: search(db, "可持续发展"),
            "2 chars, common (中国)": lambda: search(db, "中国"),
            "2 chars, rare (绿电)": lambda: search(db, "绿电"),
            "3 chars, one month (改革开)": lambda: search(db, "改革开", since="2025-06-01",
                                                      until="2025-06-30"),
            "rule r3, latest": lambda: search(db, "", rule="r3"),
        }
        figures: dict = {"articles": total, "text_mib": round(text / 2**20),
                         "archive_mib": round(size / 2**20), "build_s": round(build_s)}
        for name, fn in queries.items():
            ms, found = timed(fn, args.repeat)
            figures[f"search {name} ms"] = ms
            figures[f"search {name} found"] = found
        db.conn.close()
    for key, value in figures.items():
        print(f"{key:<42}  {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
