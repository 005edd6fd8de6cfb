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
from typing import Any, NamedTuple

import re2

from tracker.text.normalize import simplified

MAX_PATTERN = 500  # characters
_ANY_BYTE = re.compile(r"(?<!\\)(?:\\\\)*\\C")  # RE2's \C: one byte, half a character
_IDEOGRAPHS = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+")

# Why a pattern cannot be used, as codes with the names of their fields (`detail`: RE2's own
# English, which the pages may match).
CODES: dict[str, tuple[str, ...]] = {
    "regex_empty": (),
    "regex_too_long": ("limit",),
    "regex_any_byte": ("pattern",),
    "regex_invalid": ("pattern", "detail"),
    "regex_matches_empty": ("pattern",),
}


class PatternProblem(NamedTuple):
    """Why a pattern cannot be a rule's regex: `code` (one of CODES) with `fields`, and
    `message` in English (what str() gives)."""

    code: str
    message: str
    fields: dict[str, Any]

    def __str__(self) -> str:
        return self.message


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


def pattern_problem(pattern: str) -> PatternProblem | None:
    """Why `pattern` cannot be a rule's regex (its code, fields and English); None when it can."""
    if not pattern.strip():
        return PatternProblem("regex_empty", "the regex is empty", {})
    if len(pattern) > MAX_PATTERN:
        return PatternProblem("regex_too_long", f"the regex is longer than {MAX_PATTERN} "
                              "characters", {"limit": MAX_PATTERN})
    if _ANY_BYTE.search(pattern):
        return PatternProblem("regex_any_byte", f"the regex /{pattern}/ uses \\C (one byte), "
                              "which can split a Chinese character", {"pattern": pattern})
    try:
        compiled = compile_pattern(pattern)
    except re2.error as err:
        reason = err.args[0] if err.args else err
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        return PatternProblem("regex_invalid", f"RE2 cannot compile the regex /{pattern}/: "
                              f"{reason}", {"pattern": pattern, "detail": str(reason)})
    if compiled.search("") is not None:
        return PatternProblem("regex_matches_empty", f"the regex /{pattern}/ matches empty text "
                              "(it would fire everywhere)", {"pattern": pattern})
    return None


@lru_cache(maxsize=4096)
def compile_pattern(pattern: str):
    """The compiled RE2 pattern (cached: a rule set names each pattern once per load)."""
    return re2.compile(fold_pattern(pattern), options())
