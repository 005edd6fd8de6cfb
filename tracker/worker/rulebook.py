"""The rules the worker matches with, read again whenever their files change.

A rules folder that stops being valid (someone saved a broken file) does not stop the worker:
it keeps the last good rules and says so loudly, once per change, until the files are fixed.

Subscribers' own keywords come from the database (tracker.store.personal), not the folder: each
active subscription's words are one rule `personal:<id>`, matched alongside the folder's and
recorded for that subscription alone.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping

from tracker.matching import Matcher
from tracker.rules import Rule, RulesError, load_rules
from tracker.rules.load import rule_files
from tracker.rules.model import NO_GLOBALS
from tracker.store.personal import RULE_NAME, personal_rule_id

log = logging.getLogger("tracker.rules")


@dataclass(frozen=True)
class InForce:
    """The rules in force at one moment: the matcher (folder rules and own keywords) and the
    digest of the folder rules it holds; digest None while no good folder rules were ever read
    (what is stored then is matched again once they arrive: tracker.worker.rematch)."""

    matcher: Matcher
    digest: str | None


def rules_digest(rules: list[Rule]) -> str:
    """What the folder rules match, as a short digest: the same for the same rules wherever
    they are written (file names and lines do not count), different after any change."""
    plain = [replace(r, file=None, line=None, globals=replace(r.globals, files=()))
             for r in rules]
    return hashlib.sha256(repr(plain).encode("utf-8")).hexdigest()[:16]


class RuleBook:
    """The folder's rules, read again when their files change. `refresh` is called from every
    source's thread at once: it holds a lock while it reads, so a source waits for rules being
    loaded instead of matching with none, and the files' signature is recorded only after they
    were read (a failed read keeps the last good rules and is not retried until they change)."""

    def __init__(self, path: str | Path, cache: Path | None = None):
        self.path = Path(path)
        self.cache = cache  # large rule files read before come from here (tracker.rules.cache)
        self._lock = threading.Lock()
        self._signature: tuple | None = None  # of the files last read well
        self._failed: tuple | None = None  # of the files last found broken
        self._personal: tuple | None = None
        self.rules: list[Rule] | None = None  # the folder's last good rules
        self.digest: str | None = None  # rules_digest(self.rules)
        self.matcher: Matcher | None = None
        self.problems: list[str] = []

    def signature(self) -> tuple:
        """What changes when a rule file is added, removed or saved."""
        try:
            files = rule_files(self.path) if self.path.exists() else []
            return tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files)
        except OSError as err:  # a file removed while we looked: look again next time
            return (("error", str(err)),)

    def refresh(self, personal: Mapping[int, tuple[str, ...]] | None = None) -> InForce:
        """The rules in force now, with own keywords (`personal`, by subscription id): read
        again after a change to the files, the last good folder rules while they are broken."""
        with self._lock:
            signature = self.signature()
            own = tuple(sorted((personal or {}).items()))
            changed = False
            if signature not in (self._signature, self._failed):
                if self._load():
                    self._signature, self._failed, changed = signature, None, True
                else:
                    self._failed = signature
            if changed or own != self._personal or self.matcher is None:
                self._personal = own
                # The folder's global excludes (every folder rule carries them) hold for own
                # keywords too.
                globals_ = self.rules[0].globals if self.rules else NO_GLOBALS
                rules = list(self.rules or []) + [
                    Rule(id=personal_rule_id(sid), name=RULE_NAME, keywords=words,
                         globals=globals_) for sid, words in own]
                self.matcher = Matcher(rules)
            return InForce(self.matcher, self.digest)

    def _load(self) -> bool:
        """Read the folder again; whether its rules were good (else the last good ones stay)."""
        try:
            rules = load_rules(self.path, self.cache)
        except RulesError as err:
            self.problems = [str(p) for p in err.problems]
            state = "keeping the last good rules" if self.rules else \
                "NO RULES IN FORCE: articles are kept and matched once good rules arrive"
            log.error("rules in %s are broken, %s:\n  %s", self.path, state,
                      "\n  ".join(self.problems))
            return False
        self.rules = rules
        self.digest = rules_digest(rules) if rules else None
        self.problems = []
        if rules:
            log.info("rules loaded from %s: %d rules (%s)", self.path, len(rules), self.digest)
        else:
            log.error("NO RULES IN FORCE: %s holds no rule; articles are kept and matched once "
                      "rules arrive", self.path)
        return True
