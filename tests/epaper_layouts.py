"""E-papers of our own in the layouts real sites use, served by the loopback `site`. Every page
and article here is written by us (made-up news); only the DOM and the URL shapes follow the
real sites, as the RSSHub scrapers cited in each builder read them. Every date in a URL or on a
page derives from the issue date, so the tests hold on any calendar day.
"""

from __future__ import annotations

import datetime
import html
from dataclasses import dataclass, field

from builders import make_pdf
from loopback import Site, respond

GBK = "text/html; charset=gbk"
UTF8 = "text/html; charset=utf-8"


@dataclass
class Paper:
    """A served issue: its source url (template or landing page), what the reader should find."""

    site: Site
    day: datetime.date
    url: str  # for sources.yaml: a template with {date…}, or a landing page
    pages: dict[str, str] = field(default_factory=dict)  # page path → its name
    titles: dict[str, str] = field(default_factory=dict)  # article path → headline as printed
    page_of: dict[str, str] = field(default_factory=dict)  # article path → its page's name
    paragraphs: dict[str, list[str]] = field(default_factory=dict)  # article path → its body
    pdf_titles: list[str] = field(default_factory=list)  # headlines printed in the page PDFs
    traps: list[str] = field(default_factory=list)  # paths that must never be requested

    def full(self, path: str) -> str:
        return self.site.base + path


def _story(n: int, topic: str) -> list[str]:
    """Two or three made-up paragraphs about `topic`."""
    return [f"本报讯 记者近日从有关部门获悉，{topic}工作取得新进展，第{n}批项目已经落地。",
            f"据介绍，今年以来各地围绕{topic}出台配套措施，企业办事时间平均缩短三成。",
            *([f"下一步，{topic}将与营商环境改善统筹推进，形成可复制的经验。"] if n % 2 else [])]


def _doc(title: str, body: str, charset: str = "utf-8") -> str:
    return (f'<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; '
            f'charset={charset}"><title>{html.escape(title)}</title></head><body>{body}</body></html>')


def _paragraphs(lines: list[str]) -> str:
    return "".join(f"<p>　　{html.escape(line)}</p>" for line in lines)


# ---------------------------------------------------------------------------- Founder classic

KJRB_TOPICS = ["大型科研仪器开放共享", "新型储能", "专业镇中试基地", "绿电交易", "标准地改革",
               "科技成果转化", "营商环境", "乡村振兴"]


