"""A search query as people type it: several words, found together.

`专业镇 标准地`, `专业镇、标准地`, `专业镇,贷款` (or ，；; and the ideographic space) are two words,
and an article is found when it holds both, anywhere. A quoted phrase ("…", “…”, 「…」, 『…』)
stays one phrase, its words side by side. Each word is compared as keywords are (simplified,
width and case folded, whitespace between Chinese characters dropped), and kept once.
"""

from __future__ import annotations

import re

from tracker.text.normalize import normalize_term

SEPARATORS = re.compile(r"[\s、,，;；]+")
QUOTES = {'"': '"', "“": "”", "「": "」", "『": "』", "＂": "＂"}
MAX_WORDS = 8  # words of one query searched; the rest are left out (and said so)


def query_words(query: str) -> list[str]:
    """The words and quoted phrases of `query`, in order, each once (as typed, trimmed)."""
    words: list[str] = []
    rest = query or ""
    while rest:
        at = min((i for i in (rest.find(q) for q in QUOTES) if i >= 0), default=-1)
        head, quoted = (rest, None) if at < 0 else (rest[:at], rest[at])
        words += [w for w in SEPARATORS.split(head) if w]
        if quoted is None:
            break
        close = rest.find(QUOTES[quoted], at + 1)
        phrase = rest[at + 1:close if close >= 0 else len(rest)].strip()
        if phrase:
            words.append(phrase)
        rest = rest[close + 1:] if close >= 0 else ""
    kept: dict[str, str] = {}
    for word in words:
        kept.setdefault(normalize_term(word), word)
    return [word for key, word in kept.items() if key]


def word_keys(words: list[str]) -> list[str]:
    """Each word's match key (as the search index holds articles' text), each once."""
    return list(dict.fromkeys(k for k in (normalize_term(w) for w in words) if k))
