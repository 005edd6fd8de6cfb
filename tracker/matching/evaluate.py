"""A compiled rule and how it is evaluated on the occurrences of its terms in one article:
pure functions, apart from the matcher that finds the occurrences (`tracker.matching.matcher`).
See tracker.rules for the order of a rule's conditions."""

from __future__ import annotations

from typing import NamedTuple

from tracker.matching.filters import any_near, is_near, longest_first
from tracker.rules.model import Rule


class Candidate(NamedTuple):
    """A term found in an article, before any rule's conditions: it becomes an `Occurrence`
    of a keyword (tracker.matching.matcher) only where a rule that fires keeps it."""

    start: int  # in the match key
    end: int
    source_start: int  # in the document text
    source_end: int
    field: str
    word: bool  # a word of its sentence (always True for terms no word-mode rule uses)


class Compiled(NamedTuple):  # a tuple: 100,000 of them are made at every start
    """One rule in term ids: keywords with the spelling the rule used, and its conditions."""

    rule: Rule
    keywords: tuple[tuple[int, str], ...]
    keyword_ids: frozenset[int]
    all: tuple[int, ...]
    exclude: tuple[int, ...]
    near: tuple[tuple[frozenset[int], tuple[int, ...], int], ...]
    plain: bool  # keywords only, both fields, every source: the common shape, a fast path
    word: bool  # match: word (an occurrence counts only where it keeps its words whole)


def one_keyword(compiled: Compiled, found: list[Candidate]
                 ) -> list[tuple[int, int, str, Candidate]]:
    """`evaluate` for a plain rule with one keyword and no global excludes: the occurrences
    that count, as (start, end, keyword, candidate); of overlapping ones (the keyword overlaps
    itself: 哈哈 in 哈哈哈) the first, as `longest_first` keeps them."""
    keyword = compiled.keywords[0][1]
    kept: list[tuple[int, int, str, Candidate]] = []
    end = -1
    for o in sorted(found, key=_longest_first) if len(found) > 1 else found:
        if (o.word or not compiled.word) and o.start >= end:
            kept.append((o.start, o.end, keyword, o))
            end = o.end
    return kept


def _longest_first(o: Candidate) -> tuple[int, int]:
    return o.start, o.start - o.end


def evaluate(compiled: Compiled, by_term: dict[int, list[Candidate]],
              source: str | None) -> list[tuple[int, int, str, Candidate]]:
    """The occurrences that remain after the rule's conditions (see tracker.rules for the
    order), as (start, end, keyword, candidate)."""
    word_mode = compiled.word
    if compiled.plain:
        if len(compiled.keywords) == 1:  # the commonest rule of all: one keyword
            ((t, kw),) = compiled.keywords
            found = [(o.start, o.end, kw, o) for o in by_term.get(t, ()) if o.word or not word_mode]
        else:
            found = [(o.start, o.end, kw, o) for t, kw in compiled.keywords
                     for o in by_term.get(t, ()) if o.word or not word_mode]
        if found and compiled.exclude and any(
                o.word or not word_mode for t in compiled.exclude for o in by_term.get(t, ())):
            return []
        return longest_first(found) if len(found) > 1 else found
    rule = compiled.rule
    if rule.sources and source not in rule.sources:
        return []

    def occurrences(term_id: int) -> list[Candidate]:
        return [o for o in by_term.get(term_id, ())
                if o.field in rule.fields and (o.word or not word_mode)]

    def spans(term_id: int) -> list[tuple[int, int]]:
        return [(o.start, o.end) for o in occurrences(term_id)]

    kept = [(o.start, o.end, kw, o, t) for t, kw in compiled.keywords for o in occurrences(t)]
    for terms, with_ids, within in compiled.near:
        others = [span for w in with_ids for span in spans(w)]
        if terms & compiled.keyword_ids:
            kept = [c for c in kept if c[4] not in terms or is_near(c[:2], others, within)]
        elif not any_near([span for t in terms for span in spans(t)], others, within):
            return []
    if not kept:
        return []
    if any(not spans(t) for t in compiled.all) or any(spans(t) for t in compiled.exclude):
        return []
    return longest_first(c[:4] for c in kept)
