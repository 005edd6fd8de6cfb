"""Pages of every shape, read from files the way a user's input is (text and HTML) and matched
end to end: every hit must carry exactly its own article's title, hits in page furniture are no
hits, and a snippet never shows another article or the furniture. All pages are made up here."""

from __future__ import annotations

from pathlib import Path

import pytest

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
MASTHEAD = "光伏日报    2025年4月9日    星期三    第1版    要闻"
NAV = "首页 | 往期 | 第3版"

KEYWORDS = ("光伏", "储能", "招商", "政府", "电商", "便民")


def _text(*blocks: str) -> str:
    return "\n\n".join(blocks) + "\n"


def _html(title: str, body: str) -> str:
    return f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head>" \
           f"<body>{body}</body></html>"


def _articles_html(tag: str) -> str:
    return "".join(f"<{tag}>{t}</{tag}>" + "".join(f"<p>{p}</p>" for p in ps) +
                   "<p><a href='/a'>查看原文</a></p>"
                   for t, ps in ((T1, (P1, P2)), (T2, (P3, P4)), (T3, (P5, P6))))


# The hits of each article, in page order: (keyword, title) per hit.
EXPECTED = [("便民", T1), ("便民", T1), ("储能", T1),
            ("光伏", T2), ("光伏", T2), ("储能", T2), ("招商", T2), ("光伏", T2), ("招商", T2),
            ("政府", T3), ("电商", T3)]
NO_T1_TITLE = [e for e in EXPECTED if e != ("便民", T1)] + [("便民", T1)]

