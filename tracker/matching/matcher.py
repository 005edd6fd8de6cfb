"""The matcher: rules compiled once, then every document matched in one pass over its text.

Somewhat over 350 lines on purpose: compiling a rule and running it share private indexes (term
ids, word terms, RE2 sets) that would have to become a public interface if split; the pure
parts live in `words` (word edges), `filters` (near, longest-first) and `evaluate` (a compiled
rule's conditions on one article's occurrences).
"""

from __future__ import annotations

import gc
from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable, Iterable, NamedTuple, Sequence

import ahocorasick_rs
import re2

from tracker.splitter import Span, furniture_lines, split_page
from tracker.documents import Document
from tracker.matching.evaluate import Compiled, Candidate, evaluate, one_keyword
from tracker.matching.words import WordSegmenter, is_whole
from tracker.rules.model import FIELDS, Rule
from tracker.rules.regex import compile_pattern, options
from tracker.text.normalize import Normalized, normalize_term, normalize_terms
from tracker.text.snippets import Snippet, sentence_ends, snippet

# Between a document's own title and its text: a sentence end, so no word runs across it.
TITLE_SEPARATOR = "\n。\n"
MAX_REGEX_OCCURRENCES = 1000  # occurrences of one pattern kept per document
# Occurrences kept per rule and article (the first ones, in page order); `RuleMatch.left_out` counts
# the rest. A page of 24,000 occurrences stays a page: its snippets, stored JSON and output too.
MAX_OCCURRENCES = 100
REGEX_SET_SIZE = 32  # patterns per RE2 set: a set's DFA never nears its memory budget on a page
REGEX_SET_MEMORY = 64 << 20  # bytes an RE2 set may use (allocated only as its DFA grows)


class Occurrence(NamedTuple):
    """One occurrence of a rule's keyword: where it is in the document text, and a snippet."""

    keyword: str
    field: str  # "title" | "body"
    start: int
    end: int
    # For the snippet: the text, its field's span there, the spans of the rule's occurrences in
    # the article, word boundaries within a span of the text (a segmenter's), and the text's
    # sentence ends (worked out once per document, for all its snippets), and the passages of
    # the rule's sentences once worked out (shared by its occurrences: each sentence's are cut once).
    context: tuple[str, int, int, tuple[tuple[int, int], ...], Callable[[int, int], set[int]],
                   list[int], dict]

    @property
    def snippet(self) -> Snippet:
        """The readable passage around the occurrence (its sentence, the rule's other occurrences
        in it marked too), worked out when someone wants to read it."""
        text, lo, hi, others, words, ends, groups = self.context
        return snippet(text, self.start, self.end, lo=lo, hi=hi, others=others, words=words,
                       sentence_ends=ends, groups=groups)

    def __repr__(self) -> str:
        return f"Occurrence({self.keyword!r}, {self.field!r}, {self.start}, {self.end})"


@dataclass(slots=True)
class RuleMatch:
    """A hit: a rule that fired in one article of a document, with the occurrences of its
    keywords that count."""

    rule: Rule
    document: Document
    title: str | None
    start: int  # the article's span in `text`
    end: int
    text: str  # the document text the offsets refer to (title + separator + body when titled)
    # the first MAX_OCCURRENCES, in page order
    occurrences: list[Occurrence] = field(default_factory=list)
    left_out: int = 0  # occurrences beyond MAX_OCCURRENCES, not kept

    @property
    def count(self) -> int:
        """How many occurrences the rule has in the article, those left out included."""
        return len(self.occurrences) + self.left_out


