"""Whose headline each hit is filed under, on pages whose right answer is known: the golden
pages in tests/golden (ours) and the seed pages (read at run time; the right titles are the hand
check in test_articles.THEME_TITLES). `bench/headline_bench.py` gives the rate; the tests use
the same functions.

A golden page is `NAME.txt` with `NAME.expected` beside it: the page's articles in page order,
one a line, each its headline as printed or, for an item with no headline, `- ` and the text
that opens it. A keyword's occurrence belongs to the last article opening at or before it.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Callable, Iterable

from tracker.config import load_config
from tracker.matching import Matcher
from tracker.rules import Rule
from tracker.sources import read

GOLDEN = Path(__file__).resolve().parent / "golden"
KEYWORDS = ("光伏", "储能", "招商", "便民", "电商", "政府")

# A page as a file: its text -> (file suffix, bytes).
Shape = Callable[[str], tuple[str, bytes]]


def as_text(text: str) -> tuple[str, bytes]:
    return ".txt", text.encode("utf-8")


def as_html(text: str) -> tuple[str, bytes]:
    from builders import html_of

    return ".html", html_of(text).encode("utf-8")


def golden_pages(folder: Path = GOLDEN) -> dict[str, tuple[str, dict[str, list[str | None]]]]:
    """name -> (page text, keyword -> the right title of each occurrence, in page order)."""
    pages = {}
    for path in sorted(folder.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        opens: list[tuple[int, str | None]] = []
        pos = 0
        for line in path.with_suffix(".expected").read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            title, opening = (None, line[2:]) if line.startswith("- ") else (line, line)
            pos = text.index(opening, pos)
            opens.append((pos, title))
            pos += 1
        right = {k: [next(t for at, t in reversed(opens) if at <= m.start())
                     for m in re.finditer(k, text)] for k in KEYWORDS}
        pages[path.stem] = (text, right)
    return pages


def filed(text: str, shape: Shape, keywords: Iterable[str]) -> dict[str, list[str | None]]:
    """The title each hit of each keyword gets when the page is read as a user's file is (the
    reader, the splitter, the matcher), in page order."""
    keywords = list(keywords)
    matcher = Matcher([Rule(id=f"k{n}", name=k, keywords=(k,)) for n, k in enumerate(keywords)])
    got: dict[str, list[str | None]] = {k: [] for k in keywords}
    with tempfile.TemporaryDirectory() as tmp:
        suffix, data = shape(text)
        path = Path(tmp) / f"page{suffix}"
        path.write_bytes(data)
        config = load_config({"INSTANCE_PATH": tmp}, environ={})
        for document in read(str(path), config):
            for found in matcher.match(document):
                got[found.rule.name].extend(found.title for _ in found.occurrences)
    return got


def score(got: dict[str, list[str | None]], right: dict[str, list[str | None]],
          same: Callable[[str | None, str | None], bool]) -> tuple[int, int, list[tuple]]:
    """(hits under their own headline, hits, the misses as (keyword, right, got))."""
    good, total, misses = 0, 0, []
    for keyword, titles in right.items():
        for n, want in enumerate(titles):
            have = got.get(keyword, [])[n] if n < len(got.get(keyword, [])) else "(no hit)"
            total += 1
            if same(want, have):
                good += 1
            else:
                misses.append((keyword, want, have))
    return good, total, misses


def exact(want: str | None, have: str | None) -> bool:
    return want == have


def fragment(want: str | None, have: str | None) -> bool:
    """The seed pages' hand check names a fragment of the right title (None: no title)."""
    return have is None if want is None else (have is not None and have != "(no hit)" and want in have)


def seed_right(seed_texts: dict[str, str]) -> dict[str, dict[str, list[str | None]]]:
    """page name -> keyword -> the hand-checked title fragment of each occurrence."""
    from test_articles import THEME_TITLES

    return {name: {k: [f for f, times in plan for _ in range(times)]
                   for k, plan in THEME_TITLES[name[:3]].items()}
            for name in seed_texts if name[:3] in THEME_TITLES}
