"""Pages of every shape, read from files the way a user's input is (text and HTML) and matched
end to end. The pages are the golden cases tests/data/splitter/shape-*.json, each made of the
headlines and paragraphs below (made up); each file lists the hits its page gives, every hit
under its own article's title, none in page furniture (test_splitter_golden.py checks them).
Here: a snippet never shows another article or the furniture."""

from __future__ import annotations

from pathlib import Path

import pytest

from splitter_cases import cases
from tracker.config import load_config
from tracker.matching import Matcher
from tracker.rules import Rule
from tracker.sources import read
from tracker.text.normalize import simplified

T1, T2, T3 = "山城推出十项便民新举措", "河谷县光伏板产业链初具规模", "青石镇果园迎来丰收季"
P1 = "近日，山城市推出十项便民举措，涵盖出行、就医、办事等方面，市民反响热烈。"
P2 = "这些举措将于下月起陆续实施，新建的储能站也将同步投用。"
P3 = "今年以来，河谷县引进光伏板生产企业五家，储能站项目同步开工。"
P4 = "县招商局负责人表示，明年将继续围绕光伏产业招商。"
P5 = "青石镇今年种下的苹果进入采摘期，预计产量比去年增长两成。"
P6 = "镇政府组织电商企业上门收购，果农们忙着采摘、分拣、装箱。"

KEYWORDS = ("光伏", "储能", "招商", "政府", "电商", "便民")
SHAPES = {name: case for name, case in cases().items() if name.startswith("shape-")}


def _html(title: str, body: str) -> str:
    return f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head>" \
           f"<body>{body}</body></html>"


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher([Rule(id=k, name=k, keywords=(k,)) for k in KEYWORDS])


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_snippets_stay_in_their_article_and_off_the_furniture(name: str, matcher: Matcher,
                                                               tmp_path: Path) -> None:
    case = SHAPES[name]
    path = tmp_path / f"page{case.suffix}"
    path.write_text(case.page, encoding="utf-8")
    (document,) = read(str(path), load_config({"INSTANCE_PATH": str(tmp_path)}, environ={}))
    paragraphs = {T1: (P1, P2), T2: (P3, P4), T3: (P5, P6)}
    same = {"便民举措出台，山城办事更方便": T1, "光伏板产业链初具规模，河谷县再添新动能": T2}
    for found in matcher.match(document):
        for hit in found.occurrences:
            passage = simplified(hit.snippet.marked("", "").strip("…"))
            assert "日报" not in passage and "首页" not in passage and "查看原文" not in passage
            assert "记者" not in passage and "通讯员" not in passage
            for title, theirs in paragraphs.items():
                own = simplified(found.title or "")
                if title != same.get(own, own):  # nothing of another article
                    text = "".join(theirs)
                    assert not any(text[i:i + 6] in passage for i in range(len(text) - 5)), passage


def test_the_line_the_title_repeats_names_an_untitled_article():
    """A headline the text's cues cannot see (a comma in it, on a page with datelines): the HTML
    <title> repeats it, so that line names the article."""
    from tracker.splitter import split_page
    from tracker.text.html import page_layout

    headline = "河谷县光伏板产业链初具规模，储能站项目同步开工"
    markup = _html(f"{headline}_光伏日报", f"<div>{headline}</div><p>本报讯 {P3}</p><p>{P4}</p>")
    _, text, headings = page_layout(markup)
    (article,) = split_page(text, headings)
    assert article.title == headline and text[article.title_start:article.title_end] == headline
