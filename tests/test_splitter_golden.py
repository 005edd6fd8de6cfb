"""The splitter's golden cases (tests/data/splitter, one JSON file a page; tests/data/README.md
says how to add one): each page gives the spans its file lists, read as a user's file is; where
the file lists hits, every hit is filed under the title it names. Over the seed pages and the
golden pages marked `headline_score` together, at least 98% of plain-text hits are filed under
their own headline (`bench/headline_bench.py` gives the figure)."""

from __future__ import annotations

import re

import pytest

from splitter_cases import (as_html, as_is, as_text, assert_covers, cases, differences, exact,
                            filed, fragment, score, scored_cases, seed_right, split)

CASES = cases()
WITH_HITS = sorted(name for name, case in CASES.items() if case.hits is not None)
SCORED = sorted(name for name, case in CASES.items() if case.headline_score)


def test_there_are_cases():
    assert len(CASES) >= 40 and len(WITH_HITS) >= 20 and len(SCORED) >= 5


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_page_gives_the_articles_its_file_lists(name):
    case = CASES[name]
    document, spans = split(case)
    assert_covers(document.text, spans)
    assert differences(case.articles, document, spans) == []


@pytest.mark.parametrize("name", WITH_HITS)
def test_every_hit_is_filed_under_the_title_the_file_names(name):
    case = CASES[name]
    assert filed(case.page, as_is(case), case.hits) == case.hits


@pytest.mark.parametrize("name", SCORED)
def test_the_text_page_as_html_files_every_hit_alike(name):
    case = CASES[name]
    good, total, misses = score(filed(case.page, as_html, case.hits), case.hits, exact)
    assert total >= 8 and not misses, misses


def test_the_titles_a_file_lists_are_on_its_page():
    """A typo in an expectation fails its case; this names it: every title is the page's text."""
    def bare(text: str) -> str:
        return re.sub(r"\s+", "", text)

    for name, case in CASES.items():
        document, _ = split(case)
        titles = [a["title"] for a in case.articles if a["title"]]
        titles += [t for ts in (case.hits or {}).values() for t in ts if t]
        assert all(bare(t) in bare(document.text) for t in titles), name


def test_plain_text_hits_under_their_own_headline(seed_texts):
    good = total = 0
    for name, right in seed_right(seed_texts).items():
        g, t, _ = score(filed(seed_texts[name], as_text, right), right, fragment)
        good, total = good + g, total + t
    for case in scored_cases().values():
        g, t, _ = score(filed(case.page, as_text, case.hits), case.hits, exact)
        good, total = good + g, total + t
    assert good / total >= 0.98, f"{good}/{total}"
