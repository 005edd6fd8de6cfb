"""Ingest benchmark: 1,600 newspaper pages stored by the worker's path against the floor.

  floor   — read each file, normalise its text once, one bulk insert of every key into the same
            contentless trigram FTS5 table, one transaction: the least any archive that can
            search the pages must do.
  tracker — the worker's path for one folder source (tracker.worker.cycle.run_source): read and
            hash the files, split pages into articles, match the starter rules, store articles,
            hits, index and outbox rows a batch of pages per transaction, into a fresh archive.

Each side runs in a fresh process (its own peak memory), alternately, --rounds times; the
figure is each side's median. Goal: tracker within 2× the floor. Inside the tracker side, the
time spent putting articles in stories (their fingerprints, made before each batch's
transaction, and tracker.store.stories.assign_stories inside it) is timed in the same process
as the ingest it is part of: goal, at most 15% of the ingest. Peak memory of the tracker
side at a quarter of the pages shows that it does not grow with the pages of one source.

    .venv/bin/python bench/ingest_bench.py [--pages 1600] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pages import ROOT, write_pages  # noqa: E402


def floor(folder: Path, db_path: Path) -> float:
    from tracker.store.db import _open
    from tracker.store.fts import create_index, index_keys
    from tracker.text.normalize import normalize

    normalize("預熱 warm-up")  # tables load on first use: not part of the floor
    db = _open(db_path)
    create_index(db)
    start = time.perf_counter()
    rows = [(i, "", normalize(p.read_text(encoding="utf-8")).key)
            for i, p in enumerate(sorted(folder.iterdir()), start=1)]
    db.execute("BEGIN IMMEDIATE")
    index_keys(db, rows)
    db.execute("COMMIT")
    return time.perf_counter() - start


def tracker(folder: Path, db_path: Path) -> dict:
    from tracker.matching import Matcher
    from tracker.rules import load_rules
    from tracker.sources.catalog import Source
    from tracker.store import connect, migrate, transaction
    from tracker.store.sources import upsert_sources
    from tracker.worker.cycle import run_source

    import tracker.worker.ingest as ingest

    spent = [0.0]

    def timed(function):
        def run(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - start
        return run

    ingest.fingerprints = timed(ingest.fingerprints)
    ingest.assign_stories = timed(ingest.assign_stories)
    matcher = Matcher(load_rules(ROOT / "rules"))
    matcher.match_many([])  # anything loaded on first use: not part of the ingest
    source = Source(id="bench", name="bench", type="folder", path=str(folder))
    migrate(db_path)
    db = connect(db_path)
    with transaction(db):
        upsert_sources(db, [source])
    db.conn.close()
    start = time.perf_counter()
    report = run_source(db_path, source, {"FOLDER_SETTLE_SECONDS": 0}, matcher)
    c = report.counts
    if report.status != "ok":
        raise SystemExit(f"the ingest failed: {report.status} {report.error}")
    stories = db_stories(db_path)
    return {"seconds": time.perf_counter() - start, "status": report.status,
            "articles": c.fetched, "new": c.new, "hits": c.hits, "stories_s": spent[0],
            "stories": stories}


def db_stories(db_path: Path) -> int:
    from tracker.store import connect

    db = connect(db_path, migrate=False)
    try:
        return db.execute("SELECT count(*) FROM stories").fetchone()[0]
    finally:
        db.conn.close()


def side(name: str, folder: Path, db_path: Path) -> dict:
    """Run one side in this process (called in a child)."""
    if name == "floor":
        out = {"seconds": floor(folder, db_path)}
    else:
        out = tracker(folder, db_path)
    out["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return out


def run_child(name: str, folder: Path, db_path: Path) -> dict:
    db_path.unlink(missing_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(str(db_path) + suffix).unlink(missing_ok=True)
    done = subprocess.run([sys.executable, __file__, "--side", name, "--folder", str(folder),
                           "--db", str(db_path)], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1600)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--side", choices=["floor", "tracker"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if args.side:
        print(json.dumps(side(args.side, args.folder, args.db)))
        return 0

    with tempfile.TemporaryDirectory() as tmp:
        folder, small = Path(tmp) / "pages", Path(tmp) / "quarter"
        write_pages(args.pages, folder)
        write_pages(args.pages // 4, small)
        floors, runs = [], []
        for _ in range(args.rounds):
            floors.append(run_child("floor", folder, Path(tmp) / "floor.db"))
            runs.append(run_child("tracker", folder, Path(tmp) / "tracker.db"))
        size = (Path(tmp) / "tracker.db").stat().st_size
        quarter = run_child("tracker", small, Path(tmp) / "quarter.db")
    floor_s = statistics.median(r["seconds"] for r in floors)
    tracker_s = statistics.median(r["seconds"] for r in runs)
    figures = {
        "pages": args.pages, "articles": runs[-1]["articles"], "hits": runs[-1]["hits"],
        "floor_s": round(floor_s, 2), "tracker_s": round(tracker_s, 2),
        "ratio": round(tracker_s / floor_s, 2),
        "stories": runs[-1]["stories"],
        "stories_s": round(statistics.median(r["stories_s"] for r in runs), 2),
        "stories_share": round(statistics.median(r["stories_s"] / r["seconds"] for r in runs), 3),
        "pages_per_s": round(args.pages / tracker_s),
        "archive_mib": round(size / 2**20, 1),
        "peak_rss_mib": runs[-1]["peak_rss_mib"],
        f"peak_rss_mib_{args.pages // 4}_pages": quarter["peak_rss_mib"],
        "floor_peak_rss_mib": floors[-1]["peak_rss_mib"],
    }
    width = max(map(len, figures))
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    ok = figures["ratio"] <= 2
    print("goal (tracker within 2× the floor):", "met" if ok else "NOT met")
    clustering_ok = figures["stories_share"] <= 0.15
    print("goal (stories at most 15% of the ingest):", "met" if clustering_ok else "NOT met")
    return 0 if ok and clustering_ok else 1


if __name__ == "__main__":
    sys.exit(main())
