"""Roundups and short items, read as a user's plain-text or HTML file: every hit is filed under
its own article's headline (golden pages in tests/golden, see tests/golden_pages.py), and over
the seed pages and the golden pages together at least 98% of plain-text hits are."""

from __future__ import annotations

import pytest

from golden_pages import as_html, as_text, exact, filed, fragment, golden_pages, score, seed_right

GOLDEN = golden_pages()


@pytest.mark.parametrize("shape", [as_text, as_html], ids=["txt", "html"])
@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_every_hit_of_a_golden_page_has_its_own_headline(name, shape):
    text, right = GOLDEN[name]
    good, total, misses = score(filed(text, shape, right), right, exact)
    assert total >= 8 and not misses, misses


def test_golden_pages_name_every_article_they_list():
    """The .expected files hold what the pages print (a typo there would test nothing)."""
    for name, (text, right) in GOLDEN.items():
        titles = {t for ts in right.values() for t in ts if t is not None}
        assert all(t in text for t in titles), name


def test_plain_text_hits_under_their_own_headline(seed_texts):
    good = total = 0
    for name, right in seed_right(seed_texts).items():
        g, t, _ = score(filed(seed_texts[name], as_text, right), right, fragment)
        good, total = good + g, total + t
    for text, right in GOLDEN.values():
        g, t, _ = score(filed(text, as_text, right), right, exact)
        good, total = good + g, total + t
    assert good / total >= 0.98, f"{good}/{total}"