def kjrb(site: Site, day: datetime.date, pages: int = 3, per_page: int | list[int] = 3,
         pdf_page: bool = True, div: tuple[str, str] = ("?div=-1", "?div=0")) -> Paper:
    """科技日报 as it was until 2023, Founder classic, after DIYgod/RSSHub
    lib/routes/stdaily/digitalpaper.js (digitalpaper.stdaily.com/http_www.kjrb.com/kjrb/html/
    YYYY-MM/DD/node_2.htm; page list `.right1 .bmname`, page name `.zi-top .banci strong`,
    articles `.zi-meat ul>li a`, article `.yinti`, `.futi`, `.tuwen .article #ozoom`).

    The index is node_2.htm (第01版), the next pages node_3.htm …; the three faults seen on the
    real 2023 index are here: the 下一版 link stands before the page list, the article list links
    content_N.htm?div=-1 while the page image links the same article as ?div=0, and the first
    headline has two parts ("开放共享 让大型科研仪器“忙”起来"). With `pdf_page`, the last page
    has no article list but its PDF (images/YYYY-MM/DD/PP/KJRBYYYYMMDDPP.pdf). `div`: the
    queries of the list's and the image's links (("", "") for plain links). `per_page`: articles
    on each page, or a list of them page by page."""
    folder = f"/kjrb/html/{day:%Y-%m}/{day:%d}/"
    paper = Paper(site, day, site.base + "/kjrb/html/{date:%Y-%m}/{date:%d}/node_2.htm")
    names = ["要闻", "综合", "新闻", "国际", "评论", "专版", "地方", "文化"]
    text_pages = pages - 1 if pdf_page else pages
    page_files = [f"node_{n + 2}.htm" for n in range(pages)]
    labels = [f"第{n + 1:02d}版：{names[n % len(names)]}" for n in range(pages)]
    bmname = "".join(f'<div><a href="{file}">{label}</a></div>' for file, label in zip(page_files, labels))
    yesterday = day - datetime.timedelta(days=1)
    count = 0
    for p in range(pages):
        file, label = page_files[p], labels[p]
        paper.pages[folder + file] = label.replace("：", " ")
        items, areas = [], []
        if p < text_pages:
            for _ in range(per_page if isinstance(per_page, int) else per_page[p]):
                count += 1
                topic = KJRB_TOPICS[(count - 1) % len(KJRB_TOPICS)]
                name = f"content_{54600 + count}.htm"
                title = "开放共享 让大型科研仪器“忙”起来" if count == 1 else f"{topic}再上新台阶（{count}）"
                kicker = "科研设施" if count == 2 else ""
                subtitle = "多地出台细则推动落地" if count == 2 else ""
                lines = _story(count, topic)
                path = folder + name
                paper.titles[path] = " ".join(x for x in (kicker, title, subtitle) if x)
                paper.page_of[path] = label.replace("：", " ")
                paper.paragraphs[path] = lines
                items.append(f'<li><a href="{name}{div[0]}"><div>{html.escape(title)}</div></a></li>')
                areas.append(f'<area shape="polygon" coords="1,2,3,4" href="{name}{div[1]}">')
                article = _doc(f"{title}--科技日报", (
                    '<div class="right-meat">'
                    f'<div class="yinti">{kicker}</div><div class="biaoti">{html.escape(title)}</div>'
                    f'<div class="futi">{subtitle}</div><div class="author">本报记者 张三</div>'
                    f'<div class="tuwen"><div class="article"><div id="ozoom">{_paragraphs(lines)}'
                    "</div></div></div></div>"))
                for query in {"", *div}:  # the server ignores the query
                    site.routes[path + query] = respond(article.encode(), UTF8)
        pdf = ""
        if p >= text_pages:
            pdf_name = f"KJRB{day:%Y%m%d}{p + 1:02d}.pdf"
            pdf_path = f"/kjrb/images/{day:%Y-%m}/{day:%d}/{p + 1:02d}/{pdf_name}"
            headlines = ["新型储能电站并网发电", "专业镇建起中试基地"]
            paper.pdf_titles = headlines
            lines = [f"科技日报 {day.year}年{day.month}月{day.day}日 {label}", "",
                     headlines[0], "本报讯（记者 王明）近日，一座百兆瓦级新型储能电站并网发电，",
                     "可为周边园区提供调峰服务，每年消纳绿电约两亿千瓦时。", "",
                     headlines[1], "本报讯（记者 李华）日前，一个省级专业镇建成中试基地，",
                     "为镇内二十余家企业提供检验检测和工艺验证服务。"]
            site.routes[pdf_path] = respond(make_pdf([lines]), "application/pdf")
            pdf = f'<a href="../../../images/{day:%Y-%m}/{day:%d}/{p + 1:02d}/{pdf_name}">PDF下载</a>'
        after = page_files[p + 1] if p + 1 < pages else page_files[0]
        page = _doc("科技日报数字报", (
            f'<div class="top">{day.year}年{day.month:02d}月{day.day:02d}日 '
            f'<a href="../../{yesterday:%Y-%m}/{yesterday:%d}/node_2.htm">往期回顾</a></div>'
            f'<div class="zi"><div class="zi-top"><a href="{after}">下一版</a>'
            f'<span class="banci"><strong>{label}</strong></span>{pdf}</div>'
            f'<div class="zi-meat"><ul>{"".join(items)}</ul></div></div>'
            f'<map name="PagePicMap">{"".join(areas)}</map>'
            f'<div class="right1"><div class="bmname">{bmname}</div></div>'))
        site.routes[folder + file] = respond(page.encode(), UTF8)
    paper.traps.append(f"/kjrb/html/{yesterday:%Y-%m}/{yesterday:%d}/node_2.htm")
    return paper