class Matcher:
    """Rules compiled into one automaton; `match` a document to get what fired where."""

    def __init__(self, rules: Iterable[Rule]):
        self.rules = list(rules)
        self._term_ids: dict[str, int] = {}
        self._regex_ids: dict[str, int] = {}  # pattern → -1, -2, …: RE2 terms
        self._by_keyword: dict[int, list[int]] = defaultdict(list)
        word_terms: set[str] = set()
        word_ids: set[int] = set()  # the fast path's word terms, as ids
        self._globals: dict = {}  # (id of global excludes, word) → term ids, worked out once
        keywords = list(dict.fromkeys(k for rule in self.rules for k in rule.keywords))
        self._keys = dict(zip(keywords, normalize_terms(keywords)))  # all at once: faster
        paused = gc.isenabled()
        gc.disable()  # as for loading: a collection here walks every rule made so far, for naught
        try:
            self._compiled = [self._compile(i, rule, word_terms, word_ids)
                              for i, rule in enumerate(self.rules)]
        finally:
            if paused:
                gc.enable()
        terms = list(self._term_ids)
        word_terms.update(terms[t] for t in word_ids)
        # Regex term -(j+1) reads _word_term[-(j+1)]: one False per pattern at the end, so a
        # regex occurrence is never word-checked (a pattern spells out its own edges).
        self._word_term = [t in word_terms for t in terms] + [False] * len(self._regex_ids)
        self._automaton = ahocorasick_rs.AhoCorasick(terms) if terms else None
        self._regex = [compile_pattern(p) for p in self._regex_ids]
        self._regex_sets = _regex_sets(self._regex)
        self._segmenter = WordSegmenter(sorted(word_terms)) if word_terms else None
        self._snippet_segmenter: WordSegmenter | None = None  # made when a snippet needs one
        _settle()

    def _term(self, text: str) -> int:
        key = self._keys.get(text)
        return self._term_ids.setdefault(normalize_term(text) if key is None else key,
                                         len(self._term_ids))

    def _pattern(self, pattern: str) -> int:
        return self._regex_ids.setdefault(pattern, -len(self._regex_ids) - 1)

    def _compile(self, index: int, rule: Rule, word_terms: set[str],
                 word_ids: set[int]) -> Compiled:
        if len(rule.keywords) == 1 and rule.fields == FIELDS and not (
                rule.regex or rule.all or rule.exclude or rule.near or rule.sources
                or rule.all_regex or rule.exclude_regex):
            # One keyword and nothing else, the commonest rule: the plain path below, in fewer
            # steps (100,000 of them compile at every start).
            keyword = rule.keywords[0]
            term_id = self._term(keyword)
            self._by_keyword[term_id].append(index)
            word = rule.match == "word"
            if word:
                word_ids.add(term_id)
            return Compiled(rule, ((term_id, keyword),), frozenset((term_id,)), (),
                             self._global_ids(rule, word, word_terms), (), True, word)
        keywords = tuple((self._term(k), k) for k in rule.keywords)
        if rule.regex:
            keywords += tuple((self._pattern(p), f"/{p}/") for p in rule.regex)
        ids = frozenset(t for t, _ in keywords)
        by_keyword = self._by_keyword
        for term_id in ids:
            by_keyword[term_id].append(index)
        plain = not (rule.all or rule.exclude or rule.near or rule.sources or rule.all_regex
                     or rule.exclude_regex) and (rule.fields == FIELDS
                                                 or set(rule.fields) == set(FIELDS))
        if plain:  # the common shape, in fewer steps: 100,000 of them load at every start
            word = rule.match == "word"
            if word:
                word_ids.update(t for t in ids if t >= 0)
            return Compiled(rule, keywords, ids, (), self._global_ids(rule, word, word_terms),
                             (), True, word)
        if rule.match == "word":
            word_terms.update(normalize_term(t) for t in rule.terms() | set(rule.globals.terms))
        near = tuple((frozenset(map(self._term, n.terms)), tuple(map(self._term, n.with_)),
                      n.within) for n in rule.near)
        # A plain rule's `exclude` holds only the global excludes (checked on the fast path).
        exclude = (*map(self._term, rule.exclude), *map(self._pattern, rule.exclude_regex),
                   *map(self._term, rule.globals.terms), *map(self._pattern, rule.globals.regex))
        return Compiled(rule, keywords, ids,
                         (*map(self._term, rule.all), *map(self._pattern, rule.all_regex)),
                         tuple(dict.fromkeys(exclude)), near, plain, rule.match == "word")

    def _global_ids(self, rule: Rule, word: bool, word_terms: set[str]) -> tuple[int, ...]:
        """The ids of the rule set's global excludes (the exclude of a plain rule)."""
        key = (id(rule.globals), word)  # one object shared by the set's rules
        if key not in self._globals:
            if word:
                word_terms.update(map(normalize_term, rule.globals.terms))
            self._globals[key] = tuple(dict.fromkeys((*map(self._term, rule.globals.terms),
                                                      *map(self._pattern, rule.globals.regex))))
        return self._globals[key]

    def match(self, document: Document) -> list[RuleMatch]:
        """Every (rule, article) of `document` where a rule fires, in page order."""
        return self.match_many([document])[0]

    def match_many(self, documents: Sequence[Document]) -> list[list[RuleMatch]]:
        """`match` for each document — an issue's pages at once. Each stage runs over all the
        pages before the next begins, so the automaton, the dictionary and the conversion tables
        each stay in the CPU cache while they work (page by page, each evicts the others;
        docs/benchmarks.md has the figures)."""
        if self._automaton is None and not self._regex:
            return [[] for _ in documents]
        texts = [_text(d) for d in documents]
        norms = [_key(d) for d in documents]
        found = [self._automaton.find_matches_as_indexes(n.key, overlapping=True)
                 if self._automaton else [] for n in norms]
        cuts = [self._cuts(n, f) for n, f in zip(norms, found)]
        if self._regex:
            found = [f + self._regex_found(n.key) for n, f in zip(norms, found)]
        # Only a page where some term occurred is split into articles.
        return [self._rules_fired(d, text, _articles(d, text), n, f, c) if f else []
                for d, text, n, f, c in zip(documents, texts, norms, found, cuts)]

    def _words_of(self, text: str) -> Callable[[int, int], set[int]]:
        """Word boundaries in text[a:b] (page offsets), for cutting snippets between words."""
        def words(a: int, b: int) -> set[int]:
            if self._snippet_segmenter is None:
                self._snippet_segmenter = self._segmenter or WordSegmenter(())
            # Layout whitespace (乡村振\n兴) is no word boundary: segment the text without it.
            kept = [i for i in range(a, b) if not text[i].isspace()]
            compact = "".join(text[i] for i in kept)
            cuts = self._snippet_segmenter.boundaries(compact)
            return {kept[c] if c < len(kept) else b for c in cuts}
        return words

    def _regex_found(self, key: str) -> list[tuple[int, int, int]]:
        """(term id, start, end) of every regex occurrence in `key`: RE2 sets say in one pass
        each which patterns occur at all, and only those are run for their spans."""
        out = []
        occurring = [j for first, found in self._regex_sets
                     for j in (range(first, first + REGEX_SET_SIZE) if found is None
                               else (first + i for i in found.Match(key) or ()))
                     if j < len(self._regex)]
        for j in occurring:
            for n, m in enumerate(self._regex[j].finditer(key)):
                if n == MAX_REGEX_OCCURRENCES:
                    break
                start, end = m.span()
                if start < end <= len(key):
                    out.append((-j - 1, start, end))
        return out

    def _within(self, term_id: int, norm: Normalized, start: int, end: int) -> int | None:
        """The end of pattern `term_id`'s match at key offset `start` that stops before page
        offset `end` (the article's end), or None: a match never runs into the next article."""
        stop = bisect_left(range(len(norm.key)), end, key=norm.offset)
        found = self._regex[-term_id - 1].match(norm.key, start, stop)
        return found.end() if found and found.end() > start else None

    def _cuts(self, norm: Normalized, found: list[tuple[int, int, int]]) -> set[int]:
        """Word boundaries around the occurrences of terms that a word-mode rule uses."""
        at = [k for t, ks, ke in found if self._word_term[t] for k in (ks, ke - 1)]
        return self._segmenter.boundaries_near(norm.key, at) if self._segmenter and at else set()

    def _rules_fired(self, document: Document, text: str, articles: list[Span],
                     norm: Normalized, found: list[tuple[int, int, int]],
                     cuts: set[int]) -> list[RuleMatch]:
        starts = [a.start for a in articles]
        titles = [(a.title_start, a.title_end) if a.title_start is not None else (-1, -1)
                  for a in articles]
        word_term, offset, key = self._word_term, norm.offset, norm.key
        buckets: dict[int, dict[int, list[Candidate]]] = defaultdict(lambda: defaultdict(list))
        for term_id, ks, ke in found:
            source = offset(ks)
            a = bisect_right(starts, source) - 1
            if articles[a].furniture and _in_furniture(articles[a], source):
                continue  # a masthead, a navigation line, a link, a byline: no occurrence
            if term_id < 0 and offset(ke - 1) >= articles[a].end:
                ke = self._within(term_id, norm, ks, articles[a].end)
                if ke is None:
                    continue
            word = not word_term[term_id] or is_whole(key, ks, ke, cuts)
            title_start, title_end = titles[a]
            field_ = "title" if title_start <= source < title_end else "body"
            buckets[a][term_id].append(
                Candidate(ks, ke, source, offset(ke - 1) + 1, field_, word))
        results = []
        ends = sentence_ends(text)
        for a in sorted(buckets):
            results.extend(self._fire(document, text, articles[a], buckets[a], ends))
        return results

    def _fire(self, document, text, article: Span, by_term: dict[int, list[Candidate]],
              ends: list[int]) -> list[RuleMatch]:
        candidate_rules = sorted({r for t in by_term for r in self._by_keyword.get(t, ())})
        words = self._words_of(text)
        out = []
        compiled_rules = self._compiled
        for r in candidate_rules:
            compiled = compiled_rules[r]
            if compiled.plain and not compiled.exclude and len(compiled.keywords) == 1:
                # One keyword, nothing else (most rules): its occurrences, overlaps dropped.
                kept = one_keyword(compiled, by_term[compiled.keywords[0][0]])
            else:
                kept = evaluate(compiled, by_term, document.source)
            if not kept:
                continue
            # Every occurrence's span (in page order) for marking the ones that share a passage; the
            # first MAX_OCCURRENCES kept, each with its passage when someone reads it.
            spans = tuple(sorted((o.source_start, o.source_end) for _, _, _, o in kept))
            groups: dict = {}
            occurrences = [Occurrence(keyword, o.field, o.source_start, o.source_end,
                                      (text, *_field_span(article, o.field, o.source_start),
                                       spans, words, ends, groups))
                           for _, _, keyword, o in kept[:MAX_OCCURRENCES]]
            out.append(RuleMatch(compiled.rule, document, article.title, article.start,
                                 article.end, text, occurrences, max(0, len(kept) - MAX_OCCURRENCES)))
        return out


