"""A small e-paper (数字报) of our own, served by the loopback `site`: one issue of two pages.

The articles are made up for these tests. The layout follows the Founder/方正 sites:

    /sxrb/html/2025-04/09/node_1.htm   第01版：要闻   GBK, declared gb2312 (true)
        content_101.htm  Founder markup: 引题 + 主题, a hidden second copy of the body
        content_102.htm  Founder markup: 主题 + 副题 (also linked from page 2, "上接第1版")
        content_103.htm  404
        a page-image <map> linking content_101 again, 上一期/下一期 links to other dates, and
        links to another host (a page and an article) that must never be fetched
    /sxrb/html/2025-04/09/node_2.htm   第02版：专业镇  GBK, declared utf-8 (a lie)
        content_201.htm  plain h3 + h1 + #ozoom, a site-logo <h1> and a menu naming 绿电
        content_202.htm  .article-title + .article-content
    /sxrb/html/2025-04/08/node_1.htm   yesterday's issue: a trap, never to be requested
"""

from __future__ import annotations

import datetime
import html
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Callable

from loopback import Site, respond

DAY = datetime.date(2025, 4, 9)
FOLDER = "/sxrb/html/{date:%Y-%m}/{date:%d}/"
TEMPLATE = FOLDER + "node_1.htm"
NAV = "首页 | 往期回顾 | 版面导航 | 标题导航 | 绿电专题 | 专业镇专栏"
FOOTER = "山西日报社主办 版权所有 未经书面授权不得转载"

# (file, page, headline as printed, kicker, subtitle, paragraphs, markup)
ARTICLES = {
    "content_101.htm": dict(
        page=1, kicker="县域经济提质增效", title="我省新认定十二个省级专业镇", subtitle="",
        markup="founder", paragraphs=[
            "记者从省工业和信息化厅获悉，今年我省新认定十二个省级专业镇，覆盖陶瓷、铸造、小杂粮等特色产业。",
            "按照方案，每个专业镇将建设一个公共服务平台，为镇内中小企业提供检验检测、设计研发和人才培训服务。",
            "到二〇二七年，全省专业镇主导产业营业收入力争突破三千亿元。",
        ]),
    "content_102.htm": dict(
        page=1, kicker="", title="标准地出让提速 企业拿地即开工", subtitle="全省已累计出让标准地三百余宗",
        markup="founder", paragraphs=[
            "所谓标准地，是指在出让前先行完成区域评估，明确投资强度、亩均税收、能耗和环境标准的国有建设用地。",
            "企业拿到标准地后，凭承诺即可开工建设，审批时间平均压缩一半以上。",
        ]),
    "content_201.htm": dict(
        page=2, kicker="晋中零碳产业园", title="绿电直供 让园区企业用上“绿色电”", subtitle="",
        markup="plain", paragraphs=[
            "日前，晋中一处零碳产业园区的绿电直供项目正式投运，园区内二十余家企业用上了就近生产的风电和光伏电。",
            "项目负责人介绍，绿电直供线路长约十五公里，每年可输送绿电约四亿千瓦时。",
            "下一步，当地还将探索绿电交易与碳排放核算衔接，帮助出口企业应对碳关税。",
        ]),
    "content_202.htm": dict(
        page=2, kicker="", title="科技 赋能 专业镇 转型", subtitle="",
        markup="classes", paragraphs=[
            "省科技厅近日发布专项计划，支持专业镇龙头企业联合高校共建中试基地。",
            "计划明确，对新建成并通过验收的中试基地给予最高五百万元补助。",
        ]),
}
MISSING = "content_103.htm"
PAGES = {1: ("node_1.htm", "第01版：要闻"), 2: ("node_2.htm", "第02版：专业镇")}


@dataclass
class EpaperSite:
    site: Site
    day: datetime.date
    other_host: str  # the same server under another host name: never to be fetched

    @property
    def template(self) -> str:
        return self.site.base + TEMPLATE

    def url(self, name: str, day: datetime.date | None = None) -> str:
        return self.site.base + self.path(name, day)

    def path(self, name: str, day: datetime.date | None = None) -> str:
        return FOLDER.format(date=day or self.day) + name


def held(site: Site) -> Callable[[BaseHTTPRequestHandler], None]:
    """A handler that answers nothing until the test ends (bounded: 10 s at most)."""
    def handle(handler: BaseHTTPRequestHandler) -> None:
        site.release.wait(timeout=10)
    return handle


