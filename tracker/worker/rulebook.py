"""The rules the worker matches with, read again whenever their files change.

A rules folder that stops being valid (someone saved a broken file) does not stop the worker:
it keeps the last good rules and says so loudly, once per change, until the files are fixed.
"""

from __future__ import annotations

import logging
from pathlib import Path

from tracker.matching import Matcher
from tracker.rules import RulesError, load_rules
from tracker.rules.load import rule_files

log = logging.getLogger("tracker.rules")


class RuleBook:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._signature: tuple | None = None
        self.matcher: Matcher | None = None
        self.problems: list[str] = []

    def signature(self) -> tuple:
        """What changes when a rule file is added, removed or saved."""
        try:
            files = rule_files(self.path) if self.path.exists() else []
            return tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files)
        except OSError as err:  # a file removed while we looked: look again next time
            return (("error", str(err)),)

    def refresh(self) -> Matcher | None:
        """The matcher for the current rules: rebuilt after a change, the last good one if the
        rules are now broken, None if they never were good."""
        signature = self.signature()
        if signature == self._signature:
            return self.matcher
        self._signature = signature
        try:
            rules = load_rules(self.path)
        except RulesError as err:
            self.problems = [str(p) for p in err.problems]
            state = "keeping the last good rules" if self.matcher else "no rules to match with"
            log.error("rules in %s are broken, %s:\n  %s", self.path, state,
                      "\n  ".join(self.problems))
            return self.matcher
        self.matcher = Matcher(rules)
        self.problems = []
        log.info("rules loaded from %s: %d rules", self.path, len(rules))
        return self.matcher
