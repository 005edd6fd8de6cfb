"""An e-paper (数字报) issue: one date's pages (版面) and their articles, one Document per article.

Layout expected (Founder/方正 and look-alikes):
    index     `source.url` with the date, e.g. …/html/2025-04/09/node_1.htm: page 1 (第1版)
    pages     links on the index matching `source.pages` (node_2.htm …) in the index's folder or
              below (so 上一期/往期 links to other dates are not followed)
    articles  links on each page matching `source.articles` (content_12345.htm, content_1_2.htm)
No link off the index's host is followed (a page whose redirect leaves it is discarded), and
every page is decoded from its bytes (`decode`), never by its declared charset alone.

Heuristics, in order; the first that yields wins:
    page name  its link text on the index ("第1版：要闻" → "第1版 要闻"), else the first
               "第N版 名称" on the page itself outside a link
    headline   <founder-title>, .article-title, #title, the first <h1> not in a link, nav or header
               (a logo), else the article's link text; a kicker (引题: <founder-introtitle>, or an
               h2-h4 right before) and a subtitle (副题: <founder-subtitle>, or an h2-h4 right
               after) are joined to it by spaces, in print order
    body       the first visible one of <founder-content>, #ozoom, .article-content,
               #articleContent, #content (a hidden duplicate copy is skipped)

An article linked from several pages is read once, for the first page. Order: page order, then
link order. Bounded by EPAPER_MAX_PAGES (40), EPAPER_MAX_ARTICLES (400) and EPAPER_DEADLINE
(120 s) for the whole issue; what is cut off is listed in `Issue.problems`.
"""

from __future__ import annotations

import datetime
import re
import time
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping
from urllib.parse import urldefrag, urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from tracker.documents import Document, InputError
from tracker.sources.catalog import Source
from tracker.sources.http import fetch, setting
from tracker.text.encoding import decode
from tracker.text.html import TooDeep, check_nesting, visible_text

DEFAULT_DEADLINE = 120.0
DEFAULT_MAX_PAGES = 40
DEFAULT_MAX_ARTICLES = 400

TITLE_SELECTORS = ("founder-title", ".article-title", "#title", "h1")
BODY_SELECTORS = ("founder-content", "#ozoom", ".article-content", "#articleContent", "#content")
HEADING_TAGS = frozenset({"h2", "h3", "h4"})
NOT_A_HEADLINE = frozenset({"a", "nav", "header"})  # an <h1> in these is a logo or a menu
CJK = "\u3001-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
CJK_GAP = re.compile(rf"(?<=[{CJK}])\s+(?=[{CJK}])")
HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
PAGE_NUMBER = re.compile(r"(?<![\dA-Za-z])(第?\s*[A-Za-z]?\d{1,3}\s*版)")
PAGE_HEADING = re.compile(PAGE_NUMBER.pattern + r"[^\S\n]*[:：]?[^\S\n]*([^\s\d:：|｜]{0,12})")
SKIPPED_HREF = re.compile(r"^\s*(?:javascript|mailto|tel|data):", re.I)
NOT_PUBLISHED = {404, 410}


class NoIssue(Exception):
    """The index for that date does not exist (404/410, or the site sent us to another page):
    not published (yet). Callers treat it as "nothing new", not as an error."""


@dataclass
class Issue:
    """The articles of one issue, and what could not be read as "url: problem" lines (like
    str(InputError)): an article answering 404, a cap or the deadline that cut the issue short."""

    documents: list[Document] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class _OutOfTime(Exception):
    """The issue's deadline passed before a fetch could start."""


def issue_dates(source: Source, today: datetime.date) -> list[datetime.date]:
    """Today and the `source.days - 1` days before it, newest first."""
    return [today - datetime.timedelta(days=n) for n in range(max(1, source.days))]


def squeeze(text: str) -> str:
    """Whitespace collapsed to single spaces, and removed between two Chinese characters."""
    return CJK_GAP.sub("", " ".join(text.split()))


def page_label(text: str) -> str:
    """A page name as printed, tidied: "第1版：要闻" → "第1版 要闻", "02版  综合 新闻" → "02版 综合新闻"."""
    text = squeeze(text)
    match = PAGE_NUMBER.match(text)
    if not match:
        return text
    rest = text[match.end():].lstrip(" :：")
    return f"{''.join(match.group(1).split())} {rest}".strip()


def page_links(html: str, base_url: str, pattern: str) -> list[tuple[str, str]]:
    """(absolute URL, page label) for each page link in `html` matching `pattern`, in order, once
    each; only pages on the host of `base_url` and in its folder or below."""
    folder = urljoin(base_url, ".")
    return [(url, page_label(text)) for url, text in _links(html, base_url, pattern)
            if url.startswith(folder)]


