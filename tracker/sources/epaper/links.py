"""The links of an e-paper page: pages (版面) with their names, articles, the page's PDF.

A link is made absolute (honouring <base href>), its #fragment dropped, and its ?query too when
the pattern matches without it (content_1.htm?div=-1 and ?div=0 are one article; the query only
marks a region of the page image). Only links on the host of the page are kept, once each.

Page names come from a link text that names a page ("第1版：要闻" → "第1版 要闻"), whichever
link of the same page carries it; navigation (上一版, 下一版, 上一期…) never names a page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urldefrag, urljoin, urlsplit, urlunsplit

from selectolax.lexbor import LexborHTMLParser

from tracker.text.html import check_nesting, visible_text

CJK = "\u3001-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
CJK_GAP = re.compile(rf"(?<=[{CJK}])\s+(?=[{CJK}])")
PAGE_NUMBER = re.compile(r"(?<![\dA-Za-z])(第?\s*[A-Za-z]?\d{1,3}\s*版)")
PAGE_HEADING = re.compile(PAGE_NUMBER.pattern + r"[^\S\n]*[:：]?[^\S\n]*([^\s\d:：|｜]{0,12})")
SKIPPED_HREF = re.compile(r"^\s*(?:javascript|mailto|tel|data):", re.I)
NAVIGATION = re.compile(r"^(?:上|下|前|后)一(?:版|期|篇|页)|^(?:首页|返回|往期|回到|版面导航|标题导航)")
CREDIT = re.compile(r"^\s*(?:本版)?责(?:任)?编")  # 本版责编：… is linked like an article
PDF_PATH = re.compile(r"\.pdf$", re.I)
LETTER_SPACED = re.compile(rf"^[{CJK}](?: [{CJK}])+$")  # 社 论: one headline, spaced out


@dataclass(frozen=True)
class Link:
    url: str
    text: str  # the first non-empty text among the links to `url`
    label: str  # the first text that names a page ("第1版 要闻"), or ""
    order: int  # where the link naming it (else its first link) stands


def squeeze(text: str) -> str:
    """Whitespace collapsed to single spaces, and removed between two Chinese characters."""
    return CJK_GAP.sub("", " ".join(text.split()))


def tidy_title(text: str) -> str:
    """A headline as printed: runs of whitespace (full-width and no-break spaces too) become one
    space, which is kept ("开放共享 让大型科研仪器“忙”起来"), except in a headline spaced out
    one character at a time ("社 论" → "社论")."""
    text = " ".join(text.split())
    return text.replace(" ", "") if LETTER_SPACED.match(text) else text


def page_label(text: str) -> str:
    """A page name as printed, tidied: "第1版：要闻" → "第1版 要闻", "02版  综合 新闻" → "02版 综合新闻"."""
    text = squeeze(text)
    match = PAGE_NUMBER.match(text)
    if not match:
        return text
    rest = text[match.end():].lstrip(" :：")
    return f"{''.join(match.group(1).split())} {rest}".strip()


def names_page(text: str) -> bool:
    """Whether a link text names a page: it starts with a page number (第1版, 02版, A04版)."""
    return bool(PAGE_NUMBER.match(squeeze(text)))


def page_list(html: str, base_url: str, pattern: str) -> list[Link]:
    """The page links in `html` matching `pattern`, once each, in the order of the links that
    name them; only pages on the host of `base_url` and in its folder or below (so 上一期/往期
    links to other dates are not pages of this issue)."""
    folder = urljoin(base_url, ".")
    found = [link for link in links(html, base_url, pattern) if link.url.startswith(folder)]
    return sorted(found, key=lambda link: link.order)


def page_links(html: str, base_url: str, pattern: str) -> list[tuple[str, str]]:
    """(absolute URL, page label) for each page in `page_list`: the label of a link that names
    the page, else a link text that is not navigation, else ""."""
    return [(link.url, link.label or plain_label(link.text))
            for link in page_list(html, base_url, pattern)]


def article_links(html: str, base_url: str, pattern: str) -> list[tuple[str, str]]:
    """(absolute URL, link text as a headline) for each article link in `html` matching
    `pattern`, in order, once each; only articles on the host of `base_url`; an editor's credit
    (本版责编) is not an article."""
    return [(link.url, tidy_title(link.text)) for link in links(html, base_url, pattern)
            if not CREDIT.match(link.text)]


def pdf_links(html: str, base_url: str) -> list[str]:
    """The PDF files the page links to (its 版面 PDF), on its host, once each, in order."""
    return [link.url for link in links(html, base_url, PDF_PATH.pattern)
            if PDF_PATH.search(urlsplit(link.url).path)]


def page_name(html: str) -> str | None:
    """The page's own "第N版 名称" as printed on it outside any link, if there is one."""
    tree = parse(html)
    for link in tree.css("a"):
        link.decompose()
    body = tree.body
    _, text = visible_text(body.html if body is not None else "")
    match = PAGE_HEADING.search(text)
    return page_label(f"{match.group(1)} {match.group(2)}") if match else None


def parse(html: str) -> LexborHTMLParser:
    check_nesting(html)  # the same guard visible_text uses: refuse quadratic nesting
    return LexborHTMLParser(html)


def same_host(url: str, home: str) -> bool:
    """Same host name (http → https and port changes allowed: the same site)."""
    a = urlsplit(url)
    return a.scheme in ("http", "https") and a.hostname == urlsplit(home).hostname


def links(html: str, base_url: str, pattern: str) -> list[Link]:
    """Links (<a>, and <area> of a page image) matching `pattern`, absolute, on the host of
    `base_url`, once each: the first non-empty text, the first text naming a page."""
    tree = parse(html)
    base = tree.css_first("base[href]")
    resolve_from = urljoin(base_url, base.attributes.get("href") or "") if base is not None else base_url
    regex = re.compile(pattern)
    found: dict[str, Link] = {}
    for order, node in enumerate(tree.css("a[href], area[href]")):
        href = (node.attributes.get("href") or "").strip()
        if not href or SKIPPED_HREF.match(href):
            continue
        url = _canonical(urljoin(resolve_from, href), regex)
        if url is None or not same_host(url, base_url):
            continue
        text = node.text(deep=True).strip() if node.tag == "a" else ""
        label = page_label(text) if names_page(text) else ""
        known = found.get(url)
        if known is None:
            found[url] = Link(url, text, label, order)
        elif label and not known.label or text and not known.text:
            found[url] = Link(url, known.text or text, known.label or label,
                              order if label and not known.label else known.order)
    return list(found.values())


def _canonical(url: str, regex: re.Pattern) -> str | None:
    """`url` without its fragment, and without its query when `regex` matches it without one;
    None when `regex` does not match."""
    url = urldefrag(url)[0]
    parts = urlsplit(url)
    if parts.query:
        bare = urlunsplit(parts._replace(query=""))
        if regex.search(bare):
            return bare
    return url if regex.search(url) else None


def plain_label(text: str) -> str:
    """A link text that does not number its page, as its name unless it is navigation."""
    text = squeeze(text)
    return "" if not text or NAVIGATION.match(text) or len(text) > 12 else text
