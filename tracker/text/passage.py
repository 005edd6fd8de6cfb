"""The passage shown for an article found in the archive (search results, the newest articles).

Presentation over stored rows: the store returns an article's title, text and the stored
snippet of its first hit; which passage people see is chosen here, for the CLI and web alike."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

from tracker.text.normalize import normalize
from tracker.text.query import query_words, word_keys
from tracker.text.snippets import sentence_ends, snippet

OPENING = 80  # characters shown of an article with nothing to mark
PER_WORD = 200  # occurrences of each word looked at in one field
NEAR = 80  # the words of a query within 2 × NEAR characters are shown together


def result_passage(title: str | None, text: str, query: str | Sequence[str] = "",
                   hit_snippet: str | None = None) -> str:
    """Where the query's words stand together in the text (else the title) — the occurrence
    with the most of them near it, the first of those — every one of them marked 【】; with no
    query, the stored snippet of the article's first hit; else the article's opening."""
    words = query_words(query) if isinstance(query, str) else list(query)
    keys = word_keys(words)
    if keys:
        for field in (text or "", title or ""):
            norm = normalize(field)
            found = sorted((at, at + len(key), n) for n, key in enumerate(keys)
                           for at in _occurrences(norm.key, key))
            spans, kinds, last = [], [], -1
            for a, b, n in found:  # page order, overlaps dropped
                if a >= last:
                    spans.append(norm.source_span(a, b))
                    kinds.append(n)
                    last = b
            if spans:
                ends = sentence_ends(field)
                sentences = [bisect_right(ends, a) for a, _ in spans]
                start, end = spans[_together(spans, kinds, sentences)]
                return snippet(field, start, end, others=spans).marked()
    elif hit_snippet is not None:
        return hit_snippet
    return (text or "")[:OPENING]


def _together(spans: list[tuple[int, int]], kinds: list[int], sentences: list[int]) -> int:
    """The first occurrence followed, in its sentence and within 2 × NEAR characters, by the
    most different words (a sliding window: linear in the occurrences)."""
    best, best_count, counts, j = 0, 0, {}, 0  # counts: word → occurrences in [i, j)
    for i, (a, _) in enumerate(spans):
        while j < len(spans) and spans[j][0] <= a + 2 * NEAR and sentences[j] == sentences[i]:
            counts[kinds[j]] = counts.get(kinds[j], 0) + 1
            j += 1
        if len(counts) > best_count:
            best, best_count = i, len(counts)
        counts[kinds[i]] -= 1
        if not counts[kinds[i]]:
            del counts[kinds[i]]
    return best


def _occurrences(key: str, word: str) -> list[int]:
    """Where `word` starts in `key`, the first PER_WORD times."""
    out, at = [], key.find(word)
    while at >= 0 and len(out) < PER_WORD:
        out.append(at)
        at = key.find(word, at + 1)
    return out
