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
from tracker.yamlcheck import Problem

_KEY = "tracker.rules"


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


def checked_rules(app: Flask | None = None) -> tuple[list[Rule], list[Problem]]:
    """check_rules(RULES) — the sound rules and the problems — from the cache when no rule
    file changed since it was read."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    path = Path(app.config["RULES"])
    stamp = _stamp(path)
    cached = app.extensions.get(_KEY)
    if cached is None or cached[0] != stamp:
        cached = (stamp, check_rules(path))
        app.extensions[_KEY] = cached
    return cached[1]
