"""The rules editor's preview: what the edited rules would match in the last PREVIEW_DAYS of the
archive, against the saved ones — per rule, the articles it would newly match and those it would
stop matching. Global excludes count: an edit of them previews every rule they change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from tracker.documents import Document
from tracker.matching import Matcher
from tracker.rules import GlobalExclude, Rule
from tracker.rules.load import merge_globals, with_globals
from tracker.store.articles import newest_article_texts
from tracker.web.db import get_db

PREVIEW_DAYS = 30
PREVIEW_CAP = 2000  # articles matched by a preview, the newest first
PREVIEW_SHOWN = 100  # titles listed per rule and side


@dataclass
class RuleChange:
    rule_id: str
    name: str
    before: int
    after: int
    gained: list[dict]
    lost: list[dict]
    gained_count: int
    lost_count: int
    status: str  # "new", "removed", "changed"


@dataclass
class Preview:
    articles: int
    capped: bool
    since: str
    changes: list[RuleChange]
    globals_before: GlobalExclude | None = None  # set when the edit changes the global excludes
    globals_after: GlobalExclude | None = None


def preview(old_rules: list[Rule], new_rules: list[Rule],
            own: set[str] | None = None) -> Preview:
    """Old against new over the archive. With `own`, other rules are listed only if they
    change (an edit of the global excludes runs every rule)."""
    since = (date.today() - timedelta(days=PREVIEW_DAYS)).isoformat()
    rows = newest_article_texts(get_db(), since, PREVIEW_CAP + 1)
    capped = len(rows) > PREVIEW_CAP
    rows = rows[:PREVIEW_CAP]
    documents = [Document(f"article:{i}", text or "", "article", title=title or None,
                          source=source, meta={"article_id": i})
                 for i, title, text, source, _ in rows]

    def fired(rules: list[Rule]) -> dict[str, set[int]]:
        out: dict[str, set[int]] = {rule.id: set() for rule in rules}
        if rules and documents:
            for index, matches in enumerate(Matcher(rules).match_many(documents)):
                for found in matches:
                    out[found.rule.id].add(index)
        return out

    before, after = fired(old_rules), fired(new_rules)
    names = {rule.id: rule.name for rule in old_rules} | {rule.id: rule.name for rule in new_rules}

    def listed(indexes: set[int]) -> list[dict]:
        return [{"id": rows[i][0], "title": rows[i][1] or "（无标题）", "source": rows[i][3],
                 "date": rows[i][4]} for i in sorted(indexes)[:PREVIEW_SHOWN]]

    changes = []
    for rule_id in dict.fromkeys([*after, *before]):
        old, new = before.get(rule_id, set()), after.get(rule_id, set())
        if own is not None and rule_id not in own and old == new:
            continue
        status = "new" if rule_id not in before else "removed" if rule_id not in after \
            else "changed"
        changes.append(RuleChange(rule_id, names[rule_id], len(old), len(new),
                                  listed(new - old), listed(old - new), len(new - old),
                                  len(old - new), status))
    return Preview(len(rows), capped, since, changes)


def preview_edit(old_own: list[Rule], new_own: list[Rule], other_rules: list[Rule],
                 other_globals: list[GlobalExclude], old_globals: GlobalExclude,
                 new_globals: GlobalExclude) -> Preview:
    """The preview of one file's edit: its rules before and after (`old_own`, `new_own`), the
    folder's other rules and global excludes, and the file's own global excludes before and
    after."""
    before = merge_globals([*other_globals, old_globals])
    after = merge_globals([*other_globals, new_globals])
    if (before.terms, before.regex) == (after.terms, after.regex):
        return preview(with_globals(old_own, before), with_globals(new_own, after))
    result = preview(with_globals(other_rules + old_own, before),
                     with_globals(other_rules + new_own, after),
                     own={r.id for r in old_own + new_own})
    result.globals_before, result.globals_after = before, after
    return result
