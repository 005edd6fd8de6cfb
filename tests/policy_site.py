"""A small government portal of our own, served by the loopback `site`: a 政策文件 栏目 whose list
page and its next page link policy documents, for the `policy` source type.

The shapes follow what public scrapers read on real portals; the pages and their words are ours:

- the list: `ul > li` items, each an `h4 > a` to `content_N.htm` with its date beside it, as
  DIYgod/RSSHub `lib/routes/gov/zhengce/zhengceku.ts` (`.news_box .list li h4 a`) and
  `lib/routes/gov/zhengce/index.ts` (`h4 a`, links `…/zhengce/…/content_N.htm`) read gov.cn;
  the next list pages are `index_1.html`, `index_2.html`… (or written by a `createPageHTML(…)`
  script, as TRS-built portals do);
- a document: the gov.cn 政策文件 table (`table.bd1`: 索引号, 主题分类, 发文机关, 成文日期,
  标题, 发文字号, 发布日期, label and value in neighbouring cells) above the text in
  `#UCAP-CONTENT`, as `lib/routes/gov/zhengce/index.ts` reads it; a 通知公告 page of a
  provincial department (`lib/routes/gov/anhui/kjt.ts`: the text in `.wzcon`, the date in a
  meta tag) with no such table.

    /zwgk/zcwj/index.html      list page 1: content_3, content_2 (gov.cn shape), t20250408_7
                               (a 通知公告 page), content_404 (gone), a document on another host
                               (never fetched), pager links to index_1.html
    /zwgk/zcwj/index_1.html    list page 2: content_1, and content_2 again
    /zwgk/scripted/index.html  a list whose pager a script writes: createPageHTML(3, 0, …)
    `layout = "new"`           the site changes: list links become detail.jsp?id=N (no match)
"""

from __future__ import annotations

import datetime
import html
from dataclasses import dataclass

from loopback import Site, respond

DAY = datetime.date(2025, 4, 10)
LIST = "/zwgk/zcwj/index.html"
FOLDER = "/zwgk/zcwj/"
NAV = "首页 | 政务公开 | 政策文件 | 通知公告 | 政策解读 | 互动交流"
FOOTER = "示例省人民政府办公厅主办 网站标识码 0000000000 版权所有"

# file → (title, 发文机关, 发文字号, 成文日期, 发布日期, paragraphs); None fields: no table
DOCUMENTS = {
    "content_3.htm": dict(
        title="示例省人民政府办公厅关于推进专业镇高质量发展的若干措施",
        agency="示例省人民政府办公厅", number="示政办发〔2025〕12号", written="2025年04月03日",
        published="2025年04月10日", paragraphs=[
            "各市人民政府，省人民政府各委、厅，各直属机构：",
            "为加快培育壮大专业镇，推动县域经济高质量发展，经省人民政府同意，现提出如下措施。",
            "一、每个专业镇建设一个公共服务平台，为镇内中小企业提供检验检测、设计研发和人才培训服务。",
            "二、对新认定的省级专业镇，省级财政给予一次性奖励五百万元，用于公共服务平台建设。",
        ]),
    "content_2.htm": dict(
        title="示例省人民政府关于印发工业用地标准地出让实施办法的通知",
        agency="示例省人民政府", number="示政发〔2025〕5号", written="2025年03月28日",
        published="2025年04月02日", paragraphs=[
            "各市人民政府，省人民政府各委、厅：",
            "现将《示例省工业用地标准地出让实施办法》印发给你们，请认真贯彻执行。",
            "标准地出让前，由所在地政府先行完成区域评估，明确投资强度、亩均税收、能耗和环境标准。",
            "企业取得标准地后实行承诺制审批，拿地即可开工建设。",
        ]),
    "content_1.htm": dict(
        title="示例省人民政府办公厅关于优化营商环境的实施意见",
        agency="示例省人民政府办公厅", number="示政办发〔2025〕3号", written="2025年03月01日",
        published="2025年03月05日", paragraphs=[
            "各市人民政府，省直各单位：",
            "为持续优化营商环境，激发市场主体活力，提出如下实施意见。",
            "推行涉企事项一网通办，企业开办时间压缩至一个工作日以内。",
        ]),
    "t20250408_7.html": dict(
        title="关于组织申报二〇二五年度绿电直供试点项目的通知", agency=None, number=None,
        written=None, published=None, meta_date="2025-04-08 16:20", paragraphs=[
            "各有关单位：",
            "为推动新能源就近消纳，现组织申报本年度绿电直供试点项目，有关事项通知如下。",
            "申报主体应为省内注册的工业园区或重点用能企业，项目应具备绿电直供线路建设条件。",
            "请于五月三十日前将申报材料报送省能源局新能源处。",
        ]),
}
GONE = "content_404.htm"


