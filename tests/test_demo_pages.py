"""The demo paper (tracker.demo): dated from the day the demo is made, with a weekly shape,
written by us, and read by the same page splitter as real pages."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tracker.splitter import split_page
from tracker.demo import issue_days, plan, write_pages
from tracker.demo.stories import WEEKLY
from tracker.documents import Document
from tracker.matching import Matcher
from tracker.rules import load_rules
from conftest import REPO_RULES


@pytest.mark.parametrize("today", [date(2026, 12, 1), date(2025, 3, 3), date(2024, 2, 29),
                                   date(2027, 1, 3)])
def test_issues_end_today_and_go_back_twelve_weeks(today):
    days = issue_days(today)
    assert days[-1] == today and all(d <= today for d in days)
    monday = today - timedelta(days=today.weekday())
    assert days[0] == monday - timedelta(weeks=11)
    assert {d.weekday() for d in days if d != today} <= {0, 2, 4}


def test_each_theme_has_its_weekly_count_and_no_story_repeats():
    today = date(2026, 12, 2)  # a Wednesday: this week has two issues
    stories = plan(today)
    texts = [(t, "".join(body)) for day in stories.values() for t, body in day]
    assert len(texts) == sum(map(sum, WEEKLY.values())) + len(stories)  # + a filler an issue
    matcher = Matcher(load_rules(REPO_RULES))
    first = today - timedelta(days=today.weekday()) - timedelta(weeks=11)
    weekly: dict[str, list[int]] = {rule: [0] * 12 for rule in WEEKLY}
    for day, items in stories.items():
        for title, body in items:
            for hit in matcher.match(Document("x", "\n".join(body), "article", title=title)):
                weekly[hit.rule.id][(day - first).days // 7] += 1
    # What /trends will draw: each theme at least its planned count (a green-power story may
    # mention solar too, and so count for 新能源 as well), the single-word themes exactly.
    for rule, counts in WEEKLY.items():
        assert all(got >= want for got, want in zip(weekly[rule], counts)), rule
    assert weekly["zhuanyezhen"] == WEEKLY["zhuanyezhen"]
    assert weekly["biaozhundi"] == WEEKLY["biaozhundi"]


def test_amounts_read_as_a_chinese_paper_prints_them():
    # 87千万元 or 5百万元 is not how a paper writes an amount (8700万元, 500万元)
    import re

    stories = plan(date(2026, 12, 2))
    text = "".join(t + "".join(body) for day in stories.values() for t, body in day)
    assert not re.search(r"\d+[千百]万元|\d+[千百](?:人|册)", text)


def test_written_pages_split_into_their_stories_and_carry_their_dates(tmp_path):
    today = date(2026, 12, 1)
    paths = write_pages(tmp_path, today)
    assert len({p.name for p in paths}) == len(paths)
    names = sorted(p.name for p in paths)
    assert names[-1].startswith("2026-12-01") and names[0] >= "2026-09-07"
    hand = [p for p in paths if "demo-science" in p.name or "demo-review" in p.name
            or p.name.endswith("_p1.txt")]
    assert len(hand) == 3 and all(p.name[:10] >= "2026-11-29" for p in hand)
    review = next(p for p in hand if "review" in p.name).read_text(encoding="utf-8")
    assert "2026年12月1日" in review and "2025年" not in review
    for path in paths:
        if path.suffix == ".txt" and "_p1" not in path.name and "review" not in path.name:
            text = path.read_text(encoding="utf-8")
            day = date.fromisoformat(path.name[:10])
            assert f"{day.year}年{day.month}月{day.day}日" in text.splitlines()[0]
            assert all(a.title for a in split_page(text))


@pytest.mark.parametrize("name, page", [("2025-04-09_demo-daily_p3.txt", "3"),
                                        ("20250409-page02.html", "2"),
                                        ("2025-04-09_ban12.txt", "12"),
                                        ("2025-04-09_special.txt", None),
                                        ("2025-04-09_top10.txt", None)])
def test_a_dropped_file_names_its_page(tmp_path, name, page):
    """A drop folder's file name says the page (…_p3.txt): alerts and the archive show 第3版."""
    from tracker.sources.catalog import Source
    from tracker.sources.collect import SourceState, collect_folder

    (tmp_path / name).write_text("演示日报\n\n标题\n\n本报讯 正文。\n", encoding="utf-8")
    source = Source(id="demo", name="演示日报", type="folder", path=str(tmp_path))
    found = collect_folder(source, {"FOLDER_SETTLE_SECONDS": 0}, SourceState(), date(2025, 4, 9))
    (document,) = found.documents
    assert document.meta.get("page") == page and document.meta["issue_date"] == "2025-04-09"
