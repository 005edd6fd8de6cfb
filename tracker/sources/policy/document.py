"""One policy document page: its title, date and main text, and the fields a government page
prints above the text.

The main text comes through trafilatura (its date through htmldate, which it brings), which
drops menus, share bars and footers on pages whose markup we have never seen; a site's own
selectors are not needed. The fields are read from the table gov.cn and most provincial
portals print above a 政策文件 (`table.bd1` there: 索引号, 主题分类, 发文机关, 成文日期, 标题,
发文字号, 发布日期, each label in a cell and its value in the next cell or after the colon):
DIYgod/RSSHub `lib/routes/gov/zhengce/index.ts` reads the same cells. The date an article is
filed under is its 发布日期, else 成文日期, else the page's date as htmldate finds it.
"""

from __future__ import annotations

import datetime
import logging
import re
from dataclasses import dataclass, field

from tracker.sources.epaper.links import parse, squeeze

# The fields kept, in the order alerts show them.
FIELD_NAMES = ("发文机关", "发文字号", "成文日期", "发布日期")
LABEL = re.compile(r"^\s*(发\s*文\s*机\s*关|发\s*文\s*字\s*号|成\s*文\s*日\s*期|发\s*布\s*日\s*期)"
                   r"\s*[:：]?\s*(.*)$", re.S)
CHINESE_DATE = re.compile(r"(\d{4})\s*[年\-./]\s*(\d{1,2})\s*[月\-./]\s*(\d{1,2})")
MAX_FIELD = 80  # characters: a longer "value" is a paragraph that happens to start with a label
LABEL_CELLS = "td, th, li, span, p, div, dt, dd"


@dataclass(frozen=True)
class PolicyPage:
    title: str | None
    text: str
    date: datetime.date | None  # 发布日期, else 成文日期, else the page's own date
    fields: dict[str, str] = field(default_factory=dict)  # FIELD_NAMES found, as printed


def read_date(text: str | None) -> datetime.date | None:
    """A date as government pages print it: 2025年04月10日, 2025-04-10, 2025.4.10."""
    match = CHINESE_DATE.search(text or "")
    if not match:
        return None
    try:
        return datetime.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def gov_fields(html: str) -> dict[str, str]:
    """发文机关, 发文字号, 成文日期 and 发布日期 as the page prints them (only those it has)."""
    tree = parse(html)
    found: dict[str, str] = {}
    for node in tree.css(LABEL_CELLS):
        text = squeeze(node.text(deep=True))
        match = LABEL.match(text)
        if not match or len(text) > MAX_FIELD + 8:
            continue
        name = re.sub(r"\s+", "", match.group(1))
        value = match.group(2).strip()
        if not value:  # the value is in the next cell
            sibling = node.next
            while sibling is not None and sibling.tag in ("-text", "-comment") \
                    and not (sibling.text_content or "").strip():
                sibling = sibling.next
            value = squeeze(sibling.text(deep=True)) if sibling is not None else ""
        if value and len(value) <= MAX_FIELD and not LABEL.match(value):
            found.setdefault(name, value)
    return {name: found[name] for name in FIELD_NAMES if name in found}


def read_policy_page(html: str, url: str) -> PolicyPage:
    """Title, date, main text and fields of a policy document page ("" text when trafilatura
    finds no main text)."""
    import trafilatura

    logging.getLogger("trafilatura").setLevel(logging.ERROR)  # it warns for every empty page
    fields = gov_fields(html)
    extracted = trafilatura.bare_extraction(html, url=url, with_metadata=True,
                                            include_tables=False, include_comments=False,
                                            favor_precision=True)
    data = extracted.as_dict() if extracted is not None else {}
    text = (data.get("text") or "").strip()
    title = squeeze(data.get("title") or "") or None
    date = read_date(fields.get("发布日期")) or read_date(fields.get("成文日期")) \
        or read_date(data.get("date"))
    return PolicyPage(title, text, date, fields)
