"""Clustering a large archive into stories (`tracker stories rebuild`) with flat memory.

An archive of --articles articles (news text made at run time of clauses of the PKU corpus and
the seed pages, ~500 characters each, dated over a year, a fifth of them reprints of an article
a few days before with a local lead and a paragraph cut) is written straight into tracker's
schema (no search index: it plays no part here), then clustered by tracker.worker.stories.rebuild
in a fresh process. Printed: the time, articles a second, stories found, and the process's peak
memory, at --articles and at a tenth of it: flat memory is the same peak at both sizes.

    .venv/bin/python bench/stories_archive_bench.py [--articles 1000000]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from story_set import clause_pool  # noqa: E402


def build(path: Path, n: int, seed: int = 1) -> None:
    from tracker.store import connect, transaction

    db = connect(path)
    rnd = random.Random(seed)
    pool = clause_pool()
    start = date(2024, 1, 1)
    with transaction(db):
        db.conn.executemany("INSERT INTO sources (id, name, type) VALUES (?, ?, 'folder')",
                            [(f"p{i}", f"报纸{i}") for i in range(50)])
    recent: list[tuple[int, str]] = []
    batch = []
    for i in range(n):
        day = i * 365 // n
        if recent and rnd.random() < 0.2:
            _, text = rnd.choice(recent)
            parts = text.split("。")
            parts.pop(rnd.randrange(len(parts)))
            text = "本报讯 " + rnd.choice(pool) + "。" + "。".join(parts)
        else:
            text = "。".join("，".join(rnd.choice(pool) for _ in range(3)) for _ in range(8)) + "。"
            recent = (recent + [(day, text)])[-200:]
        batch.append((f"p{rnd.randrange(50)}", (start + timedelta(days=day)).isoformat(),
                      f"标题{i}", text, f"h{i}", "2025-01-01T00:00:00+00:00"))
        if len(batch) == 10_000 or i == n - 1:
            with transaction(db):
                db.conn.executemany("INSERT INTO articles (source_id, issue_date, title, text, "
                                    "content_hash, first_seen) VALUES (?, ?, ?, ?, ?, ?)", batch)
            batch = []
    db.conn.close()


def cluster(path: Path) -> dict:
    from tracker.store import connect
    from tracker.worker.stories import rebuild

    db = connect(path)
    started = time.perf_counter()
    done, stories = rebuild(db)
    seconds = time.perf_counter() - started
    return {"articles": done, "stories": stories, "seconds": round(seconds, 1),
            "articles_per_s": round(done / seconds),
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def measure(n: int, folder: Path) -> dict:
    path = folder / f"archive-{n}.db"
    started = time.perf_counter()
    build(path, n)
    built = time.perf_counter() - started
    out = subprocess.run([sys.executable, __file__, "--cluster", str(path)], check=True,
                         capture_output=True, text=True).stdout
    return {"built_s": round(built), **json.loads(out.strip().splitlines()[-1]),
            "archive_mib": round(path.stat().st_size / 2**20)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--cluster", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cluster:
        print(json.dumps(cluster(args.cluster)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        small = measure(args.articles // 10, Path(tmp))
        print("small", json.dumps(small), flush=True)
        large = measure(args.articles, Path(tmp))
        print("large", json.dumps(large), flush=True)
    flat = large["peak_rss_mib"] <= small["peak_rss_mib"] * 1.2 + 10
    print("goal (the same peak memory at a tenth and at the whole):", "met" if flat else "NOT met")
    return 0 if flat else 1


if __name__ == "__main__":
    sys.exit(main())
