"""Converting a TrendRadar `frequency_words.txt` into rule files.

TrendRadar's format, read as its parser (trendradar/core/frequency.py) reads it: groups of lines
separated by empty lines (a line of spaces separates nothing there); `#` starts a comment; a
block opening with `[GLOBAL_FILTER]` starts global filter words — every block after it too,
until one opens with `[WORD_GROUPS]`; a group may open with `[its display name]`. In a group a
plain line is a keyword (any fires), `+word` must also appear, `!word` excludes, `@N` caps how
many items the group shows; any word may be `/regex/` and may end in `=> display name`.

Each group becomes one rule file, `[GLOBAL_FILTER]` a file with `global: true`. What has no
equivalent here (`@N`, patterns RE2 cannot compile, groups left without a keyword) is reported
as a note with the source line, never silently dropped. Where TrendRadar's reading is unlikely
to be what the file's author meant, the import is refused, line by line, and nothing written:
a block after the first one of `[GLOBAL_FILTER]` (TrendRadar makes every word of it a global
filter, even a `[name]` line: a group written without `[WORD_GROUPS]` before it silences every
headline it names), and a `[…]` line that does not open its block (TrendRadar reads it as a
keyword, brackets and all). A line of spaces between two groups joins them, as in TrendRadar,
with a note.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

from tracker.rules.regex import pattern_problem

SECTIONS = ("GLOBAL_FILTER", "WORD_GROUPS")
MAX_GROUPS = 1000  # groups (rule files) one import writes; later ones are reported, not written
_REGEX = re.compile(r"^/(.+)/[a-z]*$")
_NAME = re.compile(r"\s*=>\s*")
HEADER = "# Imported from TrendRadar {source} (group at line {line}) by tracker rules import-trendradar.\n"


@dataclass
class Term:
    text: str
    regex: bool
    name: str | None
    line: int

    def entry(self, *, named: bool = True) -> str | dict:
        out: str | dict = {"regex": self.text} if self.regex else self.text
        if named and self.name:
            out = {**out, "name": self.name} if isinstance(out, dict) else \
                {"term": self.text, "name": self.name}
        return out


@dataclass
class Group:
    line: int
    alias: str | None = None
    normal: list[Term] = field(default_factory=list)
    required: list[Term] = field(default_factory=list)
    excluded: list[Term] = field(default_factory=list)


@dataclass
class Imported:
    """The rule files (name → YAML text), what could not be carried over, and differences."""

    files: dict[str, str] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # ambiguous lines: nothing is written


def _blocks(text: str, source: str, notes: list[str]) -> list[list[tuple[int, str]]]:
    """(line number, stripped line) of each group: empty lines separate, comments vanish. A
    line of spaces between two lines separates nothing (TrendRadar splits at "\\n\\n"): noted."""
    blocks: list[list[tuple[int, str]]] = [[]]
    lines = text.splitlines()
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not raw:
            if blocks[-1]:
                blocks.append([])
        elif not line:
            if blocks[-1] and number < len(lines) and lines[number]:
                notes.append(f"{source}:{number}: this line holds only spaces: TrendRadar does not "
                             "take it for a blank line, so the lines around it are one group, "
                             "here too (make it empty to part them)")
        elif not line.startswith("#"):
            blocks[-1].append((number, line))
    return [b for b in blocks if b]


def _bracketed(line: str) -> bool:
    return line.startswith("[") and line.endswith("]")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40]


def convert(text: str, source: str = "frequency_words.txt", prefix: str = "tr-") -> Imported:
    """The rule files for a TrendRadar keyword file's text (see the module docstring)."""
    out = Imported()

    def term(number: int, raw: str) -> Term | None:
        parts = _NAME.split(raw, maxsplit=1)
        word, name = parts[0].strip(), (parts[1].strip() or None) if len(parts) > 1 else None
        found = _REGEX.match(word)
        if found:
            problem = pattern_problem(found.group(1))
            if problem:
                out.dropped.append(f"{source}:{number}: `{raw}`: {problem}")
                return None
            return Term(found.group(1), True, name, number)
        if not word:
            out.dropped.append(f"{source}:{number}: `{raw}` has no word")
            return None
        return Term(word, False, name, number)

    section, groups, global_terms = "WORD_GROUPS", [], []
    header, filter_blocks = 0, 0  # the [GLOBAL_FILTER] line; its blocks with words so far
    for block in _blocks(text, source, out.notes):
        first = block[0][1]
        if _bracketed(first) and first[1:-1].upper() in SECTIONS:
            section, header, filter_blocks = first[1:-1].upper(), block[0][0], 0
            block = block[1:]
        if not block:
            continue
        named = section == "WORD_GROUPS" and _bracketed(block[0][1])
        for number, line in block[1 if named else 0:]:
            if _bracketed(line) and section == "WORD_GROUPS":
                out.refused.append(
                    f"{source}:{number}: `{line}` does not open its group: TrendRadar reads it "
                    "as a keyword, brackets and all (put an empty line before it to start a "
                    "group or section, or delete it)")
        if section == "GLOBAL_FILTER":
            filter_blocks += 1
            if filter_blocks > 1:
                _refuse_filter_block(out, source, header, block)
                continue
            for number, line in block:
                if _bracketed(line):
                    out.refused.append(
                        f"{source}:{number}: `{line}` in [GLOBAL_FILTER] (line {header}): "
                        "TrendRadar would drop every headline holding that text, brackets and "
                        "all; a group's name belongs after a [WORD_GROUPS] line")
                elif line.startswith(("!", "+", "@")):
                    out.dropped.append(f"{source}:{number}: `{line}` in [GLOBAL_FILTER]: TrendRadar "
                                     "ignores +, ! and @ there")
                elif (found := term(number, line)) is not None:
                    global_terms.append(found)
                    if found.regex:
                        out.notes.append(f"{source}:{number}: `{line}` became a regex global "
                                         "exclude (older TrendRadar read it as plain text)")
            continue
        group = Group(block[0][0])
        if named:
            group.alias, block = block[0][1][1:-1].strip() or None, block[1:]
        for number, line in block:
            if _bracketed(line):
                continue  # refused above
            if line.startswith("@"):
                out.dropped.append(f"{source}:{number}: `{line}` (show at most {line[1:]} items of "
                                 "the group) has no equivalent: every matching article is reported")
            elif line.startswith(("!", "+")):
                found = term(number, line[1:])
                if found:
                    (group.excluded if line[0] == "!" else group.required).append(found)
            elif (found := term(number, line)) is not None:
                group.normal.append(found)
        if group.normal or group.required:
            groups.append(group)
        elif group.excluded:  # TrendRadar applies every `!` word to every headline
            global_terms.extend(group.excluded)
            out.notes.append(f"{source}:{group.line}: a group of only `!` words: they became "
                             "global excludes (TrendRadar drops such headlines everywhere)")
    if len(groups) > MAX_GROUPS:
        out.dropped.append(f"{source}:{groups[MAX_GROUPS].line}: this group and the "
                           f"{len(groups) - MAX_GROUPS - 1} after it: one import writes at most "
                           f"{MAX_GROUPS} rule files (split the file)")
        del groups[MAX_GROUPS:]
    used = Ids()
    for index, group in enumerate(groups, start=1):
        rule_id = used.take(prefix + (_slug(group.normal[0].text if group.normal else
                                            group.required[0].text) or f"group-{index:02d}"))
        out.files[f"{rule_id}.yaml"] = HEADER.format(source=source, line=group.line) + \
            _dump(_rule(rule_id, group))
    if global_terms:
        name = used.take(f"{prefix}global")
        out.files[f"{name}.yaml"] = HEADER.format(source=source, line=global_terms[0].line) + \
            _dump({"global": True, "exclude": [t.entry(named=False) for t in global_terms]})
    if any(g.excluded for g in groups):
        out.notes.append(f"{source}: a `!` word excludes within its own group's rule here "
                         "(TrendRadar drops a headline with any `!` word from every group); "
                         "words every rule should drop belong in the global file")
    if groups:
        out.notes.append(f"{source}: TrendRadar matched headlines as substrings; these rules look "
                         "at title and body, by whole word (add `fields: [title]` or "
                         "`match: substring` to a rule to narrow or widen it)")
    return out


