"""Normalisation for matching: the text a keyword is looked for in, mapped back to the page.

A page's text is kept as people read it. Matching runs over a *key* made from it:

1. traditional → simplified with OpenCC's native `t2s` (專業鎮 → 专业镇), one character for
   one character, so the simplified text has the page's offsets (the article splitter reads its
   cues from it too: a page is converted once, see `Document.simplified_text`);
2. NFKC and lower case, character by character (full-width ＡＢＣ１２３ → abc123; a
   compatibility ideograph folds to its simplified form); invisible format characters (zero-width
   space, soft hyphen) are dropped; punctuation stays as printed where NFKC would spell it out or
   it is CJK punctuation (… ㈱ ，：（）);
3. whitespace next to a CJK character is dropped — a line break, a blank line or spaces
   between two Chinese characters do not end a word (乡村振\\n兴 → 乡村振兴, 2024 年 → 2024年);
   other runs of whitespace become one space.

`Normalized.offset(i)` is the index in the page text of the character `key[i]` came from, so a hit
found in the key is shown to people from the page's own characters (see `snippet`).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, NamedTuple, Sequence

_CJK = (
    "\u2e80-\u2fdf"  # radicals
    "\u3000-\u303f"  # CJK punctuation 、。《》「」【】
    "\u3040-\u30ff"  # kana
    "\u3100-\u312f\u31a0-\u31bf"  # bopomofo
    "\u3400-\u4dbf\u4e00-\u9fff"  # ideographs
    "\uf900-\ufaff"  # compatibility ideographs
    "\ufe30-\ufe4f"  # CJK compatibility forms
    "\uff00-\uffef"  # full-width forms
    "\u2018-\u201f\u2026"  # curly quotes and the ellipsis, as Chinese text uses them
    "\U00020000-\U0003134f"
)
CJK_CHAR = re.compile(f"[{_CJK}]")
_WHITESPACE = re.compile(r"\s+")
# Whitespace between a hit's mark (\x01-\x04, see `snippet`) and a CJK character.
_BY_MARK = re.compile(f"(?<=[{_CJK}])\\s+(?=[\x01-\x04])|(?<=[\x01-\x04])\\s+(?=[{_CJK}])")
_WHITESPACE_BY_CJK = re.compile(f"(?<=[{_CJK}])\\s+|\\s+(?=[{_CJK}])")
# Sentence ends where a snippet may start or stop.
_SENTENCE_END = re.compile(r"[。！？；!?;]")


@dataclass(frozen=True)
class Normalized:
    """A match key and where each of its characters came from in the page text, kept as runs:
    from key offset `run_starts[i]` on, characters come one for one from page offset
    `run_sources[i]` on. A run ends where whitespace was dropped or a character folded to more
    or fewer than one: a page needs about one run per line, not an entry per character."""

    key: str
    run_starts: list[int]
    run_sources: list[int]

    def offset(self, k: int) -> int:
        """The page offset of key character `k`."""
        i = bisect_right(self.run_starts, k) - 1
        return self.run_sources[i] + k - self.run_starts[i]

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """The page-text span of the key span [start, end)."""
        return self.offset(start), self.offset(end - 1) + 1


class _FoldTable(dict):
    """str.translate table: NFKC + lower case of a character, worked out once per character.
    `odd` holds the characters seen so far that fold to more or fewer than one (… → ...)."""

    def __init__(self) -> None:
        super().__init__()
        self.odd: set[str] = set()

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        category = unicodedata.category(ch)
        # Format characters (zero-width space and joiners, soft hyphen, BOM) are invisible and
        # sit inside words: they are dropped like the tags around them.
        folded = "" if category == "Cf" else unicodedata.normalize("NFKC", ch).lower()
        if category[0] in "PS" and (len(folded) > 1 or _CJK_PUNCTUATION.match(ch)):
            folded = ch  # … → ... and ，→ , help no match: punctuation stays as printed
        elif folded != ch and len(folded) == 1 and CJK_CHAR.match(folded):
            folded = _simplify(folded)  # 﨑 → 崎: conversion ran before folding
        self[code] = folded
        if len(folded) != 1:
            self.odd.add(chr(code))
        return folded


_CJK_PUNCTUATION = re.compile("[\u3000-\u303f\ufe30-\ufe4f\uff00-\uffef]")


@lru_cache(maxsize=1)
def _needs_more_than_lower() -> re.Pattern:
    """The BMP characters whose fold is not plain lower-casing, as one character class (worked
    out once, ~0.1 s): a page without them is folded by str.lower() alone."""
    odd = [chr(c) for c in range(0x10000)
           if not 0xD800 <= c < 0xE000 and _FOLD[c] != chr(c).lower() or len(chr(c).lower()) != 1
           or chr(c) in "Σς"]  # str.lower() reads Σ by its place in the word; _FOLD cannot
    return re.compile("[" + "".join(re.escape(c) for c in odd) + "]")


# A memo, not state: the fold of a character never changes. Shared so each character is
# normalised once per process instead of once per page.
_FOLD = _FoldTable()


@lru_cache(maxsize=1)
def _t2s():
    import opencc  # native OpenCC; imported on first use, not at import time

    return opencc.OpenCC("t2s")


Runs = tuple[list[int], list[int]]  # (starts, sources): see Normalized


def _fold_chars(text: str) -> tuple[str, Runs]:
    """Step 1, with its runs. Characters that fold to more or fewer than one (… → ...) are
    rare: only they start new runs."""
    starts, sources = [0], [0]
    if text.isascii() or (max(text) < "\U00010000" and not _needs_more_than_lower().search(text)):
        return text.lower(), (starts, sources)  # most pages: C speed
    folded = text.translate(_FOLD)  # also fills _FOLD.odd with this text's odd characters
    odd = "".join(_FOLD.odd.intersection(text))
    if not odd:
        return folded, (starts, sources)
    at = 0  # position in `folded` of text[i]
    last = 0  # text position of the previous odd character's end
    for m in re.finditer(f"[{re.escape(odd)}]", text):
        i = m.start()
        at += i - last
        for _ in _FOLD[ord(text[i])]:  # each character it became comes from text[i]
            starts.append(at)
            sources.append(i)
            at += 1
        starts.append(at)
        sources.append(i + 1)
        last = i + 1
    return folded, (starts, sources)


def _join_words(text: str) -> tuple[str, Runs]:
    """Step 2: drop whitespace touching a CJK character, fold other runs into one space."""
    pieces: list[str] = []
    starts, sources = [0], [0]
    pos = out = 0
    for m in _WHITESPACE.finditer(text):
        a, b = m.span()
        pieces.append(text[pos:a])
        out += a - pos
        before = text[a - 1] if a > 0 else ""
        after = text[b] if b < len(text) else ""
        if before and after and not CJK_CHAR.match(before) and not CJK_CHAR.match(after):
            pieces.append(" ")  # the space stands for the run's first character
            starts.append(out)
            sources.append(a)
            out += 1
        starts.append(out)
        sources.append(b)
        pos = b
    pieces.append(text[pos:])
    return "".join(pieces), (starts, sources)


def _compose(outer: Runs, inner: Runs, length: int) -> Runs:
    """Runs for key → page from runs for key → folded (`outer`) and folded → page (`inner`)."""
    if inner == ([0], [0]):
        return outer
    starts: list[int] = []
    sources: list[int] = []
    bounds = outer[0][1:] + [length]
    for k, f, end in zip(outer[0], outer[1], bounds):
        i = bisect_right(inner[0], f) - 1
        starts.append(k)
        sources.append(inner[1][i] + f - inner[0][i])
        for j in range(i + 1, len(inner[0])):
            if inner[0][j] >= f + end - k:
                break
            starts.append(k + inner[0][j] - f)
            sources.append(inner[1][j])
    return starts, sources


def simplified(text: str) -> str:
    """Traditional → simplified, one character for one character (offsets stay valid)."""
    return _simplify(text)


def _simplify(text: str) -> str:
    """Step 3: traditional → simplified, keeping one character for one character."""
    converted = _t2s().convert(text)
    if len(converted) == len(text):
        return converted
    # A phrase rule changed the length: convert character by character instead.
    convert = _t2s().convert
    return "".join(c if len(c := convert(ch)) == 1 else ch for ch in text)


def normalize(text: str, simplified_text: str | None = None) -> Normalized:
    """The match key of `text` with its offset map (see the module docstring).
    `simplified_text` is `simplified(text)` when the caller has it already."""
    folded, fold_runs = _fold_chars(_simplify(text) if simplified_text is None else simplified_text)
    joined, join_runs = _join_words(folded)
    return Normalized(joined, *_compose(join_runs, fold_runs, len(joined)))


@lru_cache(maxsize=1 << 18)
def normalize_term(term: str) -> str:
    """A rule's keyword folded the same way as page text, so the two compare equal. Cached:
    loading and compiling rules fold each keyword three times (100,000 rules: seconds)."""
    return _join_words(_fold_chars(_simplify(term.strip()))[0])[0]  # normalize(…).key, no runs


def readable(text: str) -> str:
    """Page text as one readable line: the key's whitespace rule, the page's own characters."""
    return _WHITESPACE.sub(" ", _WHITESPACE_BY_CJK.sub("", text)).strip()


class Snippet(NamedTuple):
    """A short readable passage around a hit: `before`, the hit as printed, `after`; `others`
    are the spans of the other hits in the same passage, in `before + hit + after`."""

    before: str
    hit: str
    after: str
    others: tuple[tuple[int, int], ...] = ()

    def marked(self, left: str = "【", right: str = "】") -> str:
        """The passage with every hit in it marked (so a sentence with three hits reads the same
        for each of them, and an alert shows it once)."""
        text = f"{self.before}{self.hit}{self.after}"
        spans = sorted({*self.others, (len(self.before), len(self.before) + len(self.hit))})
        out, pos = [], 0
        for a, b in spans:
            if a < pos:
                continue  # overlapping hits: the first one marked
            out += [text[pos:a], left, text[a:b], right]
            pos = b
        out.append(text[pos:])
        return "".join(out)


Cutter = Callable[[int, int], set[int]]  # word boundaries (page offsets) within [a, b)
# Where a passage may be cut inside a sentence: after clause punctuation or a space.
_CLAUSE = re.compile(f"[，、：,:“”‘’「」『』（）()《》]|(?<![{_CJK}])\\s+(?![{_CJK}])")


def snippet(text: str, start: int, end: int, *, lo: int = 0, hi: int | None = None,
            width: int = 40, others: Sequence[tuple[int, int]] = (),
            words: Cutter | None = None) -> Snippet:
    """The passage around text[start:end] within [lo, hi) (its article's field): its sentence,
    at most `width` more characters on each side of the hits in that sentence (`others` are all
    hits of the same rule; the ones in this sentence are marked too, and every hit of a sentence
    gets the same passage). A cut inside a sentence falls after clause punctuation, else at a
    word boundary (`words`, a segmenter), never inside a word where one is known."""
    hi = len(text) if hi is None else hi
    reach_a = max(lo, start - 4 * width)
    ends = [m.end() for m in _SENTENCE_END.finditer(text, reach_a, start)]
    sentence_a = ends[-1] if ends else reach_a
    stop = _SENTENCE_END.search(text, end, min(hi, end + 4 * width))
    sentence_b = stop.end() if stop else min(hi, end + 4 * width)
    near = [(a, b) for a, b in others if sentence_a <= a and b <= sentence_b]
    first = min([start, *(a for a, _ in near)])
    last = max([end, *(b for _, b in near)])
    a = max(sentence_a, first - width)
    b = min(sentence_b, last + width)
    if a > sentence_a:
        a = _cut_after(text, a, first, words)
    if b < sentence_b:
        b = _cut_before(text, last, b, words)
    spans = sorted({(x, y) for x, y in near if (x, y) != (start, end) and a <= x and y <= b})
    marks = [(start, "\x01"), (end, "\x02")] + [(x, "\x03") for x, _ in spans] + \
        [(y, "\x04") for _, y in spans]
    pieces, pos = [], a
    for at, m in sorted(marks, key=lambda t: (t[0], t[1] in "\x02\x04")):
        pieces += [text[pos:at], m]
        pos = at
    pieces.append(text[pos:b])
    # \x01-\x04 (neither space nor CJK) mark the hits through the join.
    joined = "".join(pieces)
    if _WHITESPACE.search(joined):
        joined = readable(_BY_MARK.sub("", joined))
    before, rest = joined.split("\x01", 1)
    hit, after = rest.split("\x02", 1)
    before, hit, after = before.rstrip(), hit.strip(), after.lstrip()
    prefix = "…" if a > lo and not _SENTENCE_END.match(text[a - 1]) else ""
    suffix = "…" if b < hi and not _SENTENCE_END.match(text[b - 1]) else ""
    return _assemble(prefix + before, hit, after + suffix)


def _assemble(before: str, hit: str, after: str) -> Snippet:
    """A Snippet from pieces that still hold the other hits' marks (\x03 … \x04)."""
    if not any("\x03" in p or "\x04" in p for p in (before, hit, after)):
        return Snippet(before, hit, after)  # no other hit in the passage: most snippets
    out: list[str] = []
    others: list[tuple[int, int]] = []
    opened = -1
    parts: list[str] = []
    for piece in (before, hit, after):
        clean = []
        for ch in piece:
            if ch == "\x03":
                opened = len(out) + len(clean)
            elif ch == "\x04":
                if opened >= 0:
                    others.append((opened, len(out) + len(clean)))
                opened = -1
            else:
                clean.append(ch)
        parts.append("".join(clean))
        out.extend(clean)
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