def hnrb(site: Site, day: datetime.date, forward: str = "meta") -> Paper:
    """湖南日报, Founder classic behind a landing page, after DIYgod/RSSHub lib/routes/hnrb/index.ts
    (hnrb.voc.com.cn/hnrb_epaper answers a META REFRESH "URL=html/YYYY-MM/DD/node_201.htm"; pages
    are `#pageLink` links, articles `content_N.htm?div=-1` in the second <tbody>, headline
    `.font01`, body `#ozoom`, in GBK). `forward="script"` forwards by script instead, as
    lib/routes/xmnn/epaper.ts reads 厦门日报's landing page (window.location.href = "…")."""
    folder = f"/hnrb_epaper/html/{day:%Y-%m}/{day:%d}/"
    target = f"html/{day:%Y-%m}/{day:%d}/node_201.htm"
    if forward == "meta":
        landing = f'<html><head><meta http-equiv="refresh" content="0; URL={target}"></head><body></body></html>'
    else:
        landing = f'<html><head><script>window.location.href = "{target}";</script></head><body></body></html>'
    site.routes["/hnrb_epaper/"] = respond(landing.encode(), UTF8)
    paper = Paper(site, day, site.base + "/hnrb_epaper/")
    labels = {"node_201.htm": "第01版：头版", "node_202.htm": "第02版：要闻"}
    nav = "".join(f'<tr><td><a id="pageLink" href="./{file}">{label}</a></td></tr>'
                  for file, label in labels.items())
    topics = {"node_201.htm": ["标准地出让", "园区绿电直供"], "node_202.htm": ["县域专业镇"]}
    number = 7100
    for file, label in labels.items():
        rows = []
        for topic in topics[file]:
            number += 1
            name = f"content_{number}.htm"
            title = f"{topic} 跑出加速度"
            lines = _story(number, topic)
            path = folder + name
            paper.titles[path], paper.page_of[path] = title, label.replace("：", " ")
            paper.paragraphs[path] = lines
            rows.append(f'<tr><td><a href="./{name}?div=-1">{html.escape(title)}</a></td></tr>')
            article = _doc(f"湖南日报 {title}", (
                '<table><tbody><tr><td class="font02"></td></tr>'
                f'<tr><td class="font01">{html.escape(title)}</td></tr>'
                f'<tr><td><div id="ozoom">{_paragraphs(lines)}</div></td></tr></tbody></table>'),
                "gb2312")
            for query in ("", "?div=-1"):
                site.routes[path + query] = respond(article.encode("gbk"), "text/html; charset=gb2312")
        paper.pages[folder + file] = label.replace("：", " ")
        page = _doc("湖南日报数字报", (
            f"<table><tbody>{nav}</tbody></table><table><tbody>{''.join(rows)}</tbody></table>"),
            "gb2312")
        site.routes[folder + file] = respond(page.encode("gbk"), "text/html; charset=gb2312")
    return paper


# ---------------------------------------------------------------------------- Founder "pc"

def rmrb_pc(site: Site, day: datetime.date) -> Paper:
    """人民日报 since 2024, Founder "pc", after DIYgod/RSSHub lib/routes/people/paper.ts and
    lib/routes/people/rmrb.ts (paper.people.com.cn/rmrb/pc/layout/YYYYMM/DD/node_01.html; pages
    `#list li a`, articles `.news-list a` to ../../../content/YYYYMM/DD/content_N.html, an
    editor's credit 本版责编 linked like an article; article `.article` with h3/h1/h2, `.sec`,
    `#ozoom`). A 往期 link to another date's article must not be read."""
    layout = f"/rmrb/pc/layout/{day:%Y%m}/{day:%d}/"
    content = f"/rmrb/pc/content/{day:%Y%m}/{day:%d}/"
    yesterday = day - datetime.timedelta(days=1)
    old = f"/rmrb/pc/content/{yesterday:%Y%m}/{yesterday:%d}/content_30000001.html"
    paper = Paper(site, day, site.base + "/rmrb/pc/layout/{date:%Y%m}/{date:%d}/node_01.html")
    labels = {"node_01.html": "第01版：要闻", "node_02.html": "第02版：经济"}
    nav = "".join(f'<li><a href="{file}">{label}</a></li>' for file, label in labels.items())
    number = 30040000
    for file, label in labels.items():
        items = []
        for topic in (["营商环境", "绿色电力证书"] if file == "node_01.html" else ["乡村振兴"]):
            number += 1
            name = f"content_{number}.html"
            kicker, title, subtitle = "推动高质量发展", f"{topic}迈出新步伐", "各地细化举措"
            lines = _story(number, topic)
            path = content + name
            paper.titles[path] = f"{kicker} {title} {subtitle}"
            paper.page_of[path] = label.replace("：", " ")
            paper.paragraphs[path] = lines
            items.append(f'<li><a href="../../../content/{day:%Y%m}/{day:%d}/{name}">{title}</a></li>')
            site.routes[path] = respond(_doc(f"{title}--人民日报", (
                f'<div class="article"><h3>{kicker}</h3><h1>{title}</h1><h2>{subtitle}</h2>'
                f'<div class="sec">本报记者 李四 <span class="date">《人民日报》（{day.year}年'
                f'{day.month:02d}月{day.day:02d}日 01版）</span></div>'
                f'<div id="ozoom">{_paragraphs(lines)}</div></div>')).encode(), UTF8)
        items.append(f'<li><a href="../../../content/{day:%Y%m}/{day:%d}/content_{number + 500}.html">'
                     "本版责编：王五 赵六</a></li>")
        paper.traps.append(content + f"content_{number + 500}.html")
        page = _doc("人民日报", (
            f'<div class="date">{day.year}年{day.month:02d}月{day.day:02d}日 '
            f'<a href="../../{yesterday:%Y%m}/{yesterday:%d}/node_01.html">上一期</a></div>'
            f'<div id="list"><ul>{nav}</ul></div><div class="news"><ul class="news-list">'
            f'{"".join(items)}</ul></div>'
            f'<div class="past"><a href="../../../content/{yesterday:%Y%m}/{yesterday:%d}/'
            'content_30000001.html">往期：昨日要闻</a></div>'))
        site.routes[layout + file] = respond(page.encode(), UTF8)
        paper.pages[layout + file] = label.replace("：", " ")
    site.routes[old] = respond(_doc("旧文", "<h1>昨天的文章</h1><div id=ozoom>旧</div>").encode())
    paper.traps += [old, f"/rmrb/pc/layout/{yesterday:%Y%m}/{yesterday:%d}/node_01.html"]
    return paper