def _settle() -> None:
    """Move what exists now — above all the compiled rules, which live until the rules change —
    out of the cyclic GC's sight. Otherwise every collection during matching walks every rule
    object again: with 100,000 rules, matching 100 pages took 0.46 s instead of 0.25 s.
    Frozen objects are still freed by reference counting when a new rule set replaces them."""
    gc.collect()
    gc.freeze()


def _regex_sets(compiled: list) -> list[tuple[int, object | None]]:
    """(first pattern index, RE2 set) per REGEX_SET_SIZE patterns. A set that RE2 cannot build
    is None: its patterns are then each run on every page (slower, never wrong)."""
    sets: list[tuple[int, object | None]] = []
    opts = options()
    opts.max_mem = REGEX_SET_MEMORY
    for first in range(0, len(compiled), REGEX_SET_SIZE):
        found = re2.Set.SearchSet(opts)
        try:
            for pattern in compiled[first:first + REGEX_SET_SIZE]:
                found.Add(pattern.pattern)
            found.Compile()
        except re2.error:
            found = None
        sets.append((first, found))
    return sets


def _field_span(article: Span, field_: str, offset: int) -> tuple[int, int]:
    """The span of the field holding `offset`: the title, or the body on its side of the title,
    between the furniture lines around `offset` (a snippet never shows them)."""
    if article.title_start is None or article.title_end is None:
        lo, hi = article.start, article.end
    elif field_ == "title":
        return article.title_start, article.title_end
    elif offset >= article.title_end:
        lo, hi = article.title_end, article.end
    else:
        lo, hi = article.start, article.title_start
    for a, b in article.furniture:
        if b <= offset:
            lo = max(lo, b)
        elif a > offset:
            hi = min(hi, a)
            break
    return lo, hi


