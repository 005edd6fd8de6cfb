"""Newspaper pages for the benchmarks, made at run time from material we do not own: each seed
page (TRACKER_SEEDS or ../shared/seeds) with a sentence of the PKU corpus (../shared/corpora)
added to each paragraph, a different one per copy, so that no two pages' articles are alike
(the archive keeps an article once) while the layout — titles, bylines, paragraphs — stays a
real page's. Nothing of either is written into the repository."""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]


def seed_dir() -> Path:
    return Path(os.environ.get("TRACKER_SEEDS") or ROOT.parent / "shared" / "seeds")


def corpus_sentences() -> list[str]:
    path = Path(os.environ.get("TRACKER_CORPORA") or ROOT.parent / "shared" / "corpora")
    lines = (path / "pku-gold-a.utf8").read_text(encoding="utf-8").splitlines()
    return [s for s in ("".join(line.split()) for line in lines) if len(s) >= 10]


def pages(n: int) -> Iterator[tuple[str, str]]:
    """n (file name, text) pages, the same ones every run."""
    seeds = [p.read_text(encoding="utf-8") for p in sorted(seed_dir().glob("*.txt"))]
    if not seeds:
        raise SystemExit(f"no seed pages in {seed_dir()} (set TRACKER_SEEDS)")
    sentences = corpus_sentences()
    for i in range(n):
        out, pick = [], random.Random(i)
        for line in seeds[i % len(seeds)].splitlines():
            if len(line) >= 12:  # a paragraph (or a wrapped line of one): a sentence more
                line += pick.choice(sentences)
            out.append(line)
        day = 1 + (i // 40) % 28
        yield f"2025-04-{day:02d}_p{i:05d}.txt", "\n".join(out)


def write_pages(n: int, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name, text in pages(n):
        path = folder / name
        path.write_text(text, encoding="utf-8")
        os.utime(path, (1_700_000_000, 1_700_000_000))  # settled long ago
        out.append(path)
    return out
