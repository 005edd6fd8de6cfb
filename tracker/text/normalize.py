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
found in the key is shown to people from the page's own characters (see `tracker.text.snippets`).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

CJK_RANGES = _CJK = (
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
_WHITESPACE_BY_CJK = re.compile(f"(?<=[{_CJK}])\\s+|\\s+(?=[{_CJK}])")


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


_ASTRAL = re.compile("[\U00010000-\U0010ffff]")  # quicker than max(text) on a page
_CJK_PUNCTUATION = re.compile("[\u3000-\u303f\ufe30-\ufe4f\uff00-\uffef]")


@lru_cache(maxsize=1)
def _needs_more_than_lower() -> re.Pattern:
    """The BMP characters whose fold is not plain lower-casing, as one character class: a page
    without them is folded by str.lower() alone. Read from tracker/text/fold_chars.py when it
    was made from this Python's Unicode data (working it out takes ~0.2 s at every start of a
    command); worked out here otherwise."""
    from tracker.text import fold_chars

    if fold_chars.UNIDATA_VERSION == unicodedata.unidata_version:
        return re.compile(fold_chars.CLASS)
    return re.compile(needs_more_than_lower_class())


def needs_more_than_lower_class() -> str:
    """The class `_needs_more_than_lower` compiles, worked out from the Unicode data: ranges
    of \\uXXXX escapes between brackets."""
    odd = [c for c in range(0x10000)
           if not 0xD800 <= c < 0xE000 and _FOLD[c] != chr(c).lower() or len(chr(c).lower()) != 1
           or chr(c) in "Σς"]  # str.lower() reads Σ by its place in the word; _FOLD cannot
    ranges: list[list[int]] = []
    for c in odd:
        if ranges and ranges[-1][1] == c - 1:
            ranges[-1][1] = c
        else:
            ranges.append([c, c])
    return "[" + "".join(f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}"
                         for a, b in ranges) + "]"


def fold_chars_module() -> str:
    """The text of tracker/text/fold_chars.py for this Python's Unicode data."""
    return (f'''"""The characters whose fold is more than lower-casing (tracker.text.normalize), for
Unicode {unicodedata.unidata_version}. Made by
`python -m tracker.text.normalize > tracker/text/fold_chars.py`; a test checks it against the
Unicode data. Do not edit."""

UNIDATA_VERSION = "{unicodedata.unidata_version}"
CLASS = (
''' + "".join(f'    r"{piece}"\n' for piece in _pieces(needs_more_than_lower_class(), 80)) + ")\n")


def _pieces(text: str, width: int) -> list[str]:
    """`text` cut into pieces of at most `width` characters, never inside a \\uXXXX escape."""
    out, piece = [], ""
    for part in re.findall(r"\\u[0-9a-f]{4}|.", text):
        if len(piece) + len(part) > width:
            out.append(piece)
            piece = ""
        piece += part
    return out + [piece]


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
    if text.isascii():
        return text.lower(), (starts, sources)
    if not _ASTRAL.search(text):
        # Lower case is the fold of every character but the few `_needs_more_than_lower`
        # finds (full-width digits, say): those one by one, the stretches between at C speed.
        pieces, pos, seen = [], 0, set()
        for m in _needs_more_than_lower().finditer(text):
            pieces += [text[pos:m.start()].lower(), _FOLD[ord(m[0])]]  # fills _FOLD.odd
            seen.add(m[0])
            pos = m.end()
        if not pieces:
            return text.lower(), (starts, sources)  # most pages
        pieces.append(text[pos:].lower())
        folded = "".join(pieces)
        odd = "".join(_FOLD.odd.intersection(seen))  # the others fold one for one
    else:
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


def normalize_terms(terms: list[str]) -> list[str]:
    """`normalize_term` of each term, worked out for all of them at once: one OpenCC call and one
    fold over the terms joined by line breaks (no conversion phrase or fold crosses one), then
    each term on its own only where it holds whitespace or its conversion changed its length."""
    stripped = [t.strip() for t in terms]
    joined = "\n".join(stripped)
    if "\n" in "".join(stripped):
        return [normalize_term(t) for t in terms]
    converted = _t2s().convert(joined).split("\n")
    folded = _fold_chars("\n".join(converted))[0].split("\n")
    if len(converted) != len(stripped) or len(folded) != len(stripped):
        return [normalize_term(t) for t in terms]
    return [normalize_term(t) if len(c) != len(s) or _WHITESPACE.search(f) else f
            for t, s, c, f in zip(terms, stripped, converted, folded)]


def readable(text: str) -> str:
    """Page text as one readable line: the key's whitespace rule, the page's own characters."""
    return _WHITESPACE.sub(" ", _WHITESPACE_BY_CJK.sub("", text)).strip()


if __name__ == "__main__":
    print(fold_chars_module(), end="")