def _in_furniture(article: Span, offset: int) -> bool:
    return any(a <= offset < b for a, b in article.furniture)


def _key(document: Document) -> Normalized:
    """The match key of `_text(document)`, from the document's own keys (each worked out once,
    and the store uses them again): the title's, the separator's 。, the text's."""
    body = document.text_key()
    if not document.title:
        return body
    title = document.title_key()
    n, t = len(document.title), len(title.key)
    skip = n + len(TITLE_SEPARATOR)
    return Normalized(title.key + "。" + body.key,
                      [*title.run_starts, t, *(t + 1 + k for k in body.run_starts)],
                      [*title.run_sources, n + 1, *(skip + s for s in body.run_sources)])


def _text(document: Document) -> str:
    """The text matched: a titled document's title, a sentence end, then its text."""
    return document.title + TITLE_SEPARATOR + document.text if document.title else document.text


def _articles(document: Document, text: str) -> list[Span]:
    """A titled document or an article is one article; a page is split into its articles."""
    if document.title or document.is_article:
        # One article: only its furniture lines (a byline, 查看原文) to find.
        skip = len(text) - len(document.text)
        furniture = tuple((a + skip, b + skip) for a, b in
                          furniture_lines(document.text, document.simplified_text()))
        if document.title:
            return [Span(0, len(text), document.title, 0, len(document.title), furniture=furniture)]
        return [Span(0, len(text), None, furniture=furniture)]
    return split_page(text, document.meta.get("headings", ()), document.simplified_text()) or \
        [Span(0, len(text), None)]
