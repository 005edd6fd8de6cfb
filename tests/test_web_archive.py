"""The archive pages (/articles, /articles/<id>, /trends), the weekly counts and the charts.

The articles are made-up text of our own."""

from __future__ import annotations

import json
import re
from datetime import date
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from tracker.store import connect, transaction
from builders import add_article
from tracker.store.articles import NewArticle
from tracker.store.trends import weekly_counts
from tracker.web import archive
from tracker.web.charts import line_chart, sparkline

TODAY = date(2025, 4, 16)  # a Wednesday: the last 12 weeks start on Mondays 1/27 … 4/14

SOURCES = {"dxrb": "东溪日报", "nhwb": "南湖晚报"}
# (key, source, issue date, page, title, text, url, {rule id: [snippets]})
ARTICLES = [
    ("a1", "dxrb", "2025-04-14", "2", "东溪镇专业镇建设再提速",
     "东溪镇今年推动专业镇转型升级。\n\n全镇园区用上绿电，新增企业三十家。",
     "https://dxrb.example.cn/2025-04-14/2/a1.html",
     {"zhuanyezhen": ["东溪镇今年推动【专业镇】转型升级。"],
      "lvdian": ["全镇园区用上【绿电】，新增企业三十家。"]}),
    ("a2", "nhwb", "2025-04-09", "A3", "<script>alert(1)</script>",
     "南湖园区企业用上绿电，<b>加粗</b>不应生效。",
     "javascript:alert(1)",
     {"lvdian": ["<img src=x onerror=alert(1)>南湖园区企业用上【绿电】，<b>加粗</b>不应生效。"]}),
    ("a3", "dxrb", "2025-04-08", "1", "西岭绿电交易首单落地",
     "西岭县完成首笔绿电交易。", "https://dxrb.example.cn/2025-04-08/1/a3.html",
     {"lvdian": ["西岭县完成首笔【绿电】交易。"]}),
    ("a4", "dxrb", "2024-10-01", "3", "去年秋天的绿电新闻",
     "秋天里也有绿电消息。", "https://dxrb.example.cn/2024-10-01/3/a4.html",
     {"lvdian": ["秋天里也有【绿电】消息。"]}),
    ("a5", "dxrb", "2025-04-10", "4", "标准地出让提速",
     "北山镇出让标准地两宗。", "https://dxrb.example.cn/2025-04-10/4/a5.html", {}),
]


def seed(db) -> dict[str, int]:
    """The sources, articles and hits above; article ids by key."""
    ids = {}
    with transaction(db):
        for sid, name in SOURCES.items():
            db["sources"].insert({"id": sid, "name": name, "type": "feed", "location": "x"})
        for key, source, day, page, title, text, url, hits in ARTICLES:
            ids[key], _ = add_article(db, NewArticle(source_id=source, title=title, text=text,
                                                     issue_date=day, page=page, url=url))
            for rule_id, snippets in hits.items():
                db["hits"].insert({
                    "article_id": ids[key], "rule_id": rule_id, "rule_name": f"旧名{rule_id}",
                    "count": len(snippets), "matched_at": f"{day}T01:00:00+00:00",
                    "snippets": json.dumps([{"keyword": "k", "field": "body", "offset": 0,
                                         "snippet": s} for s in snippets], ensure_ascii=False)})
    return ids


@pytest.fixture
def ids(app, monkeypatch):
    monkeypatch.setattr(archive, "today", lambda: TODAY)
    with app.app_context():
        from tracker.web.db import get_db

        return seed(get_db())


