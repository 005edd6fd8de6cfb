"""What a rule is, once read and checked (see the package docstring for the language)."""

from __future__ import annotations

from dataclasses import dataclass

FIELDS = ("title", "body")
MATCH_MODES = ("word", "substring")


@dataclass(frozen=True)
class Near:
    """`term` counts only with one of `with_` at most `within` characters away."""

    terms: tuple[str, ...]
    with_: tuple[str, ...]
    within: int


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    keywords: tuple[str, ...]
    description: str = ""
    all: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    near: tuple[Near, ...] = ()
    fields: tuple[str, ...] = FIELDS
    sources: tuple[str, ...] = ()  # empty: every source
    match: str = "word"
    file: str | None = None
    line: int | None = None

    def terms(self) -> set[str]:
        """Every term the rule looks for, in any role."""
        found = set(self.keywords) | set(self.all) | set(self.exclude)
        for near in self.near:
            found.update(near.terms)
            found.update(near.with_)
        return found
