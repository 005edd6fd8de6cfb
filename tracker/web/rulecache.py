"""The rules folder as the web app sees it, read again only when a rule file changes.

Parsing every rule file on each request made a page's cost grow with the rules (10,000 rules:
most of /subscribe's time). The cache is keyed by each file's size and modification time (and
the folder's, for files added or removed), and lives on the app, not in the module.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, current_app

from tracker.rules import Rule, check_rules
from tracker.rules.load import rule_files
from tracker.text.normalize import normalize_terms
from tracker.yamlcheck import Problem

_KEY = "tracker.rules"
SEPARATOR = "\x1f"  # between a rule's fields in its search text: no query holds it


def _stamp(path: Path) -> tuple:
    """What changes when any rule file under `path` changes."""
    files = [path, *rule_files(path)] if path.is_dir() else [path]
    out = []
    for f in files:
        try:
            info = os.stat(f)
        except OSError:
            out.append((str(f), None))
            continue
        out.append((str(f), info.st_mtime_ns, info.st_size, info.st_ino))
    return tuple(out)


def _entry(app: Flask | None) -> dict:
    """The cache entry of the rules folder as it is now: read again when a rule file changed."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    path = Path(app.config["RULES"])
    stamp = _stamp(path)
    cached = app.extensions.get(_KEY)
    if cached is None or cached["stamp"] != stamp:
        cached = {"stamp": stamp, "checked": check_rules(path)}
        app.extensions[_KEY] = cached
    return cached


def checked_rules(app: Flask | None = None) -> tuple[list[Rule], list[Problem]]:
    """check_rules(RULES) — the sound rules and the problems — from the cache when no rule
    file changed since it was read."""
    return _entry(app)["checked"]


def search_texts(app: Flask | None = None) -> dict[str, str]:
    """Each sound rule's name, description and keywords folded as page text is
    (normalize_term: traditional to simplified, full-width and case folded), joined by U+001F,
    for the rule search; made once per version of the rules folder."""
    entry = _entry(app)
    texts = entry.get("texts")
    if texts is None:
        texts = entry["texts"] = _search_texts(entry["checked"][0])
    return texts


def _search_texts(rules: list[Rule]) -> dict[str, str]:
    fields = [[" ".join(f.split()) for f in (r.name, r.description, *r.keywords) if f.strip()]
              for r in rules]
    folded = iter(normalize_terms([f for one in fields for f in one]))  # one OpenCC call
    return {rule.id: SEPARATOR.join(next(folded) for _ in one) for rule, one in zip(rules, fields)}