def article_links(html: str, base_url: str, pattern: str) -> list[tuple[str, str]]:
    """(absolute URL, link text) for each article link in `html` matching `pattern`, in order,
    once each; only articles on the host of `base_url`."""
    return [(url, squeeze(text)) for url, text in _links(html, base_url, pattern)]


def page_name(html: str) -> str | None:
    """The page's own "第N版 名称" as printed on it outside any link, if there is one."""
    tree = _tree(html)
    for link in tree.css("a"):
        link.decompose()
    body = tree.body
    _, text = visible_text(body.html if body is not None else "")
    match = PAGE_HEADING.search(text)
    return page_label(f"{match.group(1)} {match.group(2)}") if match else None


def parse_article(html: str) -> tuple[str | None, str]:
    """(headline or None, body text with one line per paragraph, or "") of an article page."""
    tree = _tree(html)
    title = _first_of(tree, TITLE_SELECTORS)
    body = _first_of(tree, BODY_SELECTORS)
    text = visible_text(body.html or "")[1] if body is not None else ""
    headline = _headline(tree, title) if title is not None else ""
    return headline or None, text


def issue_documents(source: Source, day: datetime.date, config: Mapping[str, Any]) -> Issue:
    """The articles of `source`'s issue for `day`. Raises NoIssue when that issue does not exist,
    InputError(index URL, problem) when its index cannot be read; a failing page or article is
    skipped and listed in `Issue.problems`."""
    if not source.url:
        raise InputError(source.id, "an epaper source needs a url")
    reader = _Reader(source, day, config, source.url.format(date=day))
    index = reader.index_url
    index_html = reader.index()
    try:
        pages = dict(page_links(index_html, index, source.pages))
    except TooDeep as error:
        raise InputError(index, str(error)) from None
    if index not in pages:
        pages = {index: "", **pages}
    max_pages = int(config.get("EPAPER_MAX_PAGES", DEFAULT_MAX_PAGES))
    if len(pages) > max_pages:
        reader.problem(index, f"links {len(pages)} pages; only the first {max_pages} are read "
                              "(EPAPER_MAX_PAGES)")
    try:
        for page_url, name in list(pages.items())[:max_pages]:
            if not reader.page(page_url, name, index_html if page_url == index else None):
                break
    except _OutOfTime:
        reader.problem(index, f"the issue took longer than EPAPER_DEADLINE ({reader.limit:g} s); "
                              "the rest is not read")
    if not reader.seen and not reader.issue.problems:
        reader.problem(index, f"no article links (pattern {source.articles!r}) on any of its "
                              f"{min(len(pages), max_pages)} pages")
    return reader.issue


