"""How often each rule fires in the papers: articles with a hit per rule, week by week.

An article's date is the one search filters on (articles.day: its issue date, else when it
was published, else when it was first seen), so a week's count and the search behind its link
(`/articles?rule=…&since=<Monday>&until=<Sunday>`) agree. The counts come from `hit_days`, kept
by triggers on `hits` (one row per day, rule and source): a chart reads a few hundred rows,
whatever the size of the archive.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Sequence

from sqlite_utils import Database



def week_start(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


def weekly_counts(db: Database, weeks: int, today: date, source: str | None = None,
                  rules: Sequence[str] | None = None) -> tuple[list[date], dict[str, list[int]]]:
    """The Mondays of the last `weeks` weeks (the current one, however far it has got, last) and
    for each rule with a hit in them, the number of articles it fired in, one count per week.
    `source`: only articles of that source; `rules`: only these rules (a page showing a few of
    many). Rules with no hit in the period are left out."""
    if weeks < 1 or rules is not None and not rules:
        return [], {}
    first = week_start(today) - timedelta(weeks=weeks - 1)
    mondays = [first + timedelta(weeks=i) for i in range(weeks)]
    last = mondays[-1] + timedelta(days=6)
    where, params = ["day BETWEEN ? AND ?"], [first.isoformat(), last.isoformat()]
    if source:
        where.append("source_id = ?")
        params.append(source)
    if rules is not None:
        where.append(f"rule_id IN ({', '.join('?' * len(rules))})")
        params.extend(rules)
    sql = ("SELECT rule_id, day, SUM(articles) FROM hit_days WHERE " + " AND ".join(where) +
           " GROUP BY rule_id, day ORDER BY rule_id")
    counts: dict[str, list[int]] = {}
    for rule_id, day, n in db.execute(sql, params).fetchall():
        try:
            index = (date.fromisoformat(day) - first).days // 7
        except (TypeError, ValueError):  # a malformed date string that sorted into the range
            continue
        if 0 <= index < weeks:
            counts.setdefault(rule_id, [0] * weeks)[index] += n
    return mondays, counts


def rule_totals(db: Database, weeks: int, today: date) -> dict[str, int]:
    """Articles each rule fired in over the same `weeks` weeks as weekly_counts (rules without a
    hit left out): one row per rule, summed by SQLite, for ordering rules by how active they
    are without drawing each one."""
    if weeks < 1:
        return {}
    first = week_start(today) - timedelta(weeks=weeks - 1)
    last = week_start(today) + timedelta(days=6)
    return dict(db.execute("SELECT rule_id, SUM(articles) FROM hit_days WHERE day BETWEEN ? AND ? "
                           "GROUP BY rule_id", [first.isoformat(), last.isoformat()]).fetchall())


def weekly_story_counts(db: Database, weeks: int, today: date, window_days: int = 14
                        ) -> tuple[list[date], dict[str, list[int]]]:
    """As weekly_counts, but counting stories, not copies: a story reprinted by five papers is
    one, in the week of its first appearance, for each rule that fired in any of its copies (an
    article not in a story yet counts as a story of its own). Reads the hits of the period and
    of `window_days` before it (a copy may come that long after the first), not a summary."""
    if weeks < 1:
        return [], {}
    first = week_start(today) - timedelta(weeks=weeks - 1)
    mondays = [first + timedelta(weeks=i) for i in range(weeks)]
    last = mondays[-1] + timedelta(days=6)
    rows = db.execute(
        "SELECT h.rule_id, COALESCE(s.day, a.day) AS first_day, "
        "count(DISTINCT COALESCE(a.story_id, -a.id)) FROM articles a "
        "JOIN hits h ON h.article_id = a.id LEFT JOIN stories s ON s.id = a.story_id "
        "WHERE a.day BETWEEN ? AND ? GROUP BY h.rule_id, first_day",
        [first.isoformat(), (last + timedelta(days=window_days)).isoformat()]).fetchall()
    counts: dict[str, list[int]] = {}
    for rule_id, day, n in rows:
        try:
            index = (date.fromisoformat(day) - first).days // 7
        except (TypeError, ValueError):
            continue
        if 0 <= index < weeks:
            counts.setdefault(rule_id, [0] * weeks)[index] += n
    return mondays, counts
