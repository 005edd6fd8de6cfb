"""`regex:` terms, compiled with RE2 (google-re2): linear time in the text, whatever the pattern,
so a hostile or careless pattern such as (a+)+$ cannot hang the worker.

A pattern runs over an article's match key (see tracker.text.normalize): lower case, full-width
folded, traditional → simplified, line breaks and spaces next to Chinese characters dropped.
So the pattern is folded the same way where that cannot change its meaning: Chinese characters
are simplified, non-ASCII letters and digits NFKC-folded (ＡＩ → AI), and it is matched without
regard to case. ASCII is never touched (lower-casing \\D would make it \\d).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import re2

from tracker.text.normalize import simplified

MAX_PATTERN = 500  # characters
_ANY_BYTE = re.compile(r"(?<!\\)(?:\\\\)*\\C")  # RE2's \C: one byte, half a character
_IDEOGRAPHS = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+")


def options() -> re2.Options:
    """RE2 options for rule patterns: case-insensitive, errors returned (not logged to stderr)."""
    opts = re2.Options()
    opts.case_sensitive = False
    opts.log_errors = False
    return opts


def fold_pattern(pattern: str) -> str:
    """The pattern as the match key spells things (see the module docstring)."""
    out = []
    for ch in _IDEOGRAPHS.sub(lambda m: simplified(m.group()), pattern.strip()):
        if not ch.isascii() and unicodedata.category(ch)[0] in "LN":
            folded = unicodedata.normalize("NFKC", ch)
            ch = folded if len(folded) == 1 else ch
        out.append(ch)
    return "".join(out)


def pattern_problem(pattern: str) -> str | None:
    """Why `pattern` cannot be a rule's regex, in a sentence; None when it can."""
    if not pattern.strip():
        return "the regex is empty"
    if len(pattern) > MAX_PATTERN:
        return f"the regex is longer than {MAX_PATTERN} characters"
    if _ANY_BYTE.search(pattern):
        return f"the regex /{pattern}/ uses \\C (one byte), which can split a Chinese character"
    try:
        compiled = compile_pattern(pattern)
    except re2.error as err:
        reason = err.args[0] if err.args else err
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        return f"RE2 cannot compile the regex /{pattern}/: {reason}"
    if compiled.search("") is not None:
        return f"the regex /{pattern}/ matches empty text (it would fire everywhere)"
    return None


@lru_cache(maxsize=4096)
def compile_pattern(pattern: str):
    """The compiled RE2 pattern (cached: a rule set names each pattern once per load)."""
    return re2.compile(fold_pattern(pattern), options())
