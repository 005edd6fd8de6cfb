"""Normalisation for matching: the text a keyword is looked for in, mapped back to the page.

A page's text is kept as people read it. Matching runs over a *key* made from it:

1. NFKC and lower case, character by character (full-width ＡＢＣ１２３ → abc123, ，→ ,);
   invisible format characters (zero-width space, soft hyphen) are dropped;
2. whitespace next to a CJK character is dropped — a line break, a blank line or spaces
   between two Chinese characters do not end a word (乡村振\\n兴 → 乡村振兴, 2024 年 → 2024年);
   other runs of whitespace become one space;
3. traditional → simplified with OpenCC's native `t2s` (專業鎮 → 专业镇).

`key_offsets[i]` is the index in the page text of the character `key[i]` came from, so a hit
found in the key is shown to people from the page's own characters (see `snippet`).
"""

from __future__ import annotations

import re
import unicodedata
from array import array
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

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
_WHITESPACE_BY_CJK = re.compile(f"(?<=[{_CJK}])\\s+|\\s+(?=[{_CJK}])")
# Sentence ends where a snippet may start or stop.
_SENTENCE_END = re.compile(r"[。！？；!?;]")


@dataclass(frozen=True)
class Normalized:
    """A match key and, for each of its characters, where it came from in the page text."""

    key: str
    key_offsets: array

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """The page-text span of the key span [start, end)."""
        return self.key_offsets[start], self.key_offsets[end - 1] + 1


class _FoldTable(dict):
    """str.translate table: NFKC + lower case of a character, worked out once per character.
    `odd` holds the characters seen so far that fold to more or fewer than one (… → ...)."""

    def __init__(self) -> None:
        super().__init__()
        self.odd: set[str] = set()

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        # Format characters (zero-width space and joiners, soft hyphen, BOM) are invisible and
        # sit inside words: they are dropped like the tags around them.
        folded = "" if unicodedata.category(ch) == "Cf" else unicodedata.normalize("NFKC", ch).lower()
        self[code] = folded
        if len(folded) != 1:
            self.odd.add(chr(code))
        return folded


# A memo, not state: the fold of a character never changes. Shared so each character is
# normalised once per process instead of once per page.
_FOLD = _FoldTable()


@lru_cache(maxsize=1)
def _t2s():
    import opencc  # native OpenCC; imported on first use, not at import time

    return opencc.OpenCC("t2s")


def _fold_chars(text: str) -> tuple[str, array]:
    """Step 1, with offsets. Characters that fold to more or fewer than one (… → ...) are rare:
    only they are walked one by one."""
    folded = text.translate(_FOLD)  # also fills _FOLD.odd with this text's odd characters
    odd = "".join(_FOLD.odd.intersection(text))
    if not odd:
        return folded, array("l", range(len(text)))
    offsets = array("l")
    pos = 0
    for m in re.finditer(f"[{re.escape(odd)}]", text):
        i = m.start()
        offsets.extend(range(pos, i))
        offsets.extend([i] * len(_FOLD[ord(text[i])]))
        pos = i + 1
    offsets.extend(range(pos, len(text)))
    return folded, offsets


def _join_words(text: str, offsets: array) -> tuple[str, array]:
    """Step 2: drop whitespace touching a CJK character, fold other runs into one space."""
    pieces: list[str] = []
    out = array("l")
    pos = 0
    for m in _WHITESPACE.finditer(text):
        a, b = m.span()
        pieces.append(text[pos:a])
        out.extend(offsets[pos:a])
        before = text[a - 1] if a > 0 else ""
        after = text[b] if b < len(text) else ""
        keep = before and after and not CJK_CHAR.match(before) and not CJK_CHAR.match(after)
        if keep:
            pieces.append(" ")
            out.append(offsets[a])
        pos = b
    pieces.append(text[pos:])
    out.extend(offsets[pos:])
    return "".join(pieces), out


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


def normalize(text: str) -> Normalized:
    """The match key of `text` with its offset map (see the module docstring)."""
    folded, offsets = _fold_chars(text)
    joined, offsets = _join_words(folded, offsets)
    return Normalized(_simplify(joined), offsets)


def normalize_term(term: str) -> str:
    """A rule's keyword folded the same way as page text, so the two compare equal."""
    return normalize(term.strip()).key


def readable(text: str) -> str:
    """Page text as one readable line: the key's whitespace rule, the page's own characters."""
    return _WHITESPACE.sub(" ", _WHITESPACE_BY_CJK.sub("", text)).strip()


class Snippet(NamedTuple):
    """A short readable passage around a hit: `before`, the hit as printed, `after`."""

    before: str
    hit: str
    after: str

    def marked(self, left: str = "【", right: str = "】") -> str:
        return f"{self.before}{left}{self.hit}{right}{self.after}"


def snippet(text: str, start: int, end: int, *, lo: int = 0, hi: int | None = None,
            width: int = 40) -> Snippet:
    """The passage around text[start:end] within [lo, hi): its sentence, at most `width` more
    characters on each side."""
    hi = len(text) if hi is None else hi
    a = max(lo, start - width)
    b = min(hi, end + width)
    ends = [m.end() for m in _SENTENCE_END.finditer(text, a, start)]
    if ends:
        a = ends[-1]
    stop = _SENTENCE_END.search(text, end, b)
    if stop:
        b = stop.end()
    if _WHITESPACE.search(text, a, b):
        # \x01 and \x02 (neither space nor CJK) mark the hit through the join.
        joined = readable(f"{text[a:start]}\x01{text[start:end]}\x02{text[end:b]}")
        before, rest = joined.split("\x01", 1)
        hit, after = rest.split("\x02", 1)
        before, hit, after = before.rstrip(), hit.strip(), after.lstrip()
    else:  # most snippets: nothing to join
        before, hit, after = text[a:start], text[start:end], text[end:b]
    prefix = "…" if a > lo and not _SENTENCE_END.match(text[a - 1]) else ""
    suffix = "…" if b < hi and not _SENTENCE_END.match(text[b - 1]) else ""
    return Snippet(prefix + before, hit, after + suffix)
