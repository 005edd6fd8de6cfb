"""Hostile inputs: peak memory and time of the worker on each, against a plain page in the same run.

Each input is the one source of a fresh instance, read by `tracker worker --once` as production
runs it (a subprocess; the inputs from a server on loopback or a drop folder), under a 4 GiB
address-space cap so that a regression fails here instead of taking the machine's memory. The
peak is the kernel's (wait4's ru_maxrss): the worker's, or the largest child it waited for (the
PDF reader), whichever is larger. The inputs are tests/hostile.py's:

  plain page     a one-entry RSS feed (the baseline, measured before and after the others)
  plain PDF      a one-page PDF in a drop folder
  entity feed    150 KB: an internal DTD subset behind a prolog an XML parser calls malformed
                 (expanded, 1.9 GB of text)
  gzip, gzip     5 KB on the wire, 2 GiB inflated
  PDF bomb       300 KB, a content stream of 200 MB of text objects (>3 GB in pdfium): in a
                 drop folder, and over http (a feed entry whose page is the PDF: fetch_full)

Goal: every hostile input within 2× the plain page's peak memory, and refused within 30 s.

    .venv/bin/python bench/hostile_bench.py [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from builders import as_rss, make_pdf  # noqa: E402
from hostile import (MB, entity_feed, flate_pdf, gzip_bomb, run_worker, send,  # noqa: E402
                     worker_env)
from loopback import serve  # noqa: E402

CAP = 4 << 30
MAX_SECONDS = 30.0
PLAIN = as_rss([{"title": "工业用地“标准地”出让提速", "link": "http://example.cn/1",
                 "description": "本报讯 开发区今年出让标准地12宗。"}]).encode()


def measure(folder: Path, name: str, source: str) -> dict:
    """One worker cycle over one source (`source`: its sources.yaml entry's fields)."""
    instance = folder / name.replace(" ", "-").replace(",", "")
    instance.mkdir()
    (instance / "sources.yaml").write_text(f"sources:\n  - id: s\n    name: s\n{source}",
                                           encoding="utf-8")
    done = run_worker(worker_env(instance, ROOT / "rules"), CAP, timeout=300)
    with sqlite3.connect(instance / "tracker.db") as db:
        status, error = db.execute("SELECT status, error FROM runs").fetchone() or (None, None)
    if done.returncode < 0:  # killed (pdfium aborting, out of memory): the run never finished
        status, error = "killed", f"worker: signal {-done.returncode}"
    return {"input": name, "peak_mib": round(done.peak_rss / MB, 1),
            "seconds": round(done.seconds, 2), "exit": done.returncode, "status": status,
            "problem": (error or "").split(": ", 1)[-1][:90]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with serve() as site, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        drop, bomb_drop = folder / "drop", folder / "bomb-drop"
        drop.mkdir()
        bomb_drop.mkdir()
        (drop / "2025-04-09_plain_p1.pdf").write_bytes(make_pdf([["工业用地标准地出让提速"]]))
        (bomb_drop / "2025-04-09_bomb_p1.pdf").write_bytes(flate_pdf())
        teaser = as_rss([{"title": "标准地", "link": f"{site.base}/bomb.pdf", "description": "短"}])
        site.routes.update({
            "/plain.xml": send(PLAIN, "application/rss+xml"),
            "/entities.xml": send(entity_feed(), "application/rss+xml"),
            "/gzip.xml": send(gzip_bomb(), "application/rss+xml", Content_Encoding="gzip, gzip"),
            "/teaser.xml": send(teaser.encode(), "application/rss+xml"),
            "/bomb.pdf": send(flate_pdf(), "application/pdf"),
        })
        runs = [
            ("plain page", f"    url: {site.base}/plain.xml\n"),
            ("plain PDF", f"    path: {drop}\n"),
            ("entity feed", f"    url: {site.base}/entities.xml\n"),
            ("gzip, gzip", f"    url: {site.base}/gzip.xml\n"),
            ("PDF bomb (folder)", f"    path: {bomb_drop}\n"),
            ("PDF bomb (http)", f"    url: {site.base}/teaser.xml\n    fetch_full: true\n"),
            ("plain page again", f"    url: {site.base}/plain.xml\n"),
        ]
        rows = [measure(folder, name, source) for name, source in runs]
    plain = max(r["peak_mib"] for r in rows if r["input"].startswith("plain page"))
    width = max(len(r["input"]) for r in rows)
    print(f"{'input':<{width}}  peak MiB  × plain  seconds  status   problem")
    for r in rows:
        r["x_plain"] = round(r["peak_mib"] / plain, 2)
        print(f"{r['input']:<{width}}  {r['peak_mib']:>8}  {r['x_plain']:>7}  {r['seconds']:>7}  "
              f"{r['status'] or '?':<7}  {r['problem']}")
    hostile = [r for r in rows if not r["input"].startswith("plain")]
    ok = all(r["x_plain"] <= 2 and r["seconds"] <= MAX_SECONDS and r["status"] != "ok"
             and r["exit"] in (0, 1) for r in hostile)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2, ensure_ascii=False))
    print(f"goal (each hostile input ≤ 2× the plain page's peak memory, refused within "
          f"{MAX_SECONDS:g} s):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
