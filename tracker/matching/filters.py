"""Pure functions for the boolean part of a rule, on occurrence spans within one article.

An occurrence is a (start, end) span in the article's match key; distances are counted in
key characters, so line breaks and spaces inside Chinese text do not count.
"""

from __future__ import annotations

from typing import Iterable, Sequence

Span = tuple[int, int]


def gap(a: Span, b: Span) -> int:
    """Characters between two spans (0 when they touch or overlap)."""
    return max(0, b[0] - a[1], a[0] - b[1])


def is_near(span: Span, others: Iterable[Span], within: int) -> bool:
    """Whether any of `others` lies within `within` characters of `span`."""
    return any(gap(span, other) <= within for other in others)


def any_near(spans: Iterable[Span], others: Sequence[Span], within: int) -> bool:
    """Whether some span of `spans` has one of `others` within `within` characters."""
    return any(is_near(s, others, within) for s in spans)


def longest_first(spans: Iterable[tuple]) -> list[tuple]:
    """Keep the longest of overlapping occurrences (绿电交易 over 绿电), leftmost first. Each
    item is a tuple that starts with (start, end)."""
    kept: list[tuple] = []
    for span in sorted(spans, key=lambda s: (s[0], -(s[1] - s[0]))):
        if kept and span[0] < kept[-1][1]:
            continue
        kept.append(span)
    return kept