@dataclass
class PolicySite:
    site: Site
    layout: str = "old"
    other_host: str = ""

    @property
    def url(self) -> str:
        return self.site.base + LIST

    def path(self, name: str) -> str:
        return FOLDER + name


def _head(title: str, extra: str = "") -> str:
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"{extra}</head><body><div class=header>{NAV}</div>")


def _item(name: str, title: str, date: str) -> str:
    return (f'<li><h4><a href="{name}" target="_blank">{html.escape(title)}</a>'
            f'<span class="date">{date}</span></h4></li>')


def list_page(portal: PolicySite, number: int) -> str:
    if portal.layout == "new":  # the portal was rebuilt: links no pattern of ours matches
        items = "".join(f'<li><a href="/detail.jsp?id={n}">{html.escape(d["title"])}</a></li>'
                        for n, d in enumerate(DOCUMENTS.values()))
        return _head("政策文件") + f"<div class=list><ul>{items}</ul></div></body></html>"
    if number == 0:
        names = ["content_3.htm", "content_2.htm", "t20250408_7.html", GONE]
        items = "".join(_item(n, DOCUMENTS[n]["title"] if n in DOCUMENTS else "一份已撤下的文件",
                              "2025-04-10") for n in names)
        items += _item(f"{portal.other_host}{FOLDER}content_9.htm", "外站文件：绿电交易", "2025-04-09")
        pager = '<div class=page><span>1</span> <a href="index_1.html">2</a> <a href="index_1.html">下一页</a></div>'
    else:
        items = "".join(_item(n, DOCUMENTS[n]["title"], "2025-03-05")
                        for n in ("content_1.htm", "content_2.htm"))
        pager = '<div class=page><a href="index.html">上一页</a> <span>2</span></div>'
    return (_head("政策文件_示例省人民政府门户网站") + "<div class=channel_tab>政策文件</div>"
            f'<div class="news_box"><div class="list"><ul>{items}</ul></div></div>{pager}'
            f"<div class=footer>{FOOTER}</div></body></html>")


def document_page(name: str) -> str:
    d = DOCUMENTS[name]
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in d["paragraphs"])
    share = "<div class=share>分享到：微信 微博 打印本页 关闭窗口</div>"
    if d["agency"] is None:  # a 通知公告 page: no table, the date in a meta tag
        meta = f'<meta name="PubDate" content="{d["meta_date"]}">'
        return (_head(d["title"], meta) + f'<div class="wztit">{html.escape(d["title"])}</div>'
                f'<div class="wzcon">{paragraphs}</div>{share}<div class=footer>{FOOTER}</div></body></html>')
    table = (
        '<table class="bd1"><tbody>'
        f"<tr><td>索 引 号：</td><td>000014349/2025-00{name[8]}</td><td>主题分类：</td><td>工业、交通\\其他</td></tr>"
        f"<tr><td>发文机关：</td><td>{d['agency']}</td><td>成文日期：</td><td>{d['written']}</td></tr>"
        f'<tr><td>标　　题：</td><td colspan="3">{html.escape(d["title"])}</td></tr>'
        f"<tr><td>发文字号：</td><td>{d['number']}</td><td>发布日期：</td><td>{d['published']}</td></tr>"
        "</tbody></table>")
    return (_head(f"{d['title']}_政策文件_示例省人民政府门户网站") + table +
            f'<div class="article"><h1 class="share-title">{html.escape(d["title"])}</h1>'
            f'<div id="UCAP-CONTENT">{paragraphs}</div></div>{share}'
            f"<div class=footer>{FOOTER}</div></body></html>")


def scripted_list() -> str:
    """A list whose pager a script writes (no pager links in the markup)."""
    items = _item("content_3.htm", DOCUMENTS["content_3.htm"]["title"], "2025-04-10")
    return (_head("通知公告") + f"<ul>{items}</ul>"
            '<script>createPageHTML(3, 0, "index", "html");</script></body></html>')


def build(site: Site) -> PolicySite:
    """Serve the portal on `site`; change `layout` to "new" to rebuild it under the tracker."""
    portal = PolicySite(site, other_host=site.base.replace("127.0.0.1", "localhost"))

    def dynamic(number: int):
        def handle(handler) -> None:
            respond(list_page(portal, number).encode("utf-8"))(handler)
        return handle

    site.routes[LIST] = dynamic(0)
    site.routes[portal.path("index_1.html")] = dynamic(1)
    for name in DOCUMENTS:
        site.routes[portal.path(name)] = respond(document_page(name).encode("utf-8"))
    site.routes["/zwgk/scripted/index.html"] = respond(scripted_list().encode("utf-8"))
    site.routes["/zwgk/scripted/content_3.htm"] = respond(document_page("content_3.htm").encode("utf-8"))
    return portal