def build(site: Site, day: datetime.date = DAY, *, hang: str | None = None,
          broken_page: bool = False) -> EpaperSite:
    """Serve the issue for `day` on `site`; `hang` names an article that never answers,
    `broken_page` makes page 2 answer HTTP 500."""
    paper = EpaperSite(site, day, site.base.replace("127.0.0.1", "localhost"))
    gb2312 = "text/html; charset=gb2312"
    lying = "text/html; charset=utf-8"
    site.routes[paper.path("node_1.htm")] = respond(_page(paper, 1).encode("gbk"), gb2312)
    if broken_page:
        site.routes[paper.path("node_2.htm")] = respond(b"oops", status=500)
    else:
        site.routes[paper.path("node_2.htm")] = respond(_page(paper, 2).encode("gbk"), lying)
    for name, article in ARTICLES.items():
        charset = "gb2312" if article["page"] == 1 else "utf-8"
        body = _article(name, article, charset).encode("gbk")
        site.routes[paper.path(name)] = held(site) if name == hang else respond(
            body, gb2312 if charset == "gb2312" else lying)
    yesterday = day - datetime.timedelta(days=1)
    site.routes[paper.path("node_1.htm", yesterday)] = respond(_page(paper, 1).encode("gbk"), gb2312)
    return paper


def expected_title(article: dict) -> str:
    """The headline the reader should produce: kicker, title, subtitle, each with its inner
    spaces as printed (a two-part headline keeps the space between its parts)."""
    return " ".join(" ".join(part.split()) for part in
                    (article["kicker"], article["title"], article["subtitle"]) if part)


def _head(charset: str, title: str) -> str:
    return (f'<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">'
            f"<title>{html.escape(title)}</title></head><body>")


def _page(paper: EpaperSite, number: int) -> str:
    """A page (版面): page navigation, its own name, its article list."""
    charset = "gb2312" if number == 1 else "utf-8"
    nav = "".join(f'<tr><td><a href="{file}" id="pageLink">{label}</a></td></tr>'
                  for file, label in PAGES.values())
    other_dates = (f'<a href="{_from_folder(paper.day, -1)}">上一期</a> '
                   f'<a href="{_from_folder(paper.day, +1)}">下一期</a> '
                   f'<a href="{paper.other_host}{paper.path("node_3.htm")}">第03版：外站</a>')
    own = [(name, a) for name, a in ARTICLES.items() if a["page"] == number]
    if number == 1:
        own.append((MISSING, dict(title="一篇已被撤下的稿件")))
    else:
        own.append(("content_102.htm", dict(title="（上接第1版）标准地出让提速")))
    items = "".join(f'<li><a href="{name}">{html.escape(a["title"])}</a></li>' for name, a in own)
    image_map = '<map name="pagepicmap"><area shape="rect" coords="0,0,9,9" href="content_101.htm"></map>'
    off_host = f'<li><a href="{paper.other_host}/elsewhere/content_999.htm">外站稿件：绿电交易</a></li>'
    return (_head(charset, "山西日报数字报") + f"<div class=nav>{NAV}</div>"
            f"<div class=date>{_long_date(paper.day)} {other_dates}</div>"
            f"<table class=pages>{nav}</table>"
            f"<div class=current>{PAGES[number][1]}</div>"
            f"{image_map if number == 1 else ''}"
            f'<ul class="news-list">{items}{off_host}'
            '<li><a href="javascript:void(0)">打印本版</a></li></ul>'
            f"<div class=footer>{FOOTER}</div></body></html>")


def _from_folder(day: datetime.date, days: int) -> str:
    """The link, relative to `day`'s folder, to the index of the issue `days` away, as the
    site prints it (up two levels, so a month boundary is crossed the way the site does)."""
    other = day + datetime.timedelta(days=days)
    return f"../../{other:%Y-%m}/{other:%d}/node_1.htm"


def _long_date(day: datetime.date) -> str:
    """The masthead date of `day`: 2025年4月9日 星期三."""
    return f"{day.year}年{day.month}月{day.day}日 星期{'一二三四五六日'[day.weekday()]}"


def _article(name: str, article: dict, charset: str) -> str:
    paragraphs = "".join(f"<p>　　{html.escape(p)}</p>" for p in article["paragraphs"])
    nav = (f"<div class=nav>{NAV}</div>"
           '<div class=pager><a href="content_102.htm">上一篇</a> <a href="node_1.htm">返回版面</a></div>')
    if article["markup"] == "founder":
        kicker = f"<h3><founder-introtitle>{article['kicker']}</founder-introtitle></h3>"
        subtitle = f"<h2><founder-subtitle>{article['subtitle']}</founder-subtitle></h2>"
        body = (f"{kicker}<h1><founder-title>{article['title']}</founder-title></h1>{subtitle}"
                f"<div id=ozoom><founder-content>{paragraphs}</founder-content></div>"
                # the People's Daily kind of page: a hidden second copy of the body
                f'<div style="display: none"><founder-content>{paragraphs}</founder-content></div>')
    elif article["markup"] == "plain":
        body = ('<header><h1 class="logo"><a href="/">山西日报</a></h1></header>'
                f"<h3>{article['kicker']}</h3>\n<h1>{article['title']}</h1>\n"
                f"<div id=ozoom>{paragraphs}</div>")
    else:
        body = (f"<div class=article-title>{article['title']}</div>"
                f"<div class=article-content>{paragraphs}</div>")
    return (_head(charset, f"{article['title']} - 山西日报数字报") + nav + body +
            f"<div class=footer>{FOOTER}</div></body></html>")
