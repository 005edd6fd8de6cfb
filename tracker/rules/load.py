"""Reading rule files: YAML nodes are checked one by one so every problem has a file and line.

`rules/rule.schema.json` describes the same format for editors; tests keep the two in step.
"""

from __future__ import annotations

import gc
from pathlib import Path

import yaml

from tracker.rules.model import FIELDS, MATCH_MODES, Near, Rule
from tracker.text.normalize import normalize_term, readable
from tracker.yamlcheck import ID_PATTERN, NULL, NodeReader, Problem, ProblemsError, line_of
RULE_FIELDS = ("id", "name", "description", "keywords", "all", "exclude", "near", "fields",
               "sources", "match")
NEAR_FIELDS = ("term", "with", "within")
MAX_WITHIN = 1000


class RulesError(ProblemsError):
    """Rules that cannot be used; `problems` lists each as `file:line: what is wrong`."""


class _FileReader(NodeReader):
    """Turns one file's node tree into rules, collecting problems instead of stopping."""

    def read(self, text: str) -> list[Rule]:
        root = self.compose(text, empty="the file holds no rule")
        if root is None:
            return []
        if isinstance(root, yaml.MappingNode) and any(
                isinstance(k, yaml.ScalarNode) and k.value == "rules" for k, _ in root.value):
            if len(root.value) > 1:
                self.problem(root, "a file with `rules:` holds nothing else beside that list")
            items = next(v for k, v in root.value if k.value == "rules")
            if not isinstance(items, yaml.SequenceNode):
                self.problem(items, "`rules:` must be followed by a list of rules")
                return []
            if not items.value:
                self.problem(items, "`rules:` is an empty list")
            return [r for node in items.value if (r := self.rule(node)) is not None]
        rule = self.rule(root)
        return [rule] if rule else []

    def terms(self, node: yaml.Node, field: str, *, required: bool = False) -> tuple[str, ...]:
        """A term or a list of terms; numbers are taken as text, empty ones are problems."""
        items = node.value if isinstance(node, yaml.SequenceNode) else [node]
        before = len(self.problems)
        out: list[str] = []
        for item in items:
            if not isinstance(item, yaml.ScalarNode) or item.tag == NULL:
                self.problem(item, f"each entry of `{field}` must be a word or phrase")
            elif not normalize_term(item.value):
                self.problem(item, f"`{field}` has an empty entry")
            else:
                out.append(item.value.strip())
        if required and not out and len(self.problems) == before:
            self.problem(node, f"`{field}` is empty: give at least one word")
        return tuple(dict.fromkeys(out))

    def near(self, node: yaml.Node) -> tuple[Near, ...]:
        items = node.value if isinstance(node, yaml.SequenceNode) else [node]
        out = []
        for item in items:
            fields = self.mapping(item, NEAR_FIELDS, "each `near` entry")
            if fields is None:
                continue
            missing = [f for f in NEAR_FIELDS if f not in fields]
            if missing:
                self.problem(item, f"`near` entry lacks {', '.join(f'`{m}`' for m in missing)}")
                continue
            within_node = fields["within"][1]
            try:
                within = int(within_node.value)
            except (TypeError, ValueError):
                within = 0
            if not 1 <= within <= MAX_WITHIN:
                self.problem(within_node, f"`within` must be a whole number from 1 to {MAX_WITHIN}")
                continue
            terms = self.terms(fields["term"][1], "term", required=True)
            with_ = self.terms(fields["with"][1], "with", required=True)
            if terms and with_:
                out.append(Near(terms, with_, within))
        return tuple(out)

    def choice(self, node: yaml.Node, field: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
        values = self.terms(node, field, required=True)
        bad = [v for v in values if v not in allowed]
        if bad:
            self.problem(node, f"`{field}` takes {', '.join(allowed)}, not {', '.join(bad)}")
        return tuple(v for v in values if v in allowed)

    def rule(self, node: yaml.Node) -> Rule | None:
        before = len(self.problems)
        fields = self.mapping(node, RULE_FIELDS, "a rule")
        if fields is None:
            return None
        for required in ("id", "name", "keywords"):
            if required not in fields:
                self.problem(node, f"the rule lacks `{required}`")
        values: dict = {}
        if "id" in fields:
            rule_id = self.text(fields["id"][1], "id")
            if rule_id is not None and not ID_PATTERN.match(rule_id):
                self.problem(fields["id"][1], f"id `{rule_id}` must be a slug: lower-case a-z, "
                             "0-9, _ or -, at most 64 characters")
            values["id"] = rule_id
        for name in ("name", "description"):
            if name in fields:
                value = self.text(fields[name][1], name)
                # YAML folds a line break into a space, which Chinese text does not have.
                values[name] = readable(value) if value is not None else None
        for name in ("keywords", "all", "exclude", "sources"):
            if name in fields:
                values[name] = self.terms(fields[name][1], name, required=name == "keywords")
        if "near" in fields:
            values["near"] = self.near(fields["near"][1])
        if "fields" in fields:
            values["fields"] = self.choice(fields["fields"][1], "fields", FIELDS)
        if "match" in fields:
            mode = self.text(fields["match"][1], "match")
            if mode is not None and mode not in MATCH_MODES:
                self.problem(fields["match"][1], f"`match` is word or substring, not {mode}")
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


def parse_rules_text(text: str, filename: str = "<rules>") -> tuple[list[Rule], list[Problem]]:
    """The rules in one file's text and the problems found (the admin editor checks with this)."""
    reader = _FileReader(filename)
    rules = _without_gc(lambda: reader.read(text))
    return rules, sorted(reader.problems, key=lambda p: (p.line, p.column or 0))


def rule_files(path: Path) -> list[Path]:
    """The YAML files a rules path stands for: the file itself, or a folder's *.yaml/*.yml."""
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    return [path]


def check_rules(path: str | Path) -> tuple[list[Rule], list[Problem]]:
    """Every rule under `path` that is sound, and every problem (including duplicate ids)."""
    path = Path(path)
    if not path.exists():
        return [], [Problem(str(path), 1, "no such file or folder")]
    rules: list[Rule] = []
    problems: list[Problem] = []
    for file in rule_files(path):
        try:
            text = file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as err:
            problems.append(Problem(str(file), 1, f"cannot read: {err}"))
            continue
        found, file_problems = parse_rules_text(text, str(file))
        rules.extend(found)
        problems.extend(file_problems)
    first: dict[str, Rule] = {}
    unique: list[Rule] = []
    for rule in rules:
        if rule.id in first:
            seen = first[rule.id]
            problems.append(Problem(rule.file or "", rule.line or 1,
                                    f"duplicate id `{rule.id}` (first at {seen.file}:{seen.line})"))
        else:
            first[rule.id] = rule
            unique.append(rule)
    if path.is_dir() and not rule_files(path):
        problems.append(Problem(str(path), 1, "the folder holds no .yaml rule file"))
    return unique, problems


def load_rules(path: str | Path) -> list[Rule]:
    """All rules under `path`; raises RulesError listing every problem if there is any."""
    rules, problems = check_rules(path)
    if problems:
        raise RulesError(problems)
    return rules