def _refuse_filter_block(out: Imported, source: str, header: int,
                         block: list[tuple[int, str]]) -> None:
    """A second block of [GLOBAL_FILTER]: TrendRadar makes each of its lines a global filter
    word; an author more likely meant a keyword group. Refused, each line named."""
    (first, line), last = block[0], block[-1][0]
    out.refused.append(
        f"{source}:{first}: `{line}`"
        + (f" and the lines up to {last}" if last > first else "")
        + f" follow an empty line inside [GLOBAL_FILTER] (line {header}) with no [WORD_GROUPS] "
        "line before them: TrendRadar makes each a global filter word (every headline holding "
        "it dropped), a `[name]` line too, brackets and all. If they are a keyword group, put a "
        f"line [WORD_GROUPS] before line {first}; if they are more filter words, delete the "
        "empty line before them")
    for number, line in block[1:]:
        out.refused.append(f"{source}:{number}: `{line}` would be "
                           + ("ignored" if line.startswith(("!", "+", "@")) else
                              "a global filter word") + f" (see line {first})")


def _rule(rule_id: str, group: Group) -> dict:
    """One group as a rule mapping: keywords (the `+` words when there are no plain ones)."""
    terms = group.normal + group.required
    name = group.alias or "、".join(t.name or t.text for t in terms)
    rule: dict = {"id": rule_id, "name": name}
    keywords = group.normal or group.required
    rule["keywords"] = [t.entry() for t in keywords]
    if group.required:
        rule["all"] = [t.entry(named=False) for t in group.required]
    if group.excluded:
        rule["exclude"] = [t.entry(named=False) for t in group.excluded]
    return rule


class Ids:
    """Rule ids handed out once each: `x`, then `x-2`, `x-3`… The next number is kept per id,
    so that 8,000 groups of one name take 8,000 steps, not 32 million (each tried every number
    from 2 again)."""

    def __init__(self) -> None:
        self.used: set[str] = set()
        self.next: dict[str, int] = {}

    def take(self, rule_id: str) -> str:
        """`rule_id` (cut to 64 characters), or with the first free number after it."""
        rule_id = rule_id[:64].rstrip("-_") or "tr"
        candidate, n = rule_id, self.next.get(rule_id, 2)
        while candidate in self.used:
            candidate, n = f"{rule_id[:60]}-{n}", n + 1
        self.next[rule_id] = n
        self.used.add(candidate)
        return candidate


def _dump(data: dict) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
