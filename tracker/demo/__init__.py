"""Demo data written by us: made-up newspaper pages in the messy shapes real ones have.

`write_pages(folder, today)` lays out a demo paper dated relative to `today` (the day the demo
instance is made, in the sources' zone): twelve weeks of issues (Monday, Wednesday, Friday and
today), so /trends and the sparklines have a shape and the welcome alert has last week's hits,
plus the hand-written pages in `pages/` (a plain-text page with an ad and a caption, an HTML
page, a traditional-character page), moved to the last three days.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

WEEKS = 12
WEEKDAYS = "一二三四五六日"
_NAME_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_LONG_DATE = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日(\s*星期[一二三四五六日天])?")
_DATELINE = re.compile(r"\d{1,2}月\d{1,2}日讯")


def chinese_date(day: date, weekday: bool = True) -> str:
    text = f"{day.year}年{day.month}月{day.day}日"
    return f"{text} 星期{WEEKDAYS[day.weekday()]}" if weekday else text


def issue_days(today: date, weeks: int = WEEKS) -> list[date]:
    """The demo paper's issue days: Monday, Wednesday and Friday of the last `weeks` weeks, and
    today, never after today."""
    first = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)
    days = [first + timedelta(days=i) for i in range((today - first).days + 1)]
    return [d for d in days if d.weekday() in (0, 2, 4) or d == today]


def _fill(text: str, seed: int) -> str:
    from tracker.demo.stories import TOWNS

    return text.format(town=TOWNS[seed % len(TOWNS)], n=12 + (seed * 7) % 80, m=2 + seed % 7)


def plan(today: date, weeks: int = WEEKS) -> dict[date, list[tuple[str, list[str]]]]:
    """Issue day → its stories (title, paragraphs), each rule's weekly count spread over the
    week's issues."""
    from tracker.demo.stories import FILLER, STORIES, WEEKLY

    days = issue_days(today, weeks)
    first = days[0] - timedelta(days=days[0].weekday())
    by_week: dict[int, list[date]] = {}
    for d in days:
        by_week.setdefault((d - first).days // 7, []).append(d)
    out: dict[date, list[tuple[str, list[str]]]] = {d: [] for d in days}
    seed = 0
    for rule, counts in WEEKLY.items():
        for week, count in enumerate(counts[-weeks:]):
            issues = by_week.get(week, [])
            for k in range(count if issues else 0):
                seed += 1
                title, body = STORIES[rule][seed % len(STORIES[rule])]
                out[issues[k % len(issues)]].append(
                    (_fill(title, seed), [_fill(p, seed + i) for i, p in enumerate(body)]))
    for i, d in enumerate(days):
        title, body = FILLER[i % len(FILLER)]
        out[d].append((_fill(title, i), [_fill(p, i) for p in body]))
    return out


def page_text(day: date, number: int, stories: list[tuple[str, list[str]]]) -> str:
    head = f"演示日报    {chinese_date(day)}    第{number}版 要闻\n\n"
    return head + "\n\n".join(f"{title}\n\n" + "\n\n".join(body) for title, body in stories) + "\n"


def write_pages(folder: Path, today: date) -> list[Path]:
    """The demo pages written into `folder` (made if missing); their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for day, stories in plan(today).items():
        # Four stories a page, from page 2 on (page 1 of a day may be the hand-written one).
        for number, start in enumerate(range(0, len(stories), 4), 2):
            path = folder / f"{day.isoformat()}_demo-daily_p{number}.txt"
            path.write_text(page_text(day, number, stories[start:start + 4]), encoding="utf-8")
            written.append(path)
    pages = sorted(resources.files("tracker.demo").joinpath("pages").iterdir(), key=lambda p: p.name)
    for back, page in zip(range(len(pages) - 1, -1, -1), pages):
        day = today - timedelta(days=back)
        text = page.read_text(encoding="utf-8")
        text = _LONG_DATE.sub(lambda m, d=day: chinese_date(d, weekday=bool(m.group(1))), text)
        before = day - timedelta(days=1)
        text = _DATELINE.sub(f"{before.month}月{before.day}日讯", text)
        path = folder / _NAME_DATE.sub(day.isoformat(), page.name)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
