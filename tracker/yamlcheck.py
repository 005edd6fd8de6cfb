"""Checking YAML files node by node, so that every problem names its file and line.

Rule files and sources.yaml are both read this way: `NodeReader` collects problems instead of
stopping at the first, and reports each as `file:line: what is wrong`.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import yaml

try:  # libyaml's parser when present: rule sets with 100,000 rules load in seconds
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - pure-Python PyYAML
    _Loader = yaml.SafeLoader

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
NULL = "tag:yaml.org,2002:null"
MAX_ANCHOR_PROBLEMS = 5
# Where an anchor (&a) or alias (*a) can start: a node's properties follow a line start,
# whitespace or an indicator. A text without such a spot has neither (the `&` of AT&T is part
# of a word), so the event scan is skipped; a false alarm costs only the scan.
_MAYBE_ANCHOR = re.compile(r"(?:^|[\s\[{,:?\-\ufeff])[&*]", re.MULTILINE)


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a file, at a 1-based line (and column when known)."""

    file: str
    line: int
    message: str
    column: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class ProblemsError(Exception):
    """A file that cannot be used; `problems` lists each as `file:line: what is wrong`."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems


def line_of(node: yaml.Node) -> int:
    return node.start_mark.line + 1


class NodeReader:
    """Reads one file's YAML nodes, collecting problems instead of stopping at the first."""

    def __init__(self, filename: str):
        self.filename = filename
        self.problems: list[Problem] = []

    def problem(self, node: yaml.Node, message: str) -> None:
        self.problems.append(Problem(self.filename, line_of(node), message,
                                     node.start_mark.column + 1))

    def compose(self, text: str, empty: str) -> yaml.Node | None:
        """The file's node tree, or None with the problem recorded: bad YAML, an anchor or
        alias, or `empty` when the file holds nothing."""
        try:
            if _MAYBE_ANCHOR.search(text) and self._anchors(text):
                return None
            root = yaml.compose(text, Loader=_Loader)
            if root is None:
                self.problems.append(Problem(self.filename, 1, empty))
            return root
        except yaml.MarkedYAMLError as err:
            mark = err.problem_mark or err.context_mark
            line = mark.line + 1 if mark else 1
            column = mark.column + 1 if mark else None
            what = err.problem or str(err)
            lines = text.splitlines()
            if line <= len(lines) and "\t" in lines[line - 1]:
                what += " (a tab: YAML indents with spaces only)"
            self.problems.append(Problem(self.filename, line, f"bad YAML: {what}", column))
        except yaml.YAMLError as err:
            self.problems.append(Problem(self.filename, 1, f"bad YAML: {err}"))
        return None

    def _anchors(self, text: str) -> bool:
        """Whether the file uses anchors (&a) or aliases (*a), each recorded as a problem: an
        alias repeats a node, and nested ones grow a small file into millions of keywords (the
        "billion laughs" of YAML). Read from the event stream, before any node is built."""
        found = 0
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.AliasEvent):
                what = f"alias *{event.anchor}"
            elif getattr(event, "anchor", None):
                what = f"anchor &{event.anchor}"
            else:
                continue
            found += 1
            if found > MAX_ANCHOR_PROBLEMS:
                continue  # counted, not listed: a bomb holds thousands
            self.problems.append(Problem(
                self.filename, event.start_mark.line + 1,
                f"{what}: YAML anchors and aliases are not accepted here; write the values out",
                event.start_mark.column + 1))
        if found > MAX_ANCHOR_PROBLEMS:
            self.problems.append(Problem(self.filename, self.problems[-1].line,
                                         f"… {found - MAX_ANCHOR_PROBLEMS} more anchors or aliases"))
        return found > 0

    def mapping(self, node: yaml.Node, allowed: tuple[str, ...], what: str) -> dict | None:
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, f"{what} must be a mapping of fields")
            return None
        fields: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else None
            if name is None:
                self.problem(key, f"{what} has a field name that is not text")
            elif name in fields:
                self.problem(key, f"field `{name}` is given twice")
            elif name not in allowed:
                close = difflib.get_close_matches(name, allowed, n=1)
                hint = f" (did you mean `{close[0]}`?)" if close else ""
                self.problem(key, f"unknown field `{name}`{hint}; known: {', '.join(allowed)}")
            else:
                fields[name] = (key, value)
        return fields

    def text(self, node: yaml.Node, field: str) -> str | None:
        if not isinstance(node, yaml.ScalarNode) or node.tag == NULL:
            self.problem(node, f"`{field}` must be text")
            return None
        return node.value.strip()

