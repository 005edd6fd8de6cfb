"""Word edges: does a keyword occurrence keep the words of its sentence whole?

Rule keywords join jieba's dictionary (Rust `rjieba`, the same dictionary and algorithm) and the
page is cut without the HMM (which only guesses unknown words). An occurrence counts unless it
straddles a word boundary: a cut falls strictly inside it while one of its ends lies inside a
word (see `is_whole`). Words of scripts written with spaces end where their letters end.

A keyword enters the dictionary with at least KEYWORD_FREQ — the weight of an established word
(about the 80th percentile of two-character words in jieba's dictionary). jieba's own
`suggest_freq` is the bare minimum that keeps a term whole and loses to every neighbour
(专业镇 in 专业镇内, 专业镇上); a huge weight wins against everything (标准地 in 按标准地区分).
With 80 a keyword beats weak neighbours (镇内 17, 镇上 685 next to the common 上) and yields to
strong ones (地方 52,642, 地区 39,590, 服务 13,036, 地图 3,086). Measured on the seed pages and
the tables in tests/test_words.py: any value from 40 to 150 gives the same answers.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from functools import lru_cache
from itertools import accumulate
from typing import Iterable

KEYWORD_FREQ = 80

# jieba cuts each run of these characters on its own (its re_han_default, as jieba-rs has it),
# so cutting only the runs that hold a candidate gives the same words as cutting the whole page.
_BLOCK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef"
                    r"a-zA-Z0-9+#&._%\-]+")
# Letters of scripts written without spaces between words: kana, Han, Thai, Lao, Myanmar, Khmer,
# Tibetan (Hangul is written with spaces).
_UNSPACED = re.compile(r"[\u0e00-\u0eff\u0f00-\u0fff\u1000-\u109f\u1780-\u17ff\u2e80-\u2fdf"
                       r"\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
                       r"\U00020000-\U0003134f]")


class WordSegmenter:
    """A jieba segmenter that knows the rules' keywords."""

    def __init__(self, terms: Iterable[str], keyword_freq: int = KEYWORD_FREQ):
        self._jieba = _jieba(tuple(sorted({term for term in terms if len(term) > 1})),
                             keyword_freq)

    def cut(self, text: str) -> list[str]:
        """The words of `text` (no HMM: unknown words stay single characters)."""
        return self._jieba.cut(text, False)

    def boundaries(self, text: str) -> set[int]:
        """Offsets in `text` where one word ends and the next begins (0 and len included)."""
        return set(accumulate(map(len, self.cut(text)), initial=0))

    def boundaries_near(self, text: str, offsets: Iterable[int]) -> set[int]:
        """The same boundaries as `boundaries`, worked out only in the blocks holding `offsets`.
        The blocks go to the segmenter in one call, joined by line breaks it cuts on anyway."""
        blocks = [m.span() for m in _BLOCK.finditer(text)]
        starts = [a for a, _ in blocks]
        wanted: set[int] = set()
        for offset in offsets:
            i = bisect_right(starts, offset) - 1
            if i >= 0 and offset < blocks[i][1]:
                wanted.add(i)
        if not wanted:
            return set()
        chosen = [blocks[i] for i in sorted(wanted)]
        begins = iter(a for a, _ in chosen)
        pos = next(begins)
        cuts = {pos}
        for word in self.cut("\n".join(text[a:b] for a, b in chosen)):
            if word == "\n":
                pos = next(begins)
            else:
                pos += len(word)
            cuts.add(pos)
        return cuts


@lru_cache(maxsize=2)
def _jieba(terms: tuple[str, ...], keyword_freq: int):
    """jieba's dictionary with `terms` added. Loading it takes ~0.1 s and ~25 MB, and each
    matcher needs one: kept for the last two sets of keywords, so a matcher built again for
    the same keywords (a rule edit that changed only names or excludes, the admin's previews,
    a re-read that found nothing new) does not load it again. Never changed once made: only
    `cut` is called on it, from any thread."""
    import rjieba  # imported on first use, not at import time

    jieba = rjieba.Jieba()
    for term in terms:
        jieba.add_word(term, max(jieba.suggest_freq(term), keyword_freq), None)
    return jieba


def is_whole(key: str, start: int, end: int, cuts: set[int]) -> bool:
    """Does the occurrence key[start:end] keep the words of its sentence whole?

    It does unless it straddles a word boundary: it is refused only when a cut of the
    segmentation (`cuts`, from `boundaries_near`) falls strictly inside it while one of its
    ends lies inside a word. So a word, a run of words and part of one word all count (光伏 in
    光伏板, 政府 in 乡政府), and 标准地 in 国家标准|地方标准 or 和服 in 和|服务 do not.
    Scripts written with spaces (Latin, Cyrillic, Greek, …) are cut by Unicode letter classes
    instead: a run of letters, digits and marks is one word (`ai` is not a word in `fair`,
    `café` is one in `le café.`)."""
    if not (_edge_ok(key, start) and _edge_ok(key, end)):
        return False
    if cuts.isdisjoint(range(start + 1, end)):
        return True  # no cut inside: the common case, without a character-by-character look
    inside = any(c in cuts and _han(key[c - 1]) and _han(key[c]) for c in range(start + 1, end))
    return not inside or (_at_cut(key, start, cuts) and _at_cut(key, end, cuts))


def _edge_ok(key: str, at: int) -> bool:
    """No word of a spaced script runs across offset `at`."""
    return not (0 < at < len(key) and _spaced_letter(key[at - 1]) and _spaced_letter(key[at]))


def _at_cut(key: str, at: int, cuts: set[int]) -> bool:
    """Is there a word boundary at `at` (a cut, a script change, punctuation, an end)?"""
    return at in cuts or not (0 < at < len(key) and _han(key[at - 1]) and _han(key[at]))


def _han(ch: str) -> bool:
    """A character jieba segments (Han ideographs, and ASCII letters and digits next to them)."""
    return _BLOCK.match(ch) is not None


def _spaced_letter(ch: str) -> bool:
    """A letter, digit or mark of a script that separates words by spaces (not CJK, not the
    scripts written without spaces such as Thai)."""
    if ch.isascii():
        return ch.isalnum()
    if "\u4e00" <= ch <= "\u9fff":
        return False  # a Han ideograph, the common case: no category lookup
    if unicodedata.category(ch)[0] not in "LMN" or _UNSPACED.match(ch):
        return False
    return True
