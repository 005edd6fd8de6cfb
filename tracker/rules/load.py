"""Reading rule files: YAML nodes are checked one by one so every problem has a file and line.

`rules/rule.schema.json` describes the same format for editors; tests keep the two in step.
A file is one rule, `rules:` with a list, or global excludes (`_global.yaml`, or `global: true`
beside `exclude:` and optionally `rules:`); global excludes join every rule of the set.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from tracker.rules.cache import cached
from tracker.rules.model import (FIELDS, MATCH_MODES, NO_GLOBALS, GlobalExclude, Near, ParsedFile,
                                 Rule)
from tracker.rules.regex import CODES as PATTERN_CODES
from tracker.rules.regex import pattern_problem
from tracker.text.normalize import normalize_term, readable
from tracker.yamlcheck import CODES as NODE_CODES
from tracker.yamlcheck import ID_PATTERN, NULL, NodeReader, Problem, ProblemsError, line_of

RULE_FIELDS = ("id", "name", "description", "keywords", "regex", "all", "exclude", "near",
               "fields", "sources", "match")
NEAR_FIELDS = ("term", "with", "within")
TERM_FIELDS = ("term", "regex", "name")
GLOBAL_FIELDS = ("global", "exclude", "description", "rules")
GLOBAL_STEM = "_global"  # rules/_global.yaml holds the global excludes
MAX_WITHIN = 1000

# Every code a rule file's problem can have, with the names of its fields: the node checks'
# (tracker.yamlcheck), the patterns' (tracker.rules.regex) and the rules' own. The pages say
# each in Chinese by its code (tracker.web.problems); a test keeps the two in step.
CODES: dict[str, tuple[str, ...]] = {
    **NODE_CODES, **PATTERN_CODES,
    "rules_beside": (),  # `rules:` and something else at the top
    "rules_not_list": (),
    "rules_empty": (),
    "global_not_true": (),
    "global_no_exclude": (),
    "term_or_regex": ("field",),  # an entry with both or neither
    "words_only": ("field",),  # `regex:` where only words go
    "name_not_keyword": ("field",),
    "empty_name": (),
    "not_word": ("field",),
    "empty_entry": ("field",),
    "empty": ("field",),  # a required list with no word
    "near_lacks": ("missing",),
    "within": ("limit",),
    "choice": ("field", "allowed", "bad"),
    "lacks": ("field",),
    "not_slug": ("id",),
    "match_mode": ("mode",),
    "duplicate_id": ("id", "first"),  # first: file:line of the rule that has it
    "no_rule_file": (),
}


@dataclass
class Terms:
    """The entries of one term list: words, RE2 patterns, and display names given to them."""

    words: tuple[str, ...] = ()
    regex: tuple[str, ...] = ()
    names: list[tuple[str, str]] = field(default_factory=list)


class RulesError(ProblemsError):
    """Rules that cannot be used; `problems` lists each as `file:line: what is wrong`."""


class _FileReader(NodeReader):
    """Turns one file's node tree into rules, collecting problems instead of stopping."""

    globals: GlobalExclude = NO_GLOBALS
    codes = CODES

    def read(self, text: str) -> list[Rule]:
        root = self.compose(text, empty="the file holds no rule")
        if root is None:
            return []
        keys = {k.value for k, _ in root.value if isinstance(k, yaml.ScalarNode)} \
            if isinstance(root, yaml.MappingNode) else set()
        if "global" in keys or Path(self.filename).stem == GLOBAL_STEM:
            return self.global_file(root)
        if "rules" in keys:
            if len(root.value) > 1:
                self.problem(root, "rules_beside", "a file with `rules:` holds nothing else "
                             "beside that list (a top-level `exclude:` for every rule needs "
                             "`global: true`)")
            return self.rule_list(next(v for k, v in root.value if k.value == "rules"))
        rule = self.rule(root)
        return [rule] if rule else []

    def rule_list(self, items: yaml.Node) -> list[Rule]:
        if not isinstance(items, yaml.SequenceNode):
            self.problem(items, "rules_not_list", "`rules:` must be followed by a list of rules")
            return []
        if not items.value:
            self.problem(items, "rules_empty", "`rules:` is an empty list")
        return [r for node in items.value if (r := self.rule(node)) is not None]

    def global_file(self, root: yaml.Node) -> list[Rule]:
        """Global excludes (`global: true`, or the file `_global.yaml`), and `rules:` if any."""
        before = len(self.problems)
        fields = self.mapping(root, GLOBAL_FIELDS, "a global-excludes file")
        if fields is None:
            return []
        if "global" in fields and fields["global"][1].value not in ("true", "True", "yes"):
            self.problem(fields["global"][1], "global_not_true", "`global:` can only be `true` "
                         "(this file's `exclude:` applies to every rule); leave it out otherwise")
        if "exclude" not in fields:
            self.problem(root, "global_no_exclude",
                         "global excludes need `exclude:` with at least one term")
        else:
            node = fields["exclude"][1]
            found = self.terms(node, "exclude", required=True, names=False)
            if len(self.problems) == before:  # like a rule: a broken file gives none
                self.globals = GlobalExclude(found.words, found.regex,
                                             (f"{self.filename}:{line_of(node)}",))
        return self.rule_list(fields["rules"][1]) if "rules" in fields else []

    def terms(self, node: yaml.Node, field: str, *, required: bool = False,
              regex: bool = True, names: bool = False, patterns: bool = False) -> Terms:
        """A term or a list of terms. An entry is a word (numbers are taken as text), or a
        mapping `{term: word}` / `{regex: pattern}` with an optional display `name` (where
        `names`). With `patterns`, a plain entry is a pattern. Empty ones are problems."""
        items = node.value if isinstance(node, yaml.SequenceNode) else [node]
        before = len(self.problems)
        words: list[str] = []
        found: list[str] = []
        out = Terms()
        for item in items:
            kind, value, name = ("regex" if patterns else "term"), item, None
            if isinstance(item, yaml.MappingNode) and (regex or names):
                entry = self.mapping(item, TERM_FIELDS, f"each entry of `{field}`")
                if entry is None:
                    continue
                given = [k for k in ("term", "regex") if k in entry]
                if len(given) != 1:
                    self.problem(item, "term_or_regex", f"an entry of `{field}` has `term:` (a "
                                 "word) or `regex:` (a pattern), exactly one of them", field=field)
                    continue
                kind, value = given[0], entry[given[0]][1]
                if kind == "regex" and not regex:
                    self.problem(item, "words_only", f"`{field}` takes words only, not `regex:`",
                                 field=field)
                    continue
                if "name" in entry:
                    if not names:
                        self.problem(entry["name"][0], "name_not_keyword", f"`name` is for "
                                     f"keywords; an entry of `{field}` is never shown", field=field)
                        continue
                    name = self.text(entry["name"][1], "name")
                    if not name:
                        self.problem(entry["name"][1], "empty_name", "`name` is empty")
                        continue
            if not isinstance(value, yaml.ScalarNode) or value.tag == NULL:
                self.problem(value, "not_word", f"each entry of `{field}` must be a word or "
                             "phrase" + (", or a mapping with `term:` or `regex:`" if regex else ""),
                             field=field)
            elif kind == "regex":
                pattern = value.value.strip()
                problem = pattern_problem(pattern)
                if problem:
                    self.problem(value, problem.code, problem.message, **problem.fields)
                else:
                    found.append(pattern)
                    if name:
                        out.names.append((f"/{pattern}/", readable(name)))
            elif not normalize_term(value.value):
                self.problem(value, "empty_entry", f"`{field}` has an empty entry", field=field)
            else:
                words.append(value.value.strip())
                if name:
                    out.names.append((words[-1], readable(name)))
        if required and not words and not found and len(self.problems) == before:
            self.problem(node, "empty", f"`{field}` is empty: give at least one word",
                         field=field)
        out.words, out.regex = tuple(dict.fromkeys(words)), tuple(dict.fromkeys(found))
        return out

    def near(self, node: yaml.Node) -> tuple[Near, ...]:
        items = node.value if isinstance(node, yaml.SequenceNode) else [node]
        out = []
        for item in items:
            fields = self.mapping(item, NEAR_FIELDS, "each `near` entry")
            if fields is None:
                continue
            missing = [f for f in NEAR_FIELDS if f not in fields]
            if missing:
                self.problem(item, "near_lacks", "`near` entry lacks "
                             f"{', '.join(f'`{m}`' for m in missing)}", missing=", ".join(missing))
                continue
            within_node = fields["within"][1]
            try:
                within = int(within_node.value)
            except (TypeError, ValueError):
                within = 0
            if not 1 <= within <= MAX_WITHIN:
                self.problem(within_node, "within",
                             f"`within` must be a whole number from 1 to {MAX_WITHIN}",
                             limit=MAX_WITHIN)
                continue
            terms = self.terms(fields["term"][1], "term", required=True, regex=False).words
            with_ = self.terms(fields["with"][1], "with", required=True, regex=False).words
            if terms and with_:
                out.append(Near(terms, with_, within))
        return tuple(out)

    def choice(self, node: yaml.Node, field: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
        values = self.terms(node, field, required=True, regex=False).words
        bad = [v for v in values if v not in allowed]
        if bad:
            self.problem(node, "choice", f"`{field}` takes {', '.join(allowed)}, not "
                         f"{', '.join(bad)}", field=field, allowed=", ".join(allowed),
                         bad=", ".join(bad))
        return tuple(v for v in values if v in allowed)

    def rule(self, node: yaml.Node) -> Rule | None:
        before = len(self.problems)
        fields = self.mapping(node, RULE_FIELDS, "a rule")
        if fields is None:
            return None
        for required in ("id", "name", "keywords"):
            if required not in fields and not (required == "keywords" and "regex" in fields):
                self.problem(node, "lacks", f"the rule lacks `{required}`", field=required)
        values: dict = {}
        if "id" in fields:
            rule_id = self.text(fields["id"][1], "id")
            if rule_id is not None and not ID_PATTERN.match(rule_id):
                self.problem(fields["id"][1], "not_slug", f"id `{rule_id}` must be a slug: "
                             "lower-case a-z, 0-9, _ or -, at most 64 characters", id=rule_id)
            values["id"] = rule_id
        for name in ("name", "description"):
            if name in fields:
                value = self.text(fields[name][1], name)
                # YAML folds a line break into a space, which Chinese text does not have.
                values[name] = readable(value) if value is not None else None
        names: list[tuple[str, str]] = []
        regex: list[str] = []
        if "keywords" in fields:
            found = self.terms(fields["keywords"][1], "keywords", required="regex" not in fields,
                               names=True)
            values["keywords"], names, regex = found.words, found.names, list(found.regex)
        else:
            values["keywords"] = ()
        if "regex" in fields:
            found = self.terms(fields["regex"][1], "regex", required=True, names=True,
                               patterns=True)
            names += found.names
            regex += found.regex
        for name in ("all", "exclude"):
            if name in fields:
                found = self.terms(fields[name][1], name)
                values[name], values[f"{name}_regex"] = found.words, found.regex
        if "sources" in fields:
            values["sources"] = self.terms(fields["sources"][1], "sources", regex=False).words
        values["regex"], values["names"] = tuple(dict.fromkeys(regex)), tuple(names)
        if "near" in fields:
            values["near"] = self.near(fields["near"][1])
        if "fields" in fields:
            values["fields"] = self.choice(fields["fields"][1], "fields", FIELDS)
        if "match" in fields:
            mode = self.text(fields["match"][1], "match")
            if mode is not None and mode not in MATCH_MODES:
                self.problem(fields["match"][1], "match_mode",
                             f"`match` is word or substring, not {mode}", mode=mode)
            values["match"] = mode
        if len(self.problems) > before:
            return None
        return Rule(**values, file=self.filename, line=line_of(node))


def _without_gc(compose):
    """Composing a file's YAML and reading its rules with Python's cyclic GC paused: the node
    tree is millions of objects, none of them garbage, and each collection walks them all."""
    paused = gc.isenabled()
    gc.disable()
    try:
        return compose()
    finally:
        if paused:
            gc.enable()


def parse_file(text: str, filename: str = "<rules>") -> ParsedFile:
    """One file's rules, problems and global excludes (the admin editor checks with this)."""
    reader = _FileReader(filename)
    rules = _without_gc(lambda: reader.read(text))
    return ParsedFile(rules, sorted(reader.problems, key=lambda p: (p.line, p.column or 0)),
                      reader.globals)


def parse_rules_text(text: str, filename: str = "<rules>") -> tuple[list[Rule], list[Problem]]:
    """The rules in one file's text and the problems found."""
    parsed = parse_file(text, filename)
    return parsed.rules, parsed.problems


def duplicate_id(file: str, line: int, rule_id: str, first: str,
                 column: int | None = None) -> Problem:
    """The problem of a rule whose id the rule at `first` (file:line) already has (the rules
    editor says so of another file's rules too, with this code)."""
    return Problem(file, line, f"duplicate id `{rule_id}` (first at {first})", column,
                   code="duplicate_id", fields={"id": rule_id, "first": first})


def merge_globals(parts: list[GlobalExclude]) -> GlobalExclude:
    """The global excludes of several files as one."""
    return GlobalExclude(tuple(dict.fromkeys(t for g in parts for t in g.terms)),
                         tuple(dict.fromkeys(p for g in parts for p in g.regex)),
                         tuple(f for g in parts for f in g.files))


def with_globals(rules: list[Rule], globals_: GlobalExclude) -> list[Rule]:
    """The rules, each carrying the rule set's global excludes."""
    return [replace(rule, globals=globals_) for rule in rules] if globals_ else rules


def rule_files(path: Path) -> list[Path]:
    """The YAML files a rules path stands for: the file itself, or a folder's *.yaml/*.yml."""
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    return [path]


@dataclass
class RuleSet:
    """Every sound rule under a path (each carrying `globals`), and every problem found."""

    rules: list[Rule]
    problems: list[Problem]
    globals: GlobalExclude = NO_GLOBALS


def check_rules(path: str | Path, cache: Path | None = None) -> tuple[list[Rule], list[Problem]]:
    """Every rule under `path` that is sound, and every problem (including duplicate ids)."""
    found = read_rule_set(path, cache)
    return found.rules, found.problems


def read_rule_set(path: str | Path, cache: Path | None = None) -> RuleSet:
    """`check_rules`, with the global excludes the rules were given. With a `cache` folder, a
    large file read before is taken from there (see `tracker.rules.cache`)."""
    path = Path(path)
    if not path.exists():
        return RuleSet([], [Problem(str(path), 1, "no such file or folder", code="missing")])
    rules: list[Rule] = []
    problems: list[Problem] = []
    globals_: list[GlobalExclude] = []
    for file in rule_files(path):
        try:
            text = file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as err:
            problems.append(Problem(str(file), 1, f"cannot read: {err}", code="unreadable",
                                    fields={"detail": str(err)}))
            continue
        parsed = cached(cache, text, str(file), parse_file) if cache else parse_file(text, str(file))
        rules.extend(parsed.rules)
        problems.extend(parsed.problems)
        if parsed.globals:
            globals_.append(parsed.globals)
    first: dict[str, Rule] = {}
    unique: list[Rule] = []
    for rule in rules:
        if rule.id in first:
            seen = first[rule.id]
            problems.append(duplicate_id(rule.file or "", rule.line or 1, rule.id,
                                         f"{seen.file}:{seen.line}"))
        else:
            first[rule.id] = rule
            unique.append(rule)
    if path.is_dir() and not rule_files(path):
        problems.append(Problem(str(path), 1, "the folder holds no .yaml rule file",
                                code="no_rule_file"))
    merged = merge_globals(globals_)
    return RuleSet(with_globals(unique, merged), problems, merged)


def load_rules(path: str | Path, cache: Path | None = None) -> list[Rule]:
    """All rules under `path`; raises RulesError listing every problem if there is any."""
    rules, problems = check_rules(path, cache)
    if problems:
        raise RulesError(problems)
    return rules
