"""What a rule is, once read and checked (see the package docstring for the language)."""

from __future__ import annotations

from dataclasses import dataclass

from tracker.yamlcheck import Problem

FIELDS = ("title", "body")
MATCH_MODES = ("word", "substring")


@dataclass(frozen=True)
class Near:
    """`term` counts only with one of `with_` at most `within` characters away."""

    terms: tuple[str, ...]
    with_: tuple[str, ...]
    within: int


@dataclass(frozen=True)
class GlobalExclude:
    """Terms that stop every rule (`rules/_global.yaml`, or a file with `global: true`)."""

    terms: tuple[str, ...] = ()
    regex: tuple[str, ...] = ()
    files: tuple[str, ...] = ()  # where they were written, `file:line`

    def __bool__(self) -> bool:
        return bool(self.terms or self.regex)

    def shown(self) -> list[str]:
        """The terms as people write them: words, then /regex/."""
        return [*self.terms, *(f"/{p}/" for p in self.regex)]


NO_GLOBALS = GlobalExclude()


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    keywords: tuple[str, ...]  # words; may be empty when `regex` holds the keywords
    description: str = ""
    all: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    near: tuple[Near, ...] = ()
    fields: tuple[str, ...] = FIELDS
    sources: tuple[str, ...] = ()  # empty: every source
    match: str = "word"
    file: str | None = None
    line: int | None = None
    regex: tuple[str, ...] = ()  # keywords written as RE2 patterns (any of them fires)
    all_regex: tuple[str, ...] = ()  # patterns that must each also match
    exclude_regex: tuple[str, ...] = ()  # patterns none of which may match
    names: tuple[tuple[str, str], ...] = ()  # (keyword as written, or /pattern/) → display name
    globals: GlobalExclude = NO_GLOBALS  # the rule set's global excludes, applied to this rule

    def terms(self) -> set[str]:
        """Every word the rule looks for, in any role (regex patterns are not words)."""
        found = set(self.keywords) | set(self.all) | set(self.exclude)
        for near in self.near:
            found.update(near.terms)
            found.update(near.with_)
        return found

    def display_name(self, keyword: str) -> str | None:
        """The name people see for a keyword (or a regex keyword's `/pattern/`), if given."""
        for term, name in self.names:
            if term == keyword:
                return name
        return None


@dataclass
class ParsedFile:
    """One file's sound rules, its problems, and the global excludes it declares."""

    rules: list[Rule]
    problems: list[Problem]
    globals: GlobalExclude = NO_GLOBALS
