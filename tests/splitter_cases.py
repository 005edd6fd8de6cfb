"""The splitter's golden cases: one JSON file per page in tests/data/splitter (see
tests/data/README.md), each the page and what must come out of it. `test_splitter_golden.py`
runs them; `bench/headline_bench.py` scores the pages' hits with the same functions.

A case file holds:

    about        what the page is and what it is a case of (one sentence)
    text | html  the page: a text page as its lines (joined with a line break; a last "" ends it
                 with one), or an HTML page as pieces of markup (joined with nothing)
    articles     the page's spans in page order, as `split_page` gives them for the page read as
                 a user's file: {"title": str | null, "body_starts": …, "body_ends": …} with
                 "kind": "ad" | "caption" for a span that is no article. The body is the span's
                 text without its title and its furniture lines (`span_body`): "body" is all of
                 it (written out when short), body_starts / body_ends its first and last
                 characters; a key left out is not checked.
    hits         optional, keyword -> the title of each of its hits in page order, when the page is
                 read and matched as `tracker match` does it (null: a hit in an untitled article)
    headline_score  optional, true: a text page whose hits count in the headline score (the
                 share of hits under their own headline over the seed pages and these pages,
                 `bench/headline_bench.py`, goal 98%); read as HTML too (wrapped by
                 builders.html_of), it must give the same hits

Print what the splitter gives now, for review, and write it only when asked:

    .venv/bin/python tests/splitter_cases.py [--write] [NAME ...]
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from tracker.config import load_config
from tracker.documents import Document
from tracker.matching import Matcher
from tracker.rules import Rule
from tracker.sources import read
from tracker.sources.reader import documents
from tracker.splitter import Span, span_body, split_page

CASES = Path(__file__).resolve().parent / "data" / "splitter"
EDGE = 12  # characters of a body's start and end a written-out expectation holds


@dataclass
class Case:
    name: str
    about: str
    suffix: str  # ".txt" or ".html": how the page is read
    page: str  # the file's text
    articles: list[dict]
    hits: dict[str, list[str | None]] | None = None
    headline_score: bool = False
    raw: dict = field(default_factory=dict, repr=False)


def load(path: Path) -> Case:
    raw = json.loads(path.read_text(encoding="utf-8"))
    unknown = set(raw) - {"about", "text", "html", "articles", "hits", "headline_score"}
    assert not unknown, f"{path.name}: unknown keys {sorted(unknown)}"
    assert ("text" in raw) != ("html" in raw), f"{path.name}: give the page as `text` or as `html`"
    assert not raw.get("headline_score") or ("text" in raw and raw.get("hits")), \
        f"{path.name}: a page in the headline score is a text page that lists its hits"
    suffix, page = (".txt", "\n".join(raw["text"])) if "text" in raw else (".html", "".join(raw["html"]))
    return Case(path.stem, raw.get("about", ""), suffix, page, raw["articles"], raw.get("hits"),
                raw.get("headline_score", False), raw)


def cases(folder: Path = CASES) -> dict[str, Case]:
    """name -> case, every file in the folder."""
    return {path.stem: load(path) for path in sorted(folder.glob("*.json"))}


def split(case: Case) -> tuple[Document, list[Span]]:
    """The page as the reader makes it a document, and the splitter's spans of it."""
    (document,) = documents(f"page{case.suffix}", case.page.encode("utf-8"), suffix=case.suffix)
    spans = split_page(document.text, document.meta.get("headings", ()), document.simplified_text())
    return document, spans


def described(document: Document, spans: list[Span]) -> list[dict]:
    """The spans as a case writes them out."""
    out = []
    for span in spans:
        body = span_body(document.text, span)
        entry: dict = {} if span.kind == "article" else {"kind": span.kind}
        entry["title"] = span.title
        if len(body) <= 2 * EDGE:
            entry["body"] = body
        else:
            entry["body_starts"], entry["body_ends"] = body[:EDGE], body[-EDGE:]
        out.append(entry)
    return out


def differences(expected: list[dict], document: Document, spans: list[Span]) -> list[str]:
    """What the spans do not share with the expectation; [] when they match it."""
    problems = []
    if len(expected) != len(spans):
        problems.append(f"{len(spans)} spans, expected {len(expected)}: "
                        f"{[s.title for s in spans]}")
    for n, (want, span) in enumerate(zip(expected, spans)):
        body = span_body(document.text, span)
        if want.get("kind", "article") != span.kind:
            problems.append(f"span {n}: kind {span.kind!r}, expected {want.get('kind', 'article')!r}")
        if want["title"] != span.title:
            problems.append(f"span {n}: title {span.title!r}, expected {want['title']!r}")
        if "body" in want and body != want["body"]:
            problems.append(f"span {n}: body {body!r}, expected {want['body']!r}")
        if "body_starts" in want and not body.startswith(want["body_starts"]):
            problems.append(f"span {n}: body starts {body[:EDGE]!r}, expected {want['body_starts']!r}")
        if "body_ends" in want and not body.endswith(want["body_ends"]):
            problems.append(f"span {n}: body ends {body[-EDGE:]!r}, expected {want['body_ends']!r}")
    return problems