PAGES: dict[str, tuple[str, str, list[tuple[str, str | None]]]] = {
    "text: headline, paragraphs, blank line, next headline; no dateline or byline": (
        "page.txt", "\n".join([T1, P1, P2, "", T2, P3, P4, "", T3, P5, P6]) + "\n", EXPECTED),
    "text: the same with blank lines between paragraphs too": (
        "page.txt", _text(T1, P1, P2, T2, P3, P4, T3, P5, P6), EXPECTED),
    "text: a paragraph a line, no blank lines at all": (
        "page.txt", "\n".join([T1, P1, P2, T2, P3, P4, T3, P5, P6]), EXPECTED),
    "text: masthead and navigation above; a hit in them is no hit": (
        "page.txt", _text(MASTHEAD, NAV, T1, P1, P2, T2, P3, P4, T3, P5, P6), EXPECTED),
    "text: bylines under the headlines": (
        "page.txt", _text(T1, "本报记者 林小山", P1, P2, T2, "本报通讯员 周晓光", P3, P4, T3, P5, P6),
        EXPECTED),
    "text: datelines still open articles": (
        "page.txt", _text(T1, "本报讯 " + P1, P2, T2, "本报河谷4月8日讯 " + P3, P4, T3,
                          "新华社青石5月6日电 " + P5, P6), EXPECTED),
    "text: numbered subheadings stay inside their article": (
        "page.txt", _text(T1, P1, "一、便民出行", P2, T2, P3, "（二）下一步打算", P4, T3, P5, P6),
        EXPECTED + [("便民", T1)]),
    "text: headlines with a comma inside, no datelines (a bulletin)": (
        "page.txt", "\n".join(["便民举措出台，山城办事更方便", P1, P2, "", "光伏板产业链初具规模，河谷县再添新动能",
                               P3, P4, "", T3, P5, P6]) + "\n",
        [(k, {T1: "便民举措出台，山城办事更方便", T2: "光伏板产业链初具规模，河谷县再添新动能"}.get(t, t))
            for k, t in EXPECTED]),
    "text: a broadcast transcript, each item opening with 央视网消息（…）：": (
        "page.txt", "\n".join([T1, "央视网消息（新闻联播）：" + P1, P2, "", T2, "央视网消息（新闻联播）：" + P3, P4,
                               "", T3, "央视网消息：" + P5, P6]) + "\n", EXPECTED),
    "text: headlines printed after their bodies, datelines opening each": (
        "page.txt", _text("本报讯 " + P1, P2, T1, "本报河谷4月8日讯 " + P3, P4, T2,
                          "新华社青石5月6日电 " + P5, P6, T3), EXPECTED),
    "text: traditional characters, no datelines": (
        "page.txt", _text(*(__import__("opencc").OpenCC("s2t").convert(x)
                            for x in (T1, P1, P2, T2, P3, P4, T3, P5, P6))),
        [(k, __import__("opencc").OpenCC("s2t").convert(t)) for k, t in EXPECTED]),
    "html: page heading, navigation, one <h3> per article, 查看原文 links": (
        "page.html", _html("光伏日报 第1版", f"<h1>光伏日报 第1版</h1><div>{NAV}</div>"
                                           + _articles_html("h3")), EXPECTED),
    "html: <h2> articles under a section <h1>, <h4> subheadings inside": (
        "page.html", _html("演示", "<h1>要闻</h1>"
                           f"<h2>{T1}</h2><p>{P1}</p><h4>便民服务再升级</h4><p>{P2}</p>"
                           f"<h2>{T2}</h2><p>{P3}</p><h4>下一步打算</h4><p>{P4}</p>"
                           f"<h2>{T3}</h2><p>{P5}</p><p>{P6}</p>"),
        EXPECTED[:2] + [("便民", T1)] + EXPECTED[2:]),
    "html: <article> containers, an untitled lead paragraph before them": (
        "page.html", _html("演示", "<p>编者按：本期关注基层便民服务。</p>" + "".join(
            f"<article><header><h2>{t}</h2></header>{''.join(f'<p>{p}</p>' for p in ps)}</article>"
            for t, ps in ((T1, (P1, P2)), (T2, (P3, P4)), (T3, (P5, P6))))),
        [("便民", None)] + EXPECTED),
    "html: one article, its headline only in <title> and in the text": (
        "page.html", _html(f"{T2}_光伏日报", f"<div>{MASTHEAD}</div><div>{T2}</div>"
                                           f"<p>{P3}</p><p>{P4}</p>"),
        [e for e in EXPECTED if e[1] == T2]),
    "html: one article under <h1>, <h3> lists of related links around it": (
        "page.html", _html(f"{T2}_光伏日报", f"<nav>{NAV}</nav><h3>热点推荐</h3><ul><li><a>{T1}</a></li>"
                           f"<li><a>{T3}</a></li></ul><h1>{T2}</h1><p>来源：光伏日报</p><p>{P3}</p>"
                           f"<h4>下一步</h4><p>{P4}</p><h3>相关新闻</h3><ul><li><a>光伏板价格走势</a></li>"
                           "<li><a>储能站建设提速</a></li></ul>"),
        [e for e in EXPECTED if e[1] == T2]),
    "html: <h1> and <h2> articles, each over its dateline": (
        "page.html", _html("演示", f"<h1>{T1}</h1><p>本报讯 {P1}</p><p>{P2}</p><h2>{T2}</h2>"
                                  f"<p>本报讯 {P3}</p><h3>下一步</h3><p>{P4}</p><h2>{T3}</h2><p>本报讯 {P5}</p><p>{P6}</p>"),
        EXPECTED),
    "html: no heading markup, the <title> repeats the first headline": (
        "page.html", _html(f"{T1}_光伏日报", "".join(f"<p>{x}</p>" for x in (T1, P1, P2, T2, P3, P4, T3, P5, P6))),
        EXPECTED),
    "html: no heading markup at all: the text's own cues": (
        "page.html", _html("演示", "".join(f"<p>{x}</p>" for x in (T1, P1, P2, T2, P3, P4, T3, P5, P6))),
        EXPECTED),
}


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher([Rule(id=k, name=k, keywords=(k,)) for k in KEYWORDS])


@pytest.mark.parametrize("name", sorted(PAGES))
def test_every_hit_has_its_own_articles_title(name: str, matcher: Matcher, tmp_path: Path) -> None:
    filename, page, expected = PAGES[name]
    path = tmp_path / filename
    path.write_text(page, encoding="utf-8")
    config = load_config({"INSTANCE_PATH": str(tmp_path)}, environ={})
    (document,) = read(str(path), config)
    got = [(h.keyword, found.title) for found in matcher.match(document) for h in found.occurrences]
    key = str  # titles may be None: compare as text
    assert sorted(got, key=key) == sorted(expected, key=key)


@pytest.mark.parametrize("name", sorted(PAGES))
def test_snippets_stay_in_their_article_and_off_the_furniture(name: str, matcher: Matcher,
                                                               tmp_path: Path) -> None:
    filename, page, _ = PAGES[name]
    path = tmp_path / filename
    path.write_text(page, encoding="utf-8")
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
