"""A parsed rule file as plain JSON data and back, for the rule cache (tracker.rules.cache).

Plain data, not pickle: reading a cache entry can only ever give strings, numbers and lists,
whoever wrote it; nothing in it names a class or a function to call. The format is this
module's own: a rule is `[id, name, keywords, line]`, followed by a mapping of the fields that
differ from their defaults (most rules have none); the file name every rule carries is written
once. Anything not of that shape is a ValueError (the entry is then read from the YAML again).
"""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

from tracker.rules.model import FIELDS, NO_GLOBALS, GlobalExclude, Near, ParsedFile, Rule
from tracker.yamlcheck import Problem

FORMAT = 2  # 2: a problem carries its code and fields
_DEFAULTS = {f.name: f.default for f in fields(Rule) if f.name not in ("id", "name", "keywords")}
_WORDS = ("description", "match")  # extra fields holding a string
_TUPLES = ("all", "exclude", "sources", "regex", "all_regex", "exclude_regex")  # of strings


def dumps(parsed: ParsedFile) -> bytes:
    """The UTF-8 JSON of a parsed file."""
    file = parsed.rules[0].file if parsed.rules else None
    rules = []
    for rule in parsed.rules:
        extra = {key: value for key, value in vars(rule).items()
                 if key in _DEFAULTS and key != "line" and value != _DEFAULTS[key]}
        if rule.file == file:
            extra.pop("file", None)
        if "near" in extra:
            extra["near"] = [[n.terms, n.with_, n.within] for n in rule.near]
        if "globals" in extra:
            extra["globals"] = _globals_out(rule.globals)
        item: list[Any] = [rule.id, rule.name, rule.keywords, rule.line]
        rules.append([*item, extra] if extra else item)
    data = {"format": FORMAT, "file": file, "rules": rules,
            "problems": [[p.file, p.line, p.message, p.column, p.code, p.fields]
                         for p in parsed.problems],
            "globals": _globals_out(parsed.globals)}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def loads(data: bytes) -> ParsedFile:
    """The parsed file `dumps` wrote; ValueError when `data` is not of that shape."""
    try:
        found = json.loads(data)
        if found["format"] != FORMAT:
            raise ValueError("another format")
        file = _optional(found["file"], str)
        rules = [_rule(item, file) for item in found["rules"]]
        problems = [Problem(_str(f), _int(line), _str(message), _optional(column, int),
                            code=_str(code), fields=_fields(fields))
                    for f, line, message, column, code, fields in found["problems"]]
        return ParsedFile(rules, problems, _globals_in(found["globals"]))
    except (KeyError, TypeError, IndexError, AttributeError, RecursionError) as error:
        raise ValueError(f"not a cached rule file ({type(error).__name__})") from None


def _rule(item: list, file: str | None) -> Rule:
    """One rule, made as the unpickler made it: its fields set directly (a frozen dataclass's
    __init__ costs a setattr call per field, a second for 100,000 rules)."""
    rule_id, name, keywords, line = item[:4]
    state = dict(_DEFAULTS)
    state.update(id=_str(rule_id), name=_str(name), keywords=_strs(keywords),
                 line=_optional(line, int), file=file)
    if len(item) == 5:
        for key, value in item[4].items():
            if key in _TUPLES:
                state[key] = _strs(value)
            elif key in _WORDS:
                state[key] = _str(value)
            elif key == "fields":
                state[key] = FIELDS if value == list(FIELDS) else _strs(value)
            elif key == "file":
                state[key] = _optional(value, str)
            elif key == "near":
                state[key] = tuple(Near(_strs(terms), _strs(with_), _int(within))
                                   for terms, with_, within in value)
            elif key == "names":
                state[key] = tuple((_str(term), _str(shown)) for term, shown in value)
            elif key == "globals":
                state[key] = _globals_in(value)
            else:
                raise ValueError(f"unknown rule field {key!r}")
    elif len(item) != 4:
        raise ValueError("a rule of another shape")
    rule = object.__new__(Rule)
    vars(rule).update(state)
    return rule


def _globals_out(found: GlobalExclude) -> list | None:
    return [found.terms, found.regex, found.files] if found != NO_GLOBALS else None


def _globals_in(value: Any) -> GlobalExclude:
    if value is None:
        return NO_GLOBALS
    terms, regex, files = value
    return GlobalExclude(_strs(terms), _strs(regex), _strs(files))


def _str(value: Any) -> str:
    if type(value) is not str:
        raise ValueError("a string expected")
    return value


def _int(value: Any) -> int:
    if type(value) is not int:
        raise ValueError("a number expected")
    return value


def _optional(value: Any, kind: type) -> Any:
    if value is not None and type(value) is not kind:
        raise ValueError(f"{kind.__name__} or null expected")
    return value


def _fields(value: Any) -> dict[str, Any]:
    """A problem's fields: names to strings, numbers, true/false or null."""
    if type(value) is not dict or not all(
            type(v) in (str, int, bool) or v is None for v in value.values()):
        raise ValueError("a problem's fields expected")
    return dict(value)


def _strs(value: Any) -> tuple[str, ...]:
    if type(value) is not list or not all(type(v) is str for v in value):
        raise ValueError("a list of strings expected")
    return tuple(value)