def assert_covers(text: str, articles: list[Span]) -> None:
    """Spans cover the text contiguously, in order, each non-empty; titles lie in their span."""
    assert articles, "a non-empty text has at least one span"
    assert articles[0].start == 0 and articles[-1].end == len(text)
    for before, after in zip(articles, articles[1:]):
        assert before.end == after.start
    for a in articles:
        assert a.start < a.end and a.kind in ("article", "ad", "caption")
        if a.title is None:
            assert a.title_start is None and a.title_end is None
        else:
            assert a.start <= a.title_start < a.title_end <= a.end
            assert re.sub(r"\s+", "", text[a.title_start:a.title_end]) == re.sub(r"\s+", "", a.title)


# --- Hits: the page read as a user's file, matched -------------------------------------------

# A page as a file: its text -> (file suffix, bytes).
Shape = Callable[[str], tuple[str, bytes]]


def as_text(text: str) -> tuple[str, bytes]:
    return ".txt", text.encode("utf-8")


def as_html(text: str) -> tuple[str, bytes]:
    """A text page wrapped in HTML, a <p> a line (builders.html_of)."""
    from builders import html_of

    return ".html", html_of(text).encode("utf-8")


def as_is(case: Case) -> Shape:
    """The case's page as its own file (.txt or .html)."""
    return lambda page: (case.suffix, page.encode("utf-8"))


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


def scored_cases(folder: Path = CASES) -> dict[str, Case]:
    """The golden pages of the headline score."""
    return {name: case for name, case in cases(folder).items() if case.headline_score}


def seed_right(seed_texts: dict[str, str]) -> dict[str, dict[str, list[str | None]]]:
    """page name -> keyword -> the hand-checked title fragment of each occurrence."""
    from test_articles import THEME_TITLES

    return {name: {k: [f for f, times in plan for _ in range(times)]
                   for k, plan in THEME_TITLES[name[:3]].items()}
            for name in seed_texts if name[:3] in THEME_TITLES}


# --- Writing expectations out, deliberately --------------------------------------------------

def current(case: Case) -> dict:
    """The case's file with `articles` (and `hits`, if it lists them) as the code gives them now."""
    document, spans = split(case)
    out = dict(case.raw)
    out["articles"] = described(document, spans)
    if case.hits is not None:
        out["hits"] = filed(case.page, as_is(case), case.hits)
    return out


def dumps(raw: dict) -> str:
    """A case file's text: one line per page line, per span and per keyword."""
    order = ["about", "text", "html", "headline_score", "articles", "hits"]
    parts = []
    for key in sorted(raw, key=order.index):
        value = raw[key]
        if key in ("text", "html", "articles") and value:
            inner = ",\n".join("    " + json.dumps(v, ensure_ascii=False) for v in value)
            parts.append(f'  "{key}": [\n{inner}\n  ]')
        elif key == "hits" and value:
            inner = ",\n".join(f"    {json.dumps(k, ensure_ascii=False)}: {json.dumps(v, ensure_ascii=False)}"
                               for k, v in value.items())
            parts.append(f'  "{key}": {{\n{inner}\n  }}')
        else:
            parts.append(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def main() -> int:
    parser = argparse.ArgumentParser(description="Show what the splitter gives now for each golden "
                                                 "case, as a diff against its file (never run by the tests).")
    parser.add_argument("names", nargs="*", help="case names (file stems); all cases if none")
    parser.add_argument("--write", action="store_true",
                        help="write the current output into the files (review the diff first)")
    args = parser.parse_args()
    known = cases()
    changed = 0
    for name in args.names or sorted(known):
        if name not in known:
            print(f"no case {name} in {CASES}", file=sys.stderr)
            return 2
        path = CASES / f"{name}.json"
        old, new = path.read_text(encoding="utf-8"), dumps(current(known[name]))
        if old != new:
            changed += 1
            sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), new.splitlines(True),
                                                       f"{name}.json (file)", f"{name}.json (now)"))
            if args.write:
                path.write_text(new, encoding="utf-8")
    print(f"{changed} of {len(args.names or known)} cases differ from what the code gives now"
          + (" (written)" if args.write and changed else ""), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
