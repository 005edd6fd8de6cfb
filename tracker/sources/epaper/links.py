"""The links of an e-paper page: pages (版面) with their names, articles, the page's PDF.

A link is made absolute (honouring <base href>), its #fragment dropped, and its ?query too when
the pattern matches without it (content_1.htm?div=-1 and ?div=0 are one article; the query only
marks a region of the page image). Only links on the host of the page are kept, once each.

Page names come from a link text that names a page ("第1版：要闻" → "第1版 要闻"), whichever
link of the same page carries it; navigation (上一版, 下一版, 上一期…) never names a page.

A page's links are read once (PageLinks) and then asked for as pages, articles, their count and
the page's PDF; the functions below read them for one question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator
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
_NAME = r"[\w~%+=@,-][\w.~%+=@,-]*"  # a path segment that is not . or ..
PLAIN_HREF = re.compile(rf"(/?(?:\.\.?/)*)((?:{_NAME}/)*{_NAME})", re.ASCII)  # (lead, the rest)


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
    """`PageLinks.page_list` of `html`, read for this one call."""
    return PageLinks(html, base_url).page_list(pattern)


def page_links(html: str, base_url: str, pattern: str) -> list[tuple[str, str]]:
    """(absolute URL, page label) for each page in `page_list`: the label of a link that names
    the page, else a link text that is not navigation, else ""."""
    return [(link.url, link.label or plain_label(link.text))
            for link in page_list(html, base_url, pattern)]


def article_links(html: str, base_url: str, pattern: str) -> list[tuple[str, str]]:
    """`PageLinks.article_links` of `html`, read for this one call."""
    return PageLinks(html, base_url).article_links(pattern)


def pdf_links(html: str, base_url: str) -> list[str]:
    """`PageLinks.pdf_links` of `html`, read for this one call."""
    return PageLinks(html, base_url).pdf_links()


def page_name(html: str) -> str | None:
    """The page's own "第N版 名称" as printed on it outside any link, if there is one."""
    return _name_outside_links(parse(html))


def _name_outside_links(tree: LexborHTMLParser) -> str | None:
    """`page_name` of a parsed page; takes the links out of `tree`."""
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
    """`PageLinks.links` of `html`, read for this one call."""
    return PageLinks(html, base_url).links(pattern)


