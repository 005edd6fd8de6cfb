"""What every alert channel says of one item the same way: one line of text (`one_line`), a link
fit for href (`web_link`), the paper, date and page (`meta_line`), a government document's fields
(`fields_line`), where else the story ran (`first_line`, `also_in_line`) and the rules it fired
(`rules_line`). The email (`tracker.alerts.email.compose`) and chat channels, and the web's
feeds and pages, import these from here, never from one another: a channel never imports another
channel. (The webhook sends these fields as they are, as JSON, for its receiver to word.)

Plain text, Chinese; nothing here knows about a header, a mail or markdown.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from tracker.alerts.model import AlertItem, StoryCopy

# C0/C1 controls and the Unicode line/paragraph separators: never inside one line.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str | None) -> str:
    """Any text as one line: control characters and runs of white space become one space."""
    return " ".join(CONTROL.sub(" ", text or "").split())


def web_link(url: str | None) -> str | None:
    """A URL fit for href: http(s) only (a `javascript:` link in an article would run). Used by
    every channel that shows a link a source or the configuration gave."""
    url = one_line(url)
    parts = urlsplit(url)
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def meta_line(item: AlertItem) -> str:
    """Paper, date and page (版次) of every hit, each said even when unknown; a government
    document (with fields) has no page."""
    parts = [one_line(item.source_name or item.source_id) or "未知报纸", chinese_date(item.date)]
    if not item.fields or item.page:
        parts.append(page_label(item.page))
    return " · ".join(parts)


def fields_line(item: AlertItem) -> str:
    """A government document's 发文机关, 发文字号, 成文日期, 发布日期 as printed ("" for none)."""
    return " · ".join(f"{one_line(name)}：{one_line(value)}" for name, value in item.fields
                      if one_line(name) and one_line(value))


def chinese_date(day: str | None) -> str:
    """`2025-04-09` as 2025年4月9日; anything else as it is (or 日期不详)."""
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", one_line(day))
    return f"{m[1]}年{int(m[2])}月{int(m[3])}日" if m else (one_line(day) or "日期不详")


def page_label(page: str | None) -> str:
    """The page as a reader says it: 1 → 第1版; 第3版 要闻 stays; none → 版次不详."""
    page = one_line(page)
    if not page:
        return "版次不详"
    if re.fullmatch(r"[A-Za-z]?\d{1,3}", page):
        return f"第{page.lstrip('0') or page}版"
    return page


ALSO_IN_SHOWN = 8  # copies named in 也见于; more are counted


def copy_label(copy: StoryCopy, day: str | None = None) -> str:
    """晋中日报 第2版 (with 4月10日 when its date is not `day`): where a reader finds a copy."""
    parts = [one_line(copy.source_name or copy.source_id) or "未知报纸"]
    m = re.fullmatch(r"\d{4}-(\d{2})-(\d{2})", one_line(copy.date))
    if m and copy.date != day:
        parts.append(f"{int(m[1])}月{int(m[2])}日")
    if one_line(copy.page):
        parts.append(page_label(copy.page))
    return " ".join(parts)


def also_in_line(item: AlertItem) -> str:
    """也见于 晋中日报 第2版、科学导报 第3版 (the story's other copies), or "" when none."""
    if not item.also_in:
        return ""
    shown = "、".join(copy_label(c, item.date) for c in item.also_in[:ALSO_IN_SHOWN])
    more = len(item.also_in) - ALSO_IN_SHOWN
    return f"也见于 {shown}" + (f" 等 {len(item.also_in)} 处" if more > 0 else "")


def first_line(item: AlertItem) -> str:
    """首见于 山西日报 2025年4月9日 第1版, when another paper carried the story first."""
    if item.first is None:
        return ""
    return f"首见于 {copy_label(item.first)}" if item.first.date is None else \
        f"首见于 {one_line(item.first.source_name) or '未知报纸'} {chinese_date(item.first.date)}" + \
        (f" {page_label(item.first.page)}" if one_line(item.first.page) else "")


def rules_line(item: AlertItem) -> str:
    """主题：专业镇、标准地, when the article fired more than one of the subscriber's rules."""
    names = [one_line(name) or rule_id for rule_id, name in item.all_rules()]
    return f"主题：{'、'.join(names)}" if len(names) > 1 else ""
