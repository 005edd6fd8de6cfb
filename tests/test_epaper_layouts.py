"""The layouts real e-papers use, each read from an e-paper of our own in its DOM and URL shape
on 127.0.0.1 (tests/epaper_layouts.py, each builder citing the RSSHub scraper it follows).

Faults seen on a real 2023 科技日报 index, each a case here:
- the 下一版 link stands before the page list: its articles were filed under the page "下一版";
- content_N.htm?div=-1 (the list) and ?div=0 (the page image) were fetched as two articles;
- a two-part headline ("开放共享 让大型科研仪器“忙”起来") lost its space.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections import Counter
from pathlib import Path

import pytest

import epaper_layouts as layouts
from tracker.documents import InputError
from tracker.sources.catalog import Source, check_sources, parse_sources_text
from tracker.sources.epaper import NoIssue, guess_layout, issue_documents
from tracker.splitter import page_articles

REPO = Path(__file__).resolve().parents[1]

CONFIG = {"HTTP_CONNECT_TIMEOUT": 2.0, "HTTP_READ_TIMEOUT": 2.0, "HTTP_TOTAL_TIMEOUT": 5.0}
DAYS = [datetime.date(2023, 2, 10), datetime.date(2024, 3, 1), datetime.date(2024, 12, 31)]


def source(paper: layouts.Paper, **changes) -> Source:
    return dataclasses.replace(Source(id="paper", name="数字报", type="epaper", url=paper.url),
                               **changes)


def requests_of(site, path: str) -> int:
    """How many times `path` was asked for, with any query."""
    return sum(1 for asked in site.requested if asked.split("?")[0] == path)


def articles(issue) -> dict[str, object]:
    return {d.url.split("//", 1)[1].split("/", 1)[1]: d for d in issue.documents if d.kind == "epaper"}


def by_path(paper, issue):
    return {"/" + path: d for path, d in articles(issue).items()}


# ------------------------------------------------------------------- Founder classic (科技日报 2023)

@pytest.mark.parametrize("day", DAYS)
def test_founder_pages_are_named_from_the_page_list_never_next_page(site, day):
    paper = layouts.kjrb(site, day, div=("", ""))
    issue = issue_documents(source(paper), day, CONFIG)
    found = by_path(paper, issue)
    assert found.keys() == paper.titles.keys()
    assert {path: d.meta["page"] for path, d in found.items()} == paper.page_of
    assert [page.name for page in issue.pages] == list(paper.pages.values())  # page-list order
    assert not any("下一版" in str(d.meta) for d in issue.documents)


@pytest.mark.parametrize("day", DAYS)
def test_founder_article_linked_with_div_queries_is_fetched_once(site, day):
    paper = layouts.kjrb(site, day)
    issue = issue_documents(source(paper), day, CONFIG)
    assert {path: requests_of(site, path) for path in paper.titles} == dict.fromkeys(paper.titles, 1)
    assert [d.url for d in issue.documents if d.kind == "epaper"] == [
        paper.full(path) for path in paper.titles]  # named without the query, in link order
    assert all(count == 1 for count in Counter(site.requested).values())
    assert not set(paper.traps) & set(site.requested)


def test_founder_headline_keeps_its_inner_space_and_its_kicker_and_subtitle(site):
    day = DAYS[0]
    paper = layouts.kjrb(site, day, div=("", ""))
    found = by_path(paper, issue_documents(source(paper), day, CONFIG))
    first, second = list(paper.titles)[:2]
    assert found[first].title == "开放共享 让大型科研仪器“忙”起来"
    assert found[second].title == "科研设施 新型储能再上新台阶（2） 多地出台细则推动落地"
    for path, document in found.items():
        assert document.title == paper.titles[path]
        assert document.text.split("\n") == paper.paragraphs[path]


@pytest.mark.parametrize("day", DAYS)
def test_a_page_without_article_links_is_read_from_its_pdf_and_split(site, day):
    paper = layouts.kjrb(site, day)
    issue = issue_documents(source(paper), day, CONFIG)
    [pdf] = [d for d in issue.documents if d.kind == "pdf"]
    pdf_path = f"/kjrb/images/{day:%Y-%m}/{day:%d}/03/KJRB{day:%Y%m%d}03.pdf"
    assert pdf.url == paper.full(pdf_path)
    assert pdf.meta["page"] == "第03版 新闻" and pdf.meta["issue_date"] == day.isoformat()
    assert issue.pages[-1].pdf == paper.full(pdf_path)
    split = page_articles(pdf)
    assert [a.title for a in split] == paper.pdf_titles
    assert all(a.meta["page"] == "第03版 新闻" for a in split)
    assert requests_of(site, pdf_path) == 1


# ------------------------------------------------------------------- a landing page (湖南日报)

@pytest.mark.parametrize("forward", ["meta", "script"])
@pytest.mark.parametrize("day", DAYS)
def test_a_landing_page_forwards_to_the_days_index(site, day, forward):
    paper = layouts.hnrb(site, day, forward)
    issue = issue_documents(source(paper), day, CONFIG)
    found = by_path(paper, issue)
    assert {p: d.title for p, d in found.items()} == paper.titles  # .font01, GBK, spaces kept
    assert {p: d.meta["page"] for p, d in found.items()} == paper.page_of
    assert {p: d.text.split("\n") for p, d in found.items()} == paper.paragraphs
    assert issue.index_url == paper.full(f"/hnrb_epaper/html/{day:%Y-%m}/{day:%d}/node_201.htm")
    assert all(count == 1 for count in Counter(p.split("?")[0] for p in site.requested).values())


def test_a_landing_page_forwarding_to_another_date_is_no_issue(site):
    day = DAYS[1]
    paper = layouts.hnrb(site, day)
    with pytest.raises(NoIssue, match=f"the issue of {day}"):
        issue_documents(source(paper), day + datetime.timedelta(days=1), CONFIG)
    assert not any("content_" in path for path in site.requested)


# ------------------------------------------------------------------- Founder "pc" (人民日报 2024)

@pytest.mark.parametrize("day", DAYS)
def test_founder_pc_reads_articles_from_the_content_folder_of_its_date(site, day):
    paper = layouts.rmrb_pc(site, day)
    issue = issue_documents(source(paper), day, CONFIG)
    assert issue.layout == "founder-pc"
    found = by_path(paper, issue)
    assert {p: d.title for p, d in found.items()} == paper.titles  # h3 h1 h2
    assert {p: d.meta["page"] for p, d in found.items()} == paper.page_of
    assert {p: d.text.split("\n") for p, d in found.items()} == paper.paragraphs
    assert not set(paper.traps) & set(site.requested)  # 本版责编, 上一期, 往期


# ------------------------------------------------------------------- 人民日报 2017 naming

@pytest.mark.parametrize("day", DAYS)
def test_founder_nbs_naming_is_read(site, day):
    paper = layouts.rmrb_2017(site, day)
    issue = issue_documents(source(paper), day, CONFIG)
    assert issue.layout == "founder-nbs"
    found = by_path(paper, issue)
    assert {p: d.title for p, d in found.items()} == paper.titles
    assert {p: d.meta["page"] for p, d in found.items()} == paper.page_of
    assert {p: d.text.split("\n") for p, d in found.items()} == paper.paragraphs


# ------------------------------------------------------------------- built by script (科技日报 2024)

def test_a_site_built_by_script_is_named_not_zero_articles(site):
    paper = layouts.stdaily_spa(site, DAYS[0])
    with pytest.raises(InputError) as caught:
        issue_documents(source(paper, layout="founder"), DAYS[0], CONFIG)
    assert caught.value.where == paper.url
    assert caught.value.problem.startswith("script-built: this site loads its pages by script; "
                                           "not supported")
    assert site.requested == ["/statics/technology-site/index.html"]


# ------------------------------------------------------------------- presets in sources.yaml

@pytest.mark.parametrize("url, layout", [
    ("https://e.example.cn/sxrb/html/{date:%Y-%m}/{date:%d}/node_1.htm", "founder"),
    ("https://paper.people.com.cn/rmrb/pc/layout/{date:%Y%m}/{date:%d}/node_01.html", "founder-pc"),
    ("http://paper.people.com.cn/rmrb/html/{date:%Y-%m}/{date:%d}/nbs.D110000renmrb_01.htm",
     "founder-nbs"),
    ("https://hnrb.voc.com.cn/hnrb_epaper/", "founder"),
])
def test_the_layout_is_told_from_the_urls_shape(url, layout):
    assert guess_layout(url) == layout


def test_sources_yaml_names_a_layout_and_refuses_an_unknown_one():
    text = ("sources:\n  - id: hnrb\n    name: 湖南日报\n    url: https://hnrb.voc.com.cn/hnrb_epaper/\n"
            "    layout: founder\n  - id: bad\n    name: 某报\n    url: https://x.cn/{date:%Y}/\n"
            "    layout: founder-xyz\n")
    sources, problems = parse_sources_text(text)
    assert [(s.id, s.type, s.layout) for s in sources] == [("hnrb", "epaper", "founder")]
    assert [(p.line, p.message) for p in problems] == [
        (9, "unknown layout `founder-xyz`: one of founder, founder-pc, founder-nbs")]


def test_the_example_sources_file_is_sound_and_its_layouts_match_their_urls():
    sources, problems = check_sources(REPO / "sources.example.yaml")
    assert problems == []
    epapers = [s for s in sources if s.type == "epaper"]
    assert {s.layout for s in epapers} == {"founder", "founder-pc"}
    assert all(guess_layout(s.url) == s.layout for s in epapers)