def page(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, url
    return response.get_data(as_text=True)


def titles(html: str) -> list[str]:
    return [unescape(t) for t in re.findall(r'<h2><a href="/articles/\d+">(.*?)</a></h2>', html)]


# Escaping and marks ----------------------------------------------------------------------

@pytest.mark.parametrize("snippet,html", [
    ("用上【绿电】了", "用上<mark>绿电</mark>了"),
    ("<i>【专业镇】</i>", "&lt;i&gt;<mark>专业镇</mark>&lt;/i&gt;"),
    ("【<b>x</b>】", "<mark>&lt;b&gt;x&lt;/b&gt;</mark>"),
    ("【绿电】与【绿证】", "<mark>绿电</mark>与<mark>绿证</mark>"),
    ("只有左括号【未闭合", "只有左括号【未闭合"),
    ("】反了【", "】反了【"),
    ("【【套】】", "【<mark>套</mark>】"),
    ('"引号"&amp', "&#34;引号&#34;&amp;amp"),
    ("", ""),
    (None, ""),
])
def test_mark_escapes_then_marks(snippet, html):
    assert str(archive.mark(snippet)) == html


@pytest.mark.parametrize("text,terms,html", [
    ("用上绿电，绿电好", ["绿电"], "用上<mark>绿电</mark>，<mark>绿电</mark>好"),
    ("<b>绿电</b>", ["绿电"], "&lt;b&gt;<mark>绿电</mark>&lt;/b&gt;"),
    ("绿电交易", ["绿电", "绿电交易"], "<mark>绿电交易</mark>"),
    ("a<b", ["<"], "a<mark>&lt;</mark>b"),
    ("没有命中", [], "没有命中"),
])
def test_highlight(text, terms, html):
    assert str(archive.highlight(text, terms)) == html


# /articles ----------------------------------------------------------------------------

def test_articles_without_query_shows_the_latest_and_invites_a_search(client, ids):
    html = page(client, "/articles")
    assert "最新文章" in html and "输入关键词或选一个主题" in html
    # Newest first by issue date; the script-looking title is text, never markup.
    assert titles(html) == ["东溪镇专业镇建设再提速", "标准地出让提速", "<script>alert(1)</script>",
                            "西岭绿电交易首单落地", "去年秋天的绿电新闻"]
    assert "<script>alert(1)</script>" not in html
    assert "全镇园区用上<mark>绿电</mark>" in html  # the snippet of its first hit (by rule id)
    assert titles(page(client, "/articles?source=nhwb")) == ["<script>alert(1)</script>"]
    assert titles(page(client, "/articles?since=2025-04-10")) == ["东溪镇专业镇建设再提速",
                                                                 "标准地出让提速"]


def test_articles_on_an_empty_archive_say_so(client):
    assert "存档里还没有文章" in page(client, "/articles")


def test_articles_without_query_lists_the_filters(client, ids):
    html = page(client, "/articles")
    # The filters: rules from the rules folder by name, newspapers by name.
    assert '<option value="lvdian">绿电</option>' in html
    assert '<option value="zhuanyezhen">专业镇</option>' in html
    assert '<option value="dxrb">东溪日报</option>' in html


@pytest.mark.parametrize("query,expected", [
    ("q=绿电", ["东溪镇专业镇建设再提速", "<script>alert(1)</script>", "西岭绿电交易首单落地",
               "去年秋天的绿电新闻"]),
    ("q=绿电&source=dxrb", ["东溪镇专业镇建设再提速", "西岭绿电交易首单落地", "去年秋天的绿电新闻"]),
    ("q=绿电&since=2025-04-09", ["东溪镇专业镇建设再提速", "<script>alert(1)</script>"]),
    ("q=绿电&since=2025-04-08&until=2025-04-13", ["<script>alert(1)</script>",
                                                  "西岭绿电交易首单落地"]),
    ("q=绿电&rule=zhuanyezhen", ["东溪镇专业镇建设再提速"]),
    ("q=标准地", ["标准地出让提速"]),
    ("q=标准地&rule=lvdian", []),
    # A rule and no query: the latest articles the rule fired in.
    ("rule=lvdian", ["东溪镇专业镇建设再提速", "<script>alert(1)</script>", "西岭绿电交易首单落地",
                     "去年秋天的绿电新闻"]),
    ("rule=lvdian&source=dxrb&since=2025-04-09", ["东溪镇专业镇建设再提速"]),
    ("rule=no-such-rule", []),
    ("source=dxrb", ["东溪镇专业镇建设再提速", "标准地出让提速", "西岭绿电交易首单落地",
                     "去年秋天的绿电新闻"]),  # neither words nor a rule: the latest of that paper
])
def test_articles_filters(client, ids, query, expected):
    assert titles(page(client, f"/articles?{query}")) == expected


def test_results_show_paper_date_page_snippet_and_themes(client, ids):
    html = page(client, "/articles?q=专业镇")
    (item,) = re.findall(r"<article>.*?</article>", html, re.S)
    assert f'href="/articles/{ids["a1"]}"' in item
    assert "东溪日报 · 2025-04-14 · 第2版" in item
    assert "东溪镇今年推动<mark>专业镇</mark>转型升级。" in item
    assert '<a href="/articles?rule=lvdian">绿电</a>' in item
    assert '<a href="/articles?rule=zhuanyezhen">专业镇</a>' in item


def test_rule_only_results_show_the_hit_snippet(client, ids):
    html = page(client, "/articles?rule=lvdian&source=dxrb&since=2025-04-09")
    assert "全镇园区用上<mark>绿电</mark>，新增企业三十家。" in html


def test_nothing_found_says_so(client, ids):
    html = page(client, "/articles?q=氢能源汽车")
    assert "没有找到相关文章" in html
    assert "<article>" not in html


def test_a_bad_date_is_reported_and_ignored(client, ids):
    html = page(client, "/articles?q=标准地&since=上周")
    assert "日期“上周”看不懂" in html
    assert titles(html) == ["标准地出让提速"]


def test_newspaper_text_is_never_markup(client, ids):
    for url in ("/articles?q=绿电", "/articles?rule=lvdian", f"/articles/{ids['a2']}"):
        html = page(client, url)
        assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<b>加粗</b>" not in html and "&lt;b&gt;加粗&lt;/b&gt;" in html
        assert "<img" not in html
        assert "<mark>绿电</mark>" in html
        # Nothing inline the CSP would refuse.
        assert "<script" not in html and " style=" not in html and "<style" not in html
    # Outside <mark>, the snippet holds no tag at all.
    html = page(client, "/articles?rule=lvdian&source=nhwb")
    (snippet,) = re.findall(r'<p class="snippet">(.*?)</p>', html)
    assert re.sub(r"</?mark>", "", snippet).count("<") == 0


# /articles/<id> -------------------------------------------------------------------------

def test_article_page(client, ids):
    html = page(client, f"/articles/{ids['a1']}")
    assert "<h1>东溪镇<mark>专业镇</mark>建设再提速</h1>" in html
    assert "东溪日报 · 2025-04-14 · 第2版" in html
    assert ('<a href="https://dxrb.example.cn/2025-04-14/2/a1.html" rel="noopener noreferrer"'
            in html)
    # Hits under the rules' names (from the rules folder), with their snippets marked.
    assert '<a href="/articles?rule=zhuanyezhen">专业镇</a>' in html
    assert '<a href="/articles?rule=lvdian">绿电</a>' in html
    assert "<li>东溪镇今年推动<mark>专业镇</mark>转型升级。</li>" in html
    # The body as paragraphs (blank lines dropped), hit words marked.
    body = html.split('<section class="article-body">')[1]
    assert re.findall(r"<p>(.*?)</p>", body) == [
        "东溪镇今年推动<mark>专业镇</mark>转型升级。",
        "全镇园区用上<mark>绿电</mark>，新增企业三十家。"]


def test_article_without_hits_or_http_link(client, ids):
    html = page(client, f"/articles/{ids['a5']}")
    assert "命中的主题" not in html
    assert "<p>北山镇出让标准地两宗。</p>" in html
    html = page(client, f"/articles/{ids['a2']}")
    assert "javascript:" not in html and "看原文" not in html


def test_a_removed_rule_keeps_its_stored_name(client, ids, app):
    with app.app_context():
        from tracker.web.db import get_db

        db = get_db()
        with transaction(db):
            db["hits"].insert({"article_id": ids["a5"], "rule_id": "gone", "rule_name": "已删主题",
                               "count": 1, "matched_at": "2025-04-10T01:00:00+00:00",
                               "snippets": json.dumps([{"snippet": "出让【标准地】两宗"}])})
    assert "已删主题" in page(client, f"/articles/{ids['a5']}")
    assert '<option value="gone">已删主题</option>' in page(client, "/articles")


@pytest.mark.parametrize("url", ["/articles/999999", "/articles/abc", "/articles/-1"])
def test_missing_article_is_404(client, ids, url):
    assert client.get(url).status_code == 404


# /trends ------------------------------------------------------------------------------

def svg_points(svg: str) -> dict[str, tuple[str, dict]]:
    """Each linked point's tooltip → (its count as shown, its link's query)."""
    out = {}
    for href, tip in re.findall(r'<a href="([^"]+)" aria-label="([^"]+)" tabindex="-1">', svg):
        href, tip = unescape(href), unescape(tip)
        assert urlsplit(href).path == "/articles"
        out[tip] = {k: v[0] for k, v in parse_qs(urlsplit(href).query).items()}
    return out


def test_trends_page(client, ids):
    html = page(client, "/trends")
    assert "2025-01-27 至 2025-04-20" in html
    overall = html.split('id="overall-title"')[1].split("</svg>")[0]
    assert '<svg class="chart line-chart"' in overall
    # Legend: the rules' names; axis: every second Monday, ending with this week's.
    assert ">绿电</text>" in overall and ">专业镇</text>" in overall
    assert re.findall(r">(\d+/\d+)</text>", overall) == ["2/3", "2/17", "3/3", "3/17", "3/31",
                                                          "4/14"]
    points = svg_points(overall)
    assert len(points) == 2 * 12
    assert points["绿电 · 4/7：2 篇"] == {"rule": "lvdian", "since": "2025-04-07",
                                         "until": "2025-04-13"}
    assert points["绿电 · 4/14：1 篇"] == {"rule": "lvdian", "since": "2025-04-14",
                                          "until": "2025-04-20"}
    assert points["专业镇 · 4/14：1 篇"]["rule"] == "zhuanyezhen"
    assert points["绿电 · 1/27：0 篇"]["since"] == "2025-01-27"
    # The table under it: totals over the 12 weeks and this week, with a sparkline.
    assert re.search(r">绿电</a></td>\s*<td><svg class=\"sparkline\".*?</svg></td>\s*"
                     r"<td class=\"num\">3</td>\s*<td class=\"num\">1</td>", html, re.S)
    # Rules with no hit these weeks are named, not charted.
    assert "这段时间没有命中的主题" in html and "标准地" in html.split("这段时间没有命中的主题")[1]
    assert "<script" not in html and " style=" not in html
    assert 'href="/static/charts.css"' in html


def test_trends_by_newspaper(client, ids):
    html = page(client, "/trends")
    by_paper = html.split("<h2>分报纸</h2>")[1]
    sections = re.findall(r'<section class="chart-block" aria-label="([^"]+)">(.*?)</section>',
                          by_paper, re.S)
    assert [name for name, _ in sections] == ["东溪日报", "南湖晚报"]  # most hits first
    dxrb, nhwb = (svg_points(svg) for _, svg in sections)
    assert dxrb["绿电 · 4/7：1 篇"] == {"rule": "lvdian", "since": "2025-04-07",
                                       "until": "2025-04-13", "source": "dxrb"}
    assert nhwb["绿电 · 4/7：1 篇"]["source"] == "nhwb"
    assert not any(tip.startswith("专业镇") for tip in nhwb)


def test_a_point_links_to_its_weeks_articles(client, ids):
    html = page(client, "/trends")
    (href,) = [h for h in re.findall(r'<a href="([^"]+)" aria-label="绿电 · 4/7：2 篇" tabindex="-1">', html)]
    assert titles(page(client, unescape(href))) == ["<script>alert(1)</script>",
                                                     "西岭绿电交易首单落地"]


@pytest.mark.parametrize("query, span, weeks, rules", [
    ("since=2025-03-31&until=2025-04-13", "2025-03-31 至 2025-04-13", 2, 1),
    ("since=2025-04-02&until=2025-04-09", "2025-03-31 至 2025-04-13", 2, 1),  # whole weeks
    ("weeks=4", "2025-03-24 至 2025-04-20", 4, 2),
    ("until=2099-01-01&weeks=1", "2025-04-14 至 2025-04-20", 1, 2),  # never past today
    ("weeks=100000", "2023-04-24 至 2025-04-20", 104, 2),  # at most two years
])
def test_trends_date_range(client, ids, query, span, weeks, rules):
    html = page(client, f"/trends?{query}")
    assert span in html
    overall = html.split('id="overall-title"')[1].split("</svg>")[0]
    assert len(svg_points(overall)) == rules * weeks  # a point a week for each rule with hits


def test_trends_explains_a_bad_date(client, ids):
    html = page(client, "/trends?since=yesterday")
    assert "开始日期“yesterday”看不懂" in html
    assert "2025-01-27 至 2025-04-20" in html  # the default range still shows


def test_trends_with_an_empty_archive(client, app, monkeypatch):
    monkeypatch.setattr(archive, "today", lambda: TODAY)
    html = page(client, "/trends")
    assert "这段时间还没有命中" in html
    assert "近 12 周还没有文章命中任何主题" in html
    assert "分报纸" not in html


# weekly_counts ------------------------------------------------------------------------

@pytest.fixture
def db(tmp_path, fresh_archive):
    return connect(fresh_archive(tmp_path / "tracker.db"))


def put(db, rows) -> None:
    """rows: (source, issue_date, first_seen, rule ids)."""
    with transaction(db):
        for sid in ("p", "q"):
            db["sources"].insert({"id": sid, "name": sid, "type": "feed", "location": "x"})
        for n, (source, issue, seen, rules) in enumerate(rows):
            aid = db["articles"].insert({"source_id": source, "issue_date": issue,
                                         "title": f"第{n}篇", "text": f"正文{n}",
                                         "content_hash": str(n),
                                         "first_seen": seen or "2000-01-01T00:00:00+00:00"}
                                        ).last_pk
            for rule in rules:
                db["hits"].insert({"article_id": aid, "rule_id": rule, "rule_name": rule,
                                   "count": 1, "snippets": "[]", "matched_at": "x"})


@pytest.mark.parametrize("rows,weeks,source,expected", [
    # Weeks start on Monday: Sunday 4/13 is in the week of 4/7, Monday 4/14 in the next.
    ([("p", "2025-04-13", None, ["a"]), ("p", "2025-04-14", None, ["a"])], 2, None,
     {"a": [1, 1]}),
    # The current week counts however far it has got; later days (a misdated issue) do not.
    ([("p", "2025-04-16", None, ["a"]), ("p", "2025-04-20", None, ["a"]),
      ("p", "2025-04-21", None, ["a"])], 1, None, {"a": [2]}),
    # Before the first Monday: left out.
    ([("p", "2025-03-30", None, ["a"]), ("p", "2025-03-31", None, ["a"])], 3, None,
     {"a": [1, 0, 0]}),
    # No issue date: when the article was first seen.
    ([("p", None, "2025-04-08T23:00:00+00:00", ["a"])], 2, None, {"a": [1, 0]}),
    # An issue date wins over first seen.
    ([("p", "2025-04-01", "2025-04-15T00:00:00+00:00", ["a"])], 2, None, {}),
    # Articles, not hits: one article with two rules counts once for each rule.
    ([("p", "2025-04-15", None, ["a", "b"]), ("p", "2025-04-15", None, ["a"])], 1, None,
     {"a": [2], "b": [1]}),
    # By source.
    ([("p", "2025-04-15", None, ["a"]), ("q", "2025-04-15", None, ["a", "b"])], 1, "q",
     {"a": [1], "b": [1]}),
    ([("p", "2025-04-15", None, ["a"])], 1, "q", {}),
    # Nothing at all.
    ([], 12, None, {}),
    ([("p", "2025-04-15", None, ["a"])], 0, None, {}),
])
def test_weekly_counts(db, rows, weeks, source, expected):
    put(db, rows)
    mondays, counts = weekly_counts(db, weeks, TODAY, source=source)
    assert counts == expected
    assert len(mondays) == weeks
    assert all(m.weekday() == 0 for m in mondays)
    if weeks:
        assert mondays[-1] == date(2025, 4, 14)
        assert [(b - a).days for a, b in zip(mondays, mondays[1:])] == [7] * (weeks - 1)


def test_weekly_counts_on_a_monday_and_a_sunday(db):
    put(db, [("p", "2025-04-14", None, ["a"])])
    assert weekly_counts(db, 1, date(2025, 4, 14)) == ([date(2025, 4, 14)], {"a": [1]})
    assert weekly_counts(db, 1, date(2025, 4, 20)) == ([date(2025, 4, 14)], {"a": [1]})
    assert weekly_counts(db, 1, date(2025, 4, 13)) == ([date(2025, 4, 7)], {})


# Charts -------------------------------------------------------------------------------

@pytest.mark.parametrize("values,points", [
    ([0, 5, 10], "2,18 40,10 78,2"),
    ([3], "40,2"),
    ([0, 0], "2,18 78,18"),
    ([4, 1], "2,2 78,14"),
])
def test_sparkline_points(values, points):
    svg = str(sparkline(values, "绿电"))
    assert svg.startswith('<svg class="sparkline" viewBox="0 0 80 20"')
    assert f'<polyline points="{points}"' in svg
    last = points.split()[-1].split(",")
    assert f'<circle cx="{last[0]}" cy="{last[1]}"' in svg


def test_sparkline_empty_and_escaped():
    svg = str(sparkline([], '<绿电> & "x"'))
    assert "<polyline" not in svg
    assert "<title>&lt;绿电&gt; &amp; &#34;x&#34;</title>" in svg
    assert 'aria-label="&lt;绿电&gt; &amp; &#34;x&#34;"' in svg


def chart_points(svg: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in re.findall(r'class="dot" cx="([\d.]+)" cy="([\d.]+)"',
                                                        svg)]


@pytest.mark.parametrize("series,top_tick", [
    ({"绿电": [0, 1, 2]}, "2"),
    ({"绿电": [0, 7, 3], "专业镇": [1, 1, 1]}, "8"),
    ({"绿电": [0, 0, 0]}, "1"),
    ({"绿电": [120, 3, 0]}, "125"),
    ({"绿电": [3000, 3, 0]}, "3000"),
])
def test_line_chart(series, top_tick):
    labels = ["4/7", "4/14", "4/21"]
    links = {name: [f"/articles?rule={name}&since={i}" for i in range(3)] for name in series}
    svg = str(line_chart(series, labels, links)).split("</svg>")[0]
    # One link per point, &-escaped, titled with its count.
    hrefs = re.findall(r'<a href="([^"]+)"', svg)
    assert hrefs == [link.replace("&", "&amp;") for name in series for link in links[name]]
    for name, values in series.items():
        for label, v in zip(labels, values):
            assert f"<title>{name} · {label}：{v} 篇</title>" in svg
    # Legend, week labels, y ticks up to a round number at least the largest count.
    for name in series:
        assert f">{name}</text>" in svg
    assert all(f">{label}</text>" in svg for label in labels)
    assert re.findall(r'<text x="28" y="[\d.]+">(\d+)</text>', svg)[-1] == top_tick
    # Points: left to right, higher counts higher up (smaller y).
    points = chart_points(svg)
    assert len(points) == 3 * len(series)
    first = list(series.values())[0]
    xs, ys = [p[0] for p in points[:3]], [p[1] for p in points[:3]]
    assert xs == sorted(xs)
    for (a, ya), (b, yb) in zip(zip(first, ys), zip(first[1:], ys[1:])):
        assert (ya > yb) == (a < b) or a == b


def test_line_chart_escapes_and_leaves_points_without_links_plain():
    svg = str(line_chart({"<b>主题</b>": [1, 2]}, ["<x>", "4/14"],
                         {"<b>主题</b>": ['/a?x="1"', ""]})).split("</svg>")[0]
    assert "<b>" not in svg and "&lt;b&gt;主题&lt;/b&gt;" in svg
    assert "<x>" not in svg and "&lt;x&gt;" in svg
    assert re.findall(r'<a href="([^"]+)"', svg) == ["/a?x=&#34;1&#34;"]
    assert svg.count('class="dot"') == 2


@pytest.mark.parametrize("n,shown", [
    (1, [0]), (6, [0, 1, 2, 3, 4, 5]), (7, [0, 2, 4, 6]), (12, [1, 3, 5, 7, 9, 11]),
    (13, [0, 3, 6, 9, 12]),
])
def test_line_chart_thins_week_labels(n, shown):
    labels = [f"w{i}" for i in range(n)]
    svg = str(line_chart({"绿电": [1] * n}, labels, {}))
    assert re.findall(r">(w\d+)</text>", svg) == [f"w{i}" for i in shown]
    assert svg.count('class="dot"') == n  # every week keeps its point


def test_line_chart_with_nothing():
    svg = str(line_chart({}, ["4/7", "4/14"], {}))
    assert "这段时间还没有命中" in svg and "<a " not in svg


def test_the_page_is_said_as_a_reader_says_it(client, ids, app):
    """A page number becomes 第2版; an e-paper's own name (第1版 要闻) is kept as it is."""
    html = page(client, f"/articles/{ids['a1']}")
    assert "第2版" in html and "第 2 版" not in html
    with app.app_context():
        from tracker.web.db import get_db

        get_db().execute("UPDATE articles SET page = '第01版：要闻' WHERE id = ?", [ids["a1"]])
        get_db().commit()
    html = page(client, f"/articles/{ids['a1']}")
    assert "第01版：要闻" in html and "第 第01版" not in html
    assert "第01版：要闻" in page(client, "/articles?q=专业镇")


def test_the_latest_never_show_a_subscribers_own_keywords(client, ids, app):
    """A personal rule's hit (someone's own keywords) is nobody else's to see."""
    with app.app_context():
        from tracker.web.db import get_db

        db = get_db()
        with transaction(db):
            for rule_id in ("personal-7", "personal:8"):
                db["hits"].insert({
                    "article_id": ids["a5"], "rule_id": rule_id, "rule_name": "我的词",
                    "count": 1, "matched_at": "2025-04-10T01:00:00+00:00",
                    "snippets": json.dumps([{"keyword": "北山镇", "field": "body", "offset": 0,
                                         "snippet": "【北山镇】出让标准地两宗。"}], ensure_ascii=False)})
    html = page(client, "/articles")
    assert "标准地出让提速" in titles(html)
    assert "<mark>北山镇</mark>" not in html and "我的词" not in html
