"""Word boundaries: is a keyword occurrence a word of its sentence?

Rule keywords join jieba's dictionary (Rust `rjieba`, the same dictionary and algorithm) and the
page is cut without the HMM (which only guesses unknown words). An occurrence is a word when
the cut has a boundary at both of its ends.

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
from bisect import bisect_right
from itertools import accumulate
from typing import Iterable

KEYWORD_FREQ = 80

# jieba cuts each run of these characters on its own (its re_han_default, as jieba-rs has it),
# so cutting only the runs that hold a candidate gives the same words as cutting the whole page.
_BLOCK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef"
                    r"a-zA-Z0-9+#&._%\-]+")


class WordSegmenter:
    """A jieba segmenter that knows the rules' keywords."""

    def __init__(self, terms: Iterable[str], keyword_freq: int = KEYWORD_FREQ):
        import rjieba  # loads jieba's dictionary (~0.2 s): only when a matcher is built

        self._jieba = rjieba.Jieba()
        for term in terms:
            if len(term) > 1:
                freq = max(self._jieba.suggest_freq(term), keyword_freq)
                self._jieba.add_word(term, freq, None)

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


def latin_edges_ok(text: str, start: int, end: int) -> bool:
    """A Latin letter or digit run is one word: `ai` is not a word inside `fair`."""
    return not (start > 0 and _is_alnum(text[start - 1]) and _is_alnum(text[start])) and \
        not (end < len(text) and _is_alnum(text[end]) and _is_alnum(text[end - 1]))


def _is_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()