@dataclass
class _Reader:
    """One issue being read: where it is, its limits, what has been read and what went wrong."""

    source: Source
    day: datetime.date
    config: Mapping[str, Any]
    index_url: str
    issue: Issue = field(default_factory=Issue)
    seen: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.limit = float(self.config.get("EPAPER_DEADLINE", DEFAULT_DEADLINE))
        self.deadline = time.monotonic() + self.limit
        self.max_articles = int(self.config.get("EPAPER_MAX_ARTICLES", DEFAULT_MAX_ARTICLES))

    def problem(self, url: str, problem: str) -> None:
        self.issue.problems.append(f"{url}: {problem}")

    def index(self) -> str:
        try:
            html, final_url = self.get(self.index_url)
        except _OutOfTime:
            raise InputError(self.index_url, f"no time left (EPAPER_DEADLINE {self.limit:g} s)") from None
        except InputError as error:
            if error.status in NOT_PUBLISHED:
                raise NoIssue(f"{self.index_url}: {error.problem}") from None
            raise
        if urlsplit(final_url).path.rstrip("/") != urlsplit(self.index_url).path.rstrip("/"):
            # Sites send a date not (yet) published to their newest issue: not this date's.
            raise NoIssue(f"{self.index_url}: redirected to {final_url}")
        return html

    def page(self, url: str, name: str, html: str | None) -> bool:
        """Read the articles of the page at `url` (its `html` when already in hand); False
        once the article cap is reached."""
        try:
            html = html if html is not None else self.get(url)[0]
            links = article_links(html, url, self.source.articles)
            name = name or page_name(html) or ""
        except (InputError, TooDeep) as error:
            self.problem(url, getattr(error, "problem", str(error)))
            return True
        meta = {"page": name or None, "page_url": url, "issue_date": self.day.isoformat()}
        for link, link_text in links:
            if link in self.seen:
                continue
            if len(self.seen) >= self.max_articles:
                self.problem(self.index_url, f"more than {self.max_articles} articles; the rest "
                                             "are not read (EPAPER_MAX_ARTICLES)")
                return False
            self.seen.add(link)
            self.article(link, link_text, dict(meta))
        return True

    def article(self, url: str, link_text: str, meta: dict) -> None:
        try:
            title, text = parse_article(self.get(url)[0])
        except (InputError, TooDeep) as error:
            self.problem(url, getattr(error, "problem", str(error)))
            return
        if not text:
            self.problem(url, f"no article text found (looked for {', '.join(BODY_SELECTORS)})")
        if text or title or link_text:
            self.issue.documents.append(Document(
                name=url, text=text, kind="epaper", title=title or link_text or None, url=url,
                published=self.day.isoformat(), source=self.source.id, meta=meta))

    def get(self, url: str) -> tuple[str, str]:
        """(decoded text, final URL) of `url` within what is left of the deadline; a redirect
        off the e-paper's host is refused."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise _OutOfTime(url)
        total = min(setting(self.config, "HTTP_TOTAL_TIMEOUT"), left)
        fetched = fetch(url, {**self.config, "HTTP_TOTAL_TIMEOUT": total},
                        home=self.index_url, same_host=True)  # checked at every hop
        if not _same_host(fetched.url, self.index_url):
            raise InputError(url, f"redirected off the e-paper's host to {fetched.url}; not read")
        return decode(fetched.data, url, fetched.charset)[0], fetched.url


def _same_host(url: str, home: str) -> bool:
    """Same host name (http → https and port changes allowed: the same site)."""
    a = urlsplit(url)
    return a.scheme in ("http", "https") and a.hostname == urlsplit(home).hostname


def _tree(html: str) -> LexborHTMLParser:
    check_nesting(html)  # the same guard visible_text uses: refuse quadratic nesting
    return LexborHTMLParser(html)


def _links(html: str, base_url: str, pattern: str) -> list[tuple[str, str]]:
    """Links (<a>, and <area> of a page image) matching `pattern`, absolute, defragmented, on
    the host of `base_url`, once each: the first place, the first non-empty text."""
    tree = _tree(html)
    base = tree.css_first("base[href]")
    resolve_from = urljoin(base_url, base.attributes.get("href") or "") if base is not None else base_url
    regex = re.compile(pattern)
    found: dict[str, str] = {}
    for node in tree.css("a[href], area[href]"):
        href = node.attributes.get("href") or ""
        if not href.strip() or SKIPPED_HREF.match(href):
            continue
        url = urldefrag(urljoin(resolve_from, href.strip()))[0]
        if not _same_host(url, base_url) or not regex.search(url):
            continue
        text = node.text(deep=True) if node.tag == "a" else ""
        if not found.get(url):
            found[url] = text.strip()
    return list(found.items())


def _ancestors(node: LexborNode | None) -> Iterator[LexborNode]:
    """`node` and its parents, up to <html>."""
    while node is not None and node.tag not in ("html", "-document"):
        yield node
        node = node.parent


def _hidden(node: LexborNode) -> bool:
    return any("hidden" in (n.attributes or {}) or HIDDEN_STYLE.search((n.attributes or {}).get("style")
                                                                       or "") for n in _ancestors(node))


def _logo_or_menu(node: LexborNode) -> bool:
    """An <h1> in a link, nav or header, or nothing but a link: <h1><a href="/">山西日报</a></h1>."""
    link = node.css_first("a")
    if link is not None and squeeze(link.text(deep=True)) == squeeze(node.text(deep=True)):
        return True
    return any(n.tag in NOT_A_HEADLINE for n in _ancestors(node))


def _first_visible(tree: LexborHTMLParser, selector: str) -> LexborNode | None:
    for node in tree.css(selector):
        if _hidden(node) or not node.text(deep=True).strip():
            continue
        if node.tag == "h1" and _logo_or_menu(node):
            continue
        return node
    return None


def _first_of(tree: LexborHTMLParser, selectors: tuple[str, ...]) -> LexborNode | None:
    """The first visible, non-empty match of the first selector that has one."""
    return next((node for selector in selectors
                 if (node := _first_visible(tree, selector)) is not None), None)


def _headline(tree: LexborHTMLParser, node: LexborNode) -> str:
    """Kicker, headline and subtitle, joined by spaces."""
    if node.tag == "founder-title":
        kicker = _first_visible(tree, "founder-introtitle")
        subtitle = _first_visible(tree, "founder-subtitle")
    else:
        kicker, subtitle = _sibling_heading(node, forward=False), _sibling_heading(node, forward=True)
    parts = (kicker, node, subtitle)
    return " ".join(t for part in parts if part is not None and (t := squeeze(part.text(deep=True))))


def _sibling_heading(node: LexborNode, forward: bool) -> LexborNode | None:
    """The h2-h4 right before (or after) `node`, with only whitespace between."""
    sibling = node.next if forward else node.prev
    while sibling is not None and sibling.tag in ("-text", "-comment"):
        if sibling.tag == "-text" and (sibling.text_content or "").strip():
            return None
        sibling = sibling.next if forward else sibling.prev
    return sibling if sibling is not None and sibling.tag in HEADING_TAGS else None
