"""Snippets: the passage around an occurrence that people read, cut from the page's own characters.

A passage is the occurrence's sentence, every occurrence of the rule in it marked, cut after clause
punctuation or between words (never inside one), never leaving its article or field. Kept apart
from `tracker.text.normalize`, which makes the key an occurrence is found in.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from typing import Callable, NamedTuple, Sequence

from tracker.text.normalize import CJK_CHAR, CJK_RANGES as _CJK, readable

_WHITESPACE = re.compile(r"\s+")
# Whitespace between an occurrence's mark (\x01-\x04, see `snippet`) and a CJK character.
_BY_MARK = re.compile(f"(?<=[{_CJK}])\\s+(?=[\x01-\x04])|(?<=[\x01-\x04])\\s+(?=[{_CJK}])")
_MARK = re.compile("[\x01-\x04]")
# Sentence ends where a snippet may start or stop.
_SENTENCE_END = re.compile(r"[。！？；!?;]")


class Snippet(NamedTuple):
    """A short readable passage around a keyword's occurrence: `before`, the occurrence as
    printed, `after`; `others` are the spans of the other occurrences in the same passage, in
    `before + occurrence + after`."""

    before: str
    occurrence: str
    after: str
    others: tuple[tuple[int, int], ...] = ()

    def marked(self, left: str = "【", right: str = "】") -> str:
        """The passage with every occurrence in it marked (so a sentence with three occurrences
        reads the same for each of them, and an alert shows it once)."""
        if not self.others:
            return f"{self.before}{left}{self.occurrence}{right}{self.after}"
        text = f"{self.before}{self.occurrence}{self.after}"
        spans = sorted({*self.others, (len(self.before), len(self.before) + len(self.occurrence))})
        out, pos = [], 0
        for a, b in spans:
            if a < pos:
                continue  # overlapping occurrences: the first one marked
            out += [text[pos:a], left, text[a:b], right]
            pos = b
        out.append(text[pos:])
        return "".join(out)


Cutter = Callable[[int, int], set[int]]  # word boundaries (page offsets) within [a, b)
# Where a passage may be cut inside a sentence: after clause punctuation or a space.
_CLAUSE = re.compile(f"[，、：,:“”‘’「」『』（）()《》]|(?<![{_CJK}])\\s+(?![{_CJK}])")


def snippet(text: str, start: int, end: int, *, lo: int = 0, hi: int | None = None,
            width: int = 40, others: Sequence[tuple[int, int]] = (),
            words: Cutter | None = None, sentence_ends: Sequence[int] | None = None,
            groups: dict | None = None) -> Snippet:
    """The passage around text[start:end] within [lo, hi) (its article's field): its sentence,
    at most `width` more characters on each side of the occurrences it holds. `others` are all
    occurrences of the same rule, in page order, not overlapping (as the matcher keeps them):
    the occurrences of a sentence are taken together, left to right, into passages of at most
    `PASSAGE_WIDTHS` widths, and every occurrence of one passage gets that same passage with
    all of them marked; two passages of one sentence never overlap (they are cut between their
    occurrences). So a sentence is read once, however many occurrences it holds. A cut inside a
    sentence falls after clause punctuation, else at a word boundary (`words`, a segmenter),
    never inside a word where one is known. The sentence's occurrences are found by bisection,
    so a passage costs the same however many occurrences the rule has elsewhere.
    `sentence_ends` is `sentence_ends(text)` when the caller cuts many passages from one text;
    `groups`, a dict kept by such a caller, holds each sentence's passages once worked out."""
    hi = len(text) if hi is None else hi
    ends = sentence_ends if sentence_ends is not None else _ends(text)
    i = bisect_right(ends, start) - 1
    sentence_a = max(lo, ends[i]) if i >= 0 else lo
    i = bisect_right(ends, end)
    sentence_b = min(hi, ends[i]) if i < len(ends) else hi
    if len(others) == 1 and others[0] == (start, end) or not others:
        a, b = _window(text, sentence_a, sentence_b, start, end, width, words)
        near: list[tuple[int, int]] = []  # the rule's only occurrence here: the common case
    else:
        key = (sentence_a, sentence_b)
        found = groups.get(key) if groups is not None else None
        if found is None:
            found = _Passages(in_sentence(others, sentence_a, sentence_b) or [(start, end)], width)
            if groups is not None:
                groups[key] = found
        at = bisect_right(found.firsts, start) - 1
        if at >= 0 and start < found.lasts[at]:
            a, b = found.window(at, text, sentence_a, sentence_b, words)
            near = found.runs[at]
        else:  # an occurrence that is not one of `others`: a passage of its own
            a, b = _window(text, sentence_a, sentence_b, start, end, width, words)
            near = []
    spans = sorted({(x, y) for x, y in near if (x, y) != (start, end) and a <= x and y <= b}) \
        if near else []
    prefix = "…" if a > lo and not _SENTENCE_END.match(text[a - 1]) else ""
    suffix = "…" if b < hi and not _SENTENCE_END.match(text[b - 1]) else ""
    if not spans:
        # No other occurrence in the passage (most snippets): nothing to mark through a join, so the
        # pieces are slices of the text, each made readable on its own where the passage has
        # layout whitespace (whitespace at a piece's edge goes either way).
        if not _WHITESPACE.search(text, a, b):
            return Snippet(prefix + text[a:start], text[start:end], text[end:b] + suffix)
        return Snippet(prefix + _readable(text[a:start]), _readable(text[start:end]),
                       _readable(text[end:b]) + suffix)
    marks = [(start, "\x01"), (end, "\x02")] + [(x, "\x03") for x, _ in spans] + \
        [(y, "\x04") for _, y in spans]
    pieces, pos = [], a
    # The page's own \x01-\x04 (invisible; an HTML page can hold them) would pass for marks.
    own = _MARK.sub if _MARK.search(text, a, b) else None
    for at, m in sorted(marks, key=lambda t: (t[0], t[1] in "\x02\x04")):
        pieces += [own("", text[pos:at]) if own else text[pos:at], m]
        pos = at
    pieces.append(own("", text[pos:b]) if own else text[pos:b])
    # \x01-\x04 (neither space nor CJK) mark the occurrences through the join.
    joined = "".join(pieces)
    if _WHITESPACE.search(joined):
        joined = readable(_BY_MARK.sub("", joined))
    before, rest = joined.split("\x01", 1)
    occurrence, after = rest.split("\x02", 1)
    before, occurrence, after = before.rstrip(), occurrence.strip(), after.lstrip()
    return _assemble(prefix + before, occurrence, after + suffix)


PASSAGE_WIDTHS = 8  # a passage spans at most this many widths: a long sentence gives several


def _ends(text: str) -> list[int]:
    return [m.end() for m in _SENTENCE_END.finditer(text)]


def _window(text: str, sentence_a: int, sentence_b: int, first: int, last: int, width: int,
            words: Cutter | None) -> tuple[int, int]:
    """The passage [a, b) of the occurrences from `first` to `last` in their sentence: `width` more
    characters on each side, cut after clause punctuation or between words."""
    a = max(sentence_a, first - width)
    b = min(sentence_b, last + width)
    if a > sentence_a:
        a = _cut_after(text, a, first, words)
    if b < sentence_b:
        b = _cut_before(text, last, b, words)
    return a, b


class _Passages:
    """The passages of one sentence's occurrences (`spans`, in order). Occurrences are taken
    together left to right while their passage stays within PASSAGE_WIDTHS widths (cheap:
    arithmetic); each passage's bounds are cut only when one of its occurrences asks (a
    sentence of a one-line page can hold thousands of occurrences, of which the first
    MAX_OCCURRENCES are read). Where two neighbours would overlap, both are cut at the same
    place between their occurrences."""

    def __init__(self, spans: Sequence[tuple[int, int]], width: int):
        self.runs: list[list[tuple[int, int]]] = []
        for x, y in spans:
            if self.runs and y + width - (self.runs[-1][0][0] - width) <= PASSAGE_WIDTHS * width:
                self.runs[-1].append((x, y))
            else:
                self.runs.append([(x, y)])
        self.firsts = [run[0][0] for run in self.runs]
        self.lasts = [max(y for _, y in run) for run in self.runs]
        self.width = width
        self._raw: dict[int, tuple[int, int]] = {}

    def _bounds(self, k: int, text: str, sentence_a: int, sentence_b: int,
                words: Cutter | None) -> tuple[int, int]:
        if k not in self._raw:
            self._raw[k] = _window(text, sentence_a, sentence_b, self.firsts[k], self.lasts[k],
                                   self.width, words)
        return self._raw[k]

    def window(self, k: int, text: str, sentence_a: int, sentence_b: int,
               words: Cutter | None) -> tuple[int, int]:
        """Passage k's [a, b), cut between occurrences where it would overlap a neighbour."""
        a, b = self._bounds(k, text, sentence_a, sentence_b, words)
        if k > 0 and self._bounds(k - 1, text, sentence_a, sentence_b, words)[1] > a:
            a = max(a, _between(text, self.lasts[k - 1], self.firsts[k], words))
        if k + 1 < len(self.runs) and \
                b > self._bounds(k + 1, text, sentence_a, sentence_b, words)[0]:
            b = min(b, _between(text, self.lasts[k], self.firsts[k + 1], words))
        return a, b


def _between(text: str, x: int, y: int, words: Cutter | None) -> int:
    """Where to part two passages between offsets x <= y: after the clause punctuation nearest
    the middle, else at the word boundary nearest it, else in the middle."""
    middle = (x + y) // 2
    cuts = [m.end() for m in _CLAUSE.finditer(text, x, y) if m.end() <= y] or \
        [c for c in _boundaries(text, x, y, words) if x <= c <= y]
    return min(cuts, key=lambda c: abs(c - middle)) if cuts else middle


def in_sentence(spans: Sequence[tuple[int, int]], a: int, b: int) -> list[tuple[int, int]]:
    """The spans that lie within [a, b), of `spans` in page order without overlaps: found by
    bisection and read from there to `b`, never by a scan of them all (a page can hold tens of
    thousands of one rule's occurrences, and each occurrence's passage asks)."""
    out = []
    for i in range(bisect_left(spans, (a, a)), len(spans)):
        x, y = spans[i]
        if x >= b:
            break
        if y <= b:
            out.append((x, y))
    return out


def _readable(piece: str) -> str:
    """`readable(piece)`, quicker for a piece without whitespace (a passage's common case)."""
    return readable(piece) if _WHITESPACE.search(piece) else piece


def sentence_ends(text: str) -> list[int]:
    """The offsets just after each sentence end in `text`, in order (for `snippet`)."""
    return [m.end() for m in _SENTENCE_END.finditer(text)]


def _assemble(before: str, occurrence: str, after: str) -> Snippet:
    """A Snippet from pieces that still hold the other occurrences' marks (\x03 … \x04)."""
    if "\x03" not in before and "\x03" not in after and "\x04" not in before + occurrence + after:
        return Snippet(before, occurrence, after)  # no other occurrence here: most snippets
    others: list[tuple[int, int]] = []
    parts: list[str] = []
    length = 0  # of the clean text so far
    opened = -1
    for piece in (before, occurrence, after):
        clean: list[str] = []
        pos = 0
        while True:  # from mark to mark (a passage has few), not character by character
            i = min((j for j in (piece.find("\x03", pos), piece.find("\x04", pos)) if j >= 0),
                    default=-1)
            if i < 0:
                break
            clean.append(piece[pos:i])
            length += i - pos
            if piece[i] == "\x03":
                opened = length
            elif opened >= 0:
                others.append((opened, length))
                opened = -1
            pos = i + 1
        clean.append(piece[pos:])
        length += len(piece) - pos
        parts.append("".join(clean))
    return Snippet(parts[0], parts[1], parts[2], tuple(others))


def _cut_after(text: str, a: int, first: int, words: Cutter | None) -> int:
    """Move a passage's start `a` forward to a clause or word start before `first`."""
    clause = _CLAUSE.search(text, a, first)
    if clause and clause.end() <= first:
        return clause.end()
    cuts = _boundaries(text, max(0, a - 8), first, words)
    later = [c for c in cuts if a <= c <= first]
    return min(later) if later else a


def _cut_before(text: str, last: int, b: int, words: Cutter | None) -> int:
    """Move a passage's end `b` back to a clause or word end after `last`."""
    clauses = [m.start() for m in _CLAUSE.finditer(text, last, b) if m.start() > last]
    if clauses:
        return clauses[-1]
    cuts = _boundaries(text, last, min(len(text), b + 8), words)
    earlier = [c for c in cuts if last <= c <= b]
    return max(earlier) if earlier else b


def _boundaries(text: str, a: int, b: int, words: Cutter | None) -> set[int]:
    """Word boundaries in text[a:b]: the segmenter's, or where the script changes."""
    if words is not None:
        return words(a, b)
    return {i for i in range(a + 1, b)
            if bool(CJK_CHAR.match(text[i - 1])) != bool(CJK_CHAR.match(text[i]))}