class PageLinks:
    """The links (<a>, and <area> of a page image) of one page, read once and asked many times.

    One pass reads the page: parsed once, each link's href and text read once (kept as plain
    lists: a hostile page holds 10,000 links, and an object for each is what costs). Each href
    is resolved once (made absolute honouring <base href>, its #fragment dropped, its host
    checked), each pattern matched once. An issue asks the same page for its page links, its
    article links, how many those are, its name and its PDF; before, each question parsed the
    page and resolved every href again, so a page of 10,000 links cost four passes before their
    count refused it (bench/refusal_bench.py). `article_count` makes no headline or page label.

    A plain href (content_1.htm, ../../../content/202504/09/content_1.html, /a/b.htm: no scheme,
    query, fragment, `;`, or `.`/`..` past the leading `/`, `./` and `../`) resolves to what its
    lead resolves to followed by the rest: urljoin's answer for that shape, at the cost of
    joining two strings (tests/test_epaper_links.py holds the two side by side).
    """

    def __init__(self, html: str, base_url: str) -> None:
        self.html = html  # the page read, so that a reader can tell it is still this page
        self.base_url = base_url
        self._tree = tree = parse(html)  # kept for `page_name` alone, which takes the links out
        base = tree.css_first("base[href]")
        self.resolve_from = (urljoin(base_url, base.attributes.get("href") or "") if base is not None
                             else base_url)
        self._orders: list[int] = []  # link i stands at _orders[i] among <a href> and <area href>
        self._hrefs: list[str] = []
        self._texts: list[str] = []  # stripped; an <area> has none
        for order, node in enumerate(tree.css("a[href], area[href]")):
            href = (node.attributes.get("href") or "").strip()
            if href and not SKIPPED_HREF.match(href):
                self._orders.append(order)
                self._hrefs.append(href)
                self._texts.append(node.text(deep=True).strip() if node.tag == "a" else "")
        self._targets: dict[str, str] = {}  # href → absolute URL without #fragment; "" off host
        self._bare: dict[str, str] = {}  # such a URL with a ?query → the same without it
        self._leads: dict[str, str | None] = {}  # see `_lead`
        self._found: dict[str, dict[str, list[int]]] = {}  # pattern → `found`
        self._counts: dict[str, int] = {}  # pattern → `article_count`

    def links(self, pattern: str) -> list[Link]:
        """Links matching `pattern`, absolute, on the host of the page's URL, once each: the
        first non-empty text, the first text naming a page."""
        return [self._link(url, indices) for url, indices in self.found(pattern).items()]

    def page_list(self, pattern: str) -> list[Link]:
        """The page links matching `pattern`, once each, in the order of the links that name
        them; only pages on the host of the page's URL and in its folder or below (so 上一期/往期
        links to other dates are not pages of this issue)."""
        folder = urljoin(self.base_url, ".")
        found = [link for link in self.links(pattern) if link.url.startswith(folder)]
        return sorted(found, key=lambda link: link.order)

    def article_links(self, pattern: str) -> list[tuple[str, str]]:
        """(absolute URL, link text as a headline) for each article link matching `pattern`, in
        order, once each; only articles on the host of the page's URL; an editor's credit
        (本版责编) is not an article."""
        return [(url, tidy_title(text)) for url, text in self._article_texts(pattern)]

    def article_count(self, pattern: str) -> int:
        """len(article_links(pattern)), without making the headlines: what a page's link limit
        is held against before anything else is done with its links."""
        if pattern not in self._counts:
            self._counts[pattern] = sum(1 for _ in self._article_texts(pattern))
        return self._counts[pattern]

    def pdf_links(self) -> list[str]:
        """The PDF files the page links to (its 版面 PDF), on its host, once each, in order."""
        return [url for url in self.found(PDF_PATH.pattern) if PDF_PATH.search(urlsplit(url).path)]

    def page_name(self) -> str | None:
        """`page_name` of this page, from the tree already parsed (its links are read by now)."""
        return _name_outside_links(self._tree)

    def found(self, pattern: str) -> dict[str, list[int]]:
        """The links matching `pattern` on the host of the page's URL: each URL → the links to
        it (as indices into the page's links), in the order of their first; once per pattern. A URL
        loses its ?query when `pattern` matches it without one (content_1.htm?div=-1 and ?div=0
        are one article; the query only marks a region of the page image)."""
        found = self._found.get(pattern)
        if found is None:
            search = re.compile(pattern).search
            found = self._found[pattern] = {}
            targets, bare = self._targets, self._bare
            for i, href in enumerate(self._hrefs):  # the one loop a page of 10,000 links costs
                url = targets.get(href)
                if url is None:
                    url = self._resolve(href)
                if not url:
                    continue
                if url in bare and search(bare[url]):
                    url = bare[url]
                elif not search(url):
                    continue
                found.setdefault(url, []).append(i)
        return found

    def _article_texts(self, pattern: str) -> Iterator[tuple[str, str]]:
        """(URL, first non-empty text) of the links `found` for `pattern` that are not an
        editor's credit."""
        texts = self._texts
        for url, indices in self.found(pattern).items():
            text = texts[indices[0]] or self._first_text(indices)
            if not CREDIT.match(text):
                yield url, text

    def _link(self, url: str, indices: list[int]) -> Link:
        """The Link of `url` from the links to it: the first non-empty text; the first text
        naming a page, and where that link stands (else where the first link stands)."""
        texts, orders = self._texts, self._orders
        label, order = next(((page_label(texts[i]), orders[i]) for i in indices if names_page(texts[i])),
                            ("", orders[indices[0]]))
        return Link(url, self._first_text(indices), label, order)

    def _first_text(self, indices: list[int]) -> str:
        """The first non-empty text among the links `indices`, else ""."""
        return next((self._texts[i] for i in indices if self._texts[i]), "")

    def _resolve(self, href: str) -> str:
        """Where `href` leads (see `_targets`), kept for the page's other patterns."""
        plain = PLAIN_HREF.fullmatch(href)
        prefix = self._lead(plain.group(1)) if plain is not None else None
        if plain is not None and prefix is not None:
            url = prefix + plain.group(2) if prefix else ""
        else:
            url = urldefrag(urljoin(self.resolve_from, href))[0]
            parts = urlsplit(url)
            if not same_host(url, self.base_url):
                url = ""
            elif parts.query:
                self._bare[url] = urlunsplit(parts._replace(query=""))
        self._targets[href] = url
        return url

    def _lead(self, lead: str) -> str | None:
        """What a plain href led by `lead` ("", "/", "../../", …) resolves to before its first
        name: "" when that is off the page's host, None when the page is not on http(s) (the
        plain shape is only worked out for a URL with a host)."""
        if lead not in self._leads:
            probe = urljoin(self.resolve_from, lead + "x")
            parts = urlsplit(probe)
            on_web = parts.scheme in ("http", "https") and bool(parts.netloc)
            self._leads[lead] = (probe[:-1] if same_host(probe, self.base_url) else "") if on_web else None
        return self._leads[lead]


def plain_label(text: str) -> str:
    """A link text that does not number its page, as its name unless it is navigation."""
    text = squeeze(text)
    return "" if not text or NAVIGATION.match(text) or len(text) > 12 else text