def rmrb_2017(site: Site, day: datetime.date) -> Paper:
    """人民日报 2017–2024, the Founder naming nbs.D110000renmrb_PP.htm (pages) and
    nw.D110000renmrb_YYYYMMDD_N-PP.htm (articles) under rmrb/html/YYYY-MM/DD/, which the route
    DIYgod/RSSHub lib/routes/people/paper.ts reads today in its pc form; pages `#pageList ul li
    .right_title-name a`, articles `#titleList ul li a`, article `.text_c` h3/h1/h2 and `#ozoom`."""
    folder = f"/rmrb/html/{day:%Y-%m}/{day:%d}/"
    paper = Paper(site, day, site.base + "/rmrb/html/{date:%Y-%m}/{date:%d}/nbs.D110000renmrb_01.htm")
    labels = {"01": "01版：要闻", "02": "02版：经济"}
    nav = "".join(f'<li><div class="right_title-name"><a href="nbs.D110000renmrb_{pp}.htm">{label}'
                  "</a></div></li>" for pp, label in labels.items())
    for pp, label in labels.items():
        items = []
        for n, topic in enumerate(["专业镇", "整村授信"] if pp == "01" else ["招商引资"], 1):
            name = f"nw.D110000renmrb_{day:%Y%m%d}_{n}-{pp}.htm"
            title = f"{topic}激发县域活力"
            lines = _story(n + int(pp) * 10, topic)
            path = folder + name
            paper.titles[path], paper.page_of[path] = title, label.replace("：", " ")
            paper.paragraphs[path] = lines
            items.append(f'<li><a href="{name}">{title}</a></li>')
            site.routes[path] = respond(_doc(title, (
                f'<div class="text_c"><h3></h3><h1>{title}</h1><h2></h2>'
                f'<div id="ozoom"><founder-content>{_paragraphs(lines)}</founder-content></div>'
                "</div>")).encode(), UTF8)
        page = _doc("人民日报", (f'<div id="pageList"><ul>{nav}</ul></div>'
                                 f'<div id="titleList"><ul>{"".join(items)}</ul></div>'))
        site.routes[folder + f"nbs.D110000renmrb_{pp}.htm"] = respond(page.encode(), UTF8)
        paper.pages[folder + f"nbs.D110000renmrb_{pp}.htm"] = label.replace("：", " ")
    return paper


# ---------------------------------------------------------------------------- built by script

def stdaily_spa(site: Site, day: datetime.date) -> Paper:
    """科技日报 since 2024: an empty page a script fills from JSON, after DIYgod/RSSHub
    lib/routes/stdaily/digitalpaper.ts (epaper.stdaily.com/statics/technology-site/index.html,
    data POSTed from /stdailynewspaperapi/uv/article/…)."""
    shell = ('<!DOCTYPE html><html><head><meta charset="utf-8"><title>科技日报</title>'
             '<script defer src="js/chunk-vendors.js"></script><script defer src="js/app.js">'
             '</script></head><body><noscript>请启用 JavaScript</noscript><div id="app"></div>'
             "</body></html>")
    site.routes["/statics/technology-site/index.html"] = respond(shell.encode(), UTF8)
    site.routes["/statics/technology-site/js/app.js"] = respond(
        b'fetch("/stdailynewspaperapi/uv/article/period/date",{method:"POST"})',
        "application/javascript")
    return Paper(site, day, site.base + "/statics/technology-site/index.html")
