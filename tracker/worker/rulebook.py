"""The rules the worker matches with, read again whenever their files change.

A rules folder that stops being valid (someone saved a broken file) does not stop the worker:
it keeps the last good rules and says so loudly, once per change, until the files are fixed.

Subscribers' own keywords come from the database (tracker.store.personal), not the folder: each
active subscription's words are one rule `personal:<id>`, matched alongside the folder's and
recorded for that subscription alone.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Mapping

from tracker.matching import Matcher
from tracker.rules import Rule, RulesError, load_rules
from tracker.rules.load import rule_files
from tracker.rules.model import NO_GLOBALS
from tracker.store.personal import RULE_NAME, personal_rule_id

log = logging.getLogger("tracker.rules")


def adopt_personal_files(db, folder: str | Path) -> int:
    """Move own-keyword rule files of earlier versions (`<RULES>/personal-<id>.yaml`, public
    and matched for everyone) into their subscription: the keywords to the database, the
    matches to `personal_hits`, the file removed. How many files were adopted."""
    from tracker.store import transaction
    from tracker.store.personal import adopt_rule

    root = Path(folder)
    adopted = 0
    for path in sorted(root.glob("personal-*.yaml")) if root.is_dir() else []:
        number = path.stem.removeprefix("personal-")
        if not number.isdigit():
            continue
        old, sid = path.stem, int(number)
        try:
            rules = load_rules(path)
        except (RulesError, OSError) as err:
            log.warning("cannot adopt %s: %s", path, err)
            continue
        words = [w for rule in rules for w in rule.keywords]
        with transaction(db):
            adopt_rule(db, sid, old, words)
        try:
            path.unlink()
        except OSError as err:
            log.warning("adopted %s but cannot remove it: %s", path, err)
        adopted += 1
    if adopted:
        log.info("own keywords of %d subscriptions moved from rule files to the database", adopted)
    return adopted


class RuleBook:
    def __init__(self, path: str | Path, cache: Path | None = None):
        self.path = Path(path)
        self.cache = cache  # large rule files read before come from here (tracker.rules.cache)
        self._signature: tuple | None = None
        self._personal: tuple = ()
        self.rules: list[Rule] | None = None  # the folder's last good rules
        self.matcher: Matcher | None = None
        self.problems: list[str] = []

    def signature(self) -> tuple:
        """What changes when a rule file is added, removed or saved."""
        try:
            files = rule_files(self.path) if self.path.exists() else []
            return tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files)
        except OSError as err:  # a file removed while we looked: look again next time
            return (("error", str(err)),)

    def refresh(self, personal: Mapping[int, tuple[str, ...]] | None = None) -> Matcher | None:
        """The matcher for the current rules and own keywords (`personal`, by subscription id):
        rebuilt after a change, the last good folder rules if they are now broken, None if
        there is nothing to match with."""
        signature = self.signature()
        own = tuple(sorted((personal or {}).items()))
        if signature == self._signature and own == self._personal:
            return self.matcher
        reloaded = False
        if signature != self._signature:
            self._signature = signature
            reloaded = self._load()
        if not reloaded and own == self._personal and self.matcher is not None:
            return self.matcher  # broken files: the last good matcher, unchanged
        self._personal = own
        # The folder's global excludes (every folder rule carries them) hold for own keywords too.
        globals_ = self.rules[0].globals if self.rules else NO_GLOBALS
        rules = list(self.rules or []) + [
            Rule(id=personal_rule_id(sid), name=RULE_NAME, keywords=words, globals=globals_)
            for sid, words in own]
        self.matcher = Matcher(rules) if rules else None
        return self.matcher

    def _load(self) -> bool:
        """Read the folder again; whether its rules were good (else the last good ones stay)."""
        try:
            rules = load_rules(self.path, self.cache)
        except RulesError as err:
            self.problems = [str(p) for p in err.problems]
            state = "keeping the last good rules" if self.rules else "no rules to match with"
            log.error("rules in %s are broken, %s:\n  %s", self.path, state,
                      "\n  ".join(self.problems))
            return False
        self.rules = rules
        self.problems = []
        log.info("rules loaded from %s: %d rules", self.path, len(rules))
        return True
