"""Checking YAML files node by node, so that every problem names its file and line.

Rule files and sources.yaml are both read this way: `NodeReader` collects problems instead of
stopping at the first, and reports each as `file:line: what is wrong`. Each problem also says
what is wrong as a `code` with `fields` (CODES here, and each reader's own), so that the pages
choose their Chinese by code (tracker.web.problems) and the English can be reworded freely.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

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

# What the node checks of both readers find, as codes, each with the names of its fields.
# `detail` is a third party's own English (PyYAML's parser, the OS): the pages may match it.
CODES: dict[str, tuple[str, ...]] = {
    "bad_yaml": ("detail", "tab"),  # PyYAML refused the text; tab: the line holds a tab
    "anchor": ("kind", "name"),  # kind: anchor | alias
    "more_anchors": ("count",),
    "empty_file": (),
    "not_mapping": (),
    "key_not_text": (),
    "field_twice": ("field",),
    "unknown_field": ("field", "suggestion", "known"),  # suggestion: a close name or ""
    "not_text": ("field",),
    "missing": (),  # no such file or folder
    "unreadable": ("detail",),
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a file, at a 1-based line (and column when known): `message` in
    English (the CLI, logs), and the same as `code` (one of the reader's CODES) with `fields`,
    which is what the pages say it by (never by parsing the English)."""

    file: str
    line: int
    message: str
    column: int | None = None
    code: str = field(kw_only=True)
    fields: dict[str, Any] = field(default_factory=dict, kw_only=True, hash=False)

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
    """Reads one file's YAML nodes, collecting problems instead of stopping at the first. A
    reader's `codes` are the codes its problems may have (a subclass adds its own)."""

    codes: dict[str, tuple[str, ...]] = CODES

    def __init__(self, filename: str):
        self.filename = filename
        self.problems: list[Problem] = []

    def add(self, line: int, code: str, message: str, column: int | None = None,
            **fields: Any) -> None:
        """Record a problem at `line`: `code` (one of `codes`), its English and its fields."""
        assert code in self.codes and set(fields) <= set(self.codes[code]), (code, fields)
        self.problems.append(Problem(self.filename, line, message, column, code=code,
                                     fields=fields))

    def problem(self, node: yaml.Node, code: str, message: str, **fields: Any) -> None:
        """Record a problem at `node`'s line and column (see `add`)."""
        self.add(line_of(node), code, message, node.start_mark.column + 1, **fields)

    def compose(self, text: str, empty: str) -> yaml.Node | None:
        """The file's node tree, or None with the problem recorded: bad YAML, an anchor or
        alias, or `empty` (the English of code empty_file) when the file holds nothing."""
        try:
            if _MAYBE_ANCHOR.search(text) and self._anchors(text):
                return None
            root = yaml.compose(text, Loader=_Loader)
            if root is None:
                self.add(1, "empty_file", empty)
            return root
        except yaml.MarkedYAMLError as err:
            mark = err.problem_mark or err.context_mark
            line = mark.line + 1 if mark else 1
            column = mark.column + 1 if mark else None
            detail = err.problem or str(err)
            lines = text.splitlines()
            tab = line <= len(lines) and "\t" in lines[line - 1]
            what = detail + (" (a tab: YAML indents with spaces only)" if tab else "")
            self.add(line, "bad_yaml", f"bad YAML: {what}", column, detail=detail, tab=tab)
        except yaml.YAMLError as err:
            self.add(1, "bad_yaml", f"bad YAML: {err}", detail=str(err), tab=False)
        return None

    def _anchors(self, text: str) -> bool:
        """Whether the file uses anchors (&a) or aliases (*a), each recorded as a problem: an
        alias repeats a node, and nested ones grow a small file into millions of keywords (the
        "billion laughs" of YAML). Read from the event stream, before any node is built."""
        found = 0
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.AliasEvent):
                kind, what = "alias", f"alias *{event.anchor}"
            elif getattr(event, "anchor", None):
                kind, what = "anchor", f"anchor &{event.anchor}"
            else:
                continue
            found += 1
            if found > MAX_ANCHOR_PROBLEMS:
                continue  # counted, not listed: a bomb holds thousands
            self.add(event.start_mark.line + 1, "anchor",
                     f"{what}: YAML anchors and aliases are not accepted here; write the values out",
                     event.start_mark.column + 1, kind=kind, name=event.anchor)
        if found > MAX_ANCHOR_PROBLEMS:
            more = found - MAX_ANCHOR_PROBLEMS
            self.add(self.problems[-1].line, "more_anchors", f"… {more} more anchors or aliases",
                     count=more)
        return found > 0

    def mapping(self, node: yaml.Node, allowed: tuple[str, ...], what: str) -> dict | None:
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, "not_mapping", f"{what} must be a mapping of fields")
            return None
        fields: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else None
            if name is None:
                self.problem(key, "key_not_text", f"{what} has a field name that is not text")
            elif name in fields:
                self.problem(key, "field_twice", f"field `{name}` is given twice", field=name)
            elif name not in allowed:
                close = difflib.get_close_matches(name, allowed, n=1)
                hint = f" (did you mean `{close[0]}`?)" if close else ""
                self.problem(key, "unknown_field",
                             f"unknown field `{name}`{hint}; known: {', '.join(allowed)}",
                             field=name, suggestion=close[0] if close else "",
                             known=", ".join(allowed))
            else:
                fields[name] = (key, value)
        return fields

    def text(self, node: yaml.Node, field: str) -> str | None:
        if not isinstance(node, yaml.ScalarNode) or node.tag == NULL:
            self.problem(node, "not_text", f"`{field}` must be text", field=field)
            return None
        return node.value.strip()

