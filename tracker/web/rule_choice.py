"""Which rules a subscribe or manage page shows when there are too many to list.

Up to RULES_SHOWN public rules, a page lists them all, in file order, as it always did. Beyond
that nobody can pick among the checkboxes and the page's size and time grow with the rules, so
a page shows the rules chosen already (checked, first, whatever the search), then at most
RULES_SHOWN of the others: those matching the visitor's search `q` (in name, description or
keywords, folded as page text is, so 標準地 finds 标准地), most active over the last 12 weeks
first, then by name. The filter is one loop over cached search texts (tracker.web.rulecache);
nothing else is done per rule beyond those shown. What a form accepts is not decided here: a
POST is checked against every public rule.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from markupsafe import Markup

from tracker.rules import Rule
from tracker.store.trends import rule_totals, weekly_counts
from tracker.text.normalize import normalize_terms
from tracker.web.db import get_db
from tracker.web.rulecache import SEPARATOR, search_texts
from tracker import settings

WEEKS = 12
MAX_QUERY = 100  # characters of `q` looked at
MAX_QUERY_WORDS = 10


@dataclass
class RuleChoice:
    """What the rule list of a page shows."""

    rules: list[Rule]  # in the order shown
    total: int  # public rules
    limited: bool  # more rules than RULES_SHOWN: a search form, a subset shown
    query: str = ""
    matched: int = 0  # rules matching `query` (all of them without one), chosen ones included
    chosen: list[str] = field(default_factory=list)  # ids of the chosen rules shown


def rules_shown() -> int:
    """RULES_SHOWN as a positive number (a bad setting falls back to the default)."""
    try:
        return max(1, int(settings.value(current_app.config, "RULES_SHOWN")))
    except (TypeError, ValueError):
        return 50


def clean_query(text: str | None) -> str:
    """The search as typed, bounded, without control characters."""
    text = "".join(" " if c.isspace() else c for c in (text or "")[:MAX_QUERY]
                   if c.isprintable() or c.isspace())  # 　 (U+3000) separates words too
    return " ".join(text.split())


def choose_rules(rules: list[Rule], chosen: set[str], query: str) -> RuleChoice:
    """The rules a page lists: all of `rules` when they are few, else the chosen ones and the
    best matches of `query` (see the module's docstring)."""
    limit = rules_shown()
    if len(rules) <= limit:
        return RuleChoice(rules=list(rules), total=len(rules), limited=False, query=query,
                      matched=len(rules), chosen=[r.id for r in rules if r.id in chosen])
    # normalize_terms, not the per-term cache the matcher fills: visitors' words would evict it
    words = normalize_terms(query.split()[:MAX_QUERY_WORDS]) if query else []
    words = [w for w in words if w and SEPARATOR not in w]
    texts = search_texts()
    matching = [r for r in rules if all(w in texts.get(r.id, "") for w in words)] if words else rules
    totals = rule_totals(get_db(), WEEKS, _today())
    first = [r for r in rules if r.id in chosen]
    best = heapq.nsmallest(limit, (r for r in matching if r.id not in chosen),
                           key=lambda r: (-totals.get(r.id, 0), r.name, r.id))
    return RuleChoice(rules=first + best, total=len(rules), limited=True, query=query,
                  matched=len(matching), chosen=[r.id for r in first])


def sparklines(rules: list[Rule]) -> dict[str, Markup]:
    """Each shown rule's last 12 weeks as a small line: how often it fired. Reads the
    counts of these rules only."""
    from tracker.web.charts import sparkline

    ids = [r.id for r in rules]  # beyond a few hundred (all chosen), all rules: no huge IN (…)
    _, counts = weekly_counts(get_db(), WEEKS, _today(), rules=ids if len(ids) <= 500 else None)
    return {r.id: sparkline(counts.get(r.id, [0] * WEEKS), f"{r.name}：近 {WEEKS} 周每周篇数")
            for r in rules}


def _today() -> date:
    return datetime.now(ZoneInfo(str(current_app.config["TIMEZONE"]))).date()
