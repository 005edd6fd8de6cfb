"""An e-paper (数字报) issue: one date's pages (版面) and their articles, one Document per article.

    index     `source.url` with the date (…/html/2025-04/09/node_1.htm), or a landing page that
              forwards to the day's index (tracker.sources.epaper.landing); the index is page 1
    pages     links on the index matching the layout's (or the source's) page pattern, in the
              index's folder or below (so 上一期/往期 links to other dates are not followed)
    articles  links on each page matching the article pattern; a page without any but with a
              PDF of itself (版面 PDF) yields that PDF as a page Document, split into articles
              on the way in like any page
The layouts are presets (tracker.sources.epaper.layouts); the article page is read by
tracker.sources.epaper.article. No link off the index's host is followed (a page whose redirect
leaves it is discarded), every hop, the landing page's forward included, passes the SSRF check of
tracker.sources.http.fetch, and every page is decoded from its bytes, never by its declared
charset alone (a page declaring one charset and being another is noted in `Issue.notes`).

An article linked from several pages (or as content_1.htm?div=-1 and ?div=0) is read once, for
the first page. Order: page order, then link order. Bounded by EPAPER_MAX_PAGES (40),
EPAPER_MAX_ARTICLES (400), EPAPER_MAX_PAGE_LINKS (300 article links on one page) and
EPAPER_DEADLINE (120 s) for the whole issue; what is cut off is a named problem
(tracker.sources.epaper.problems) in `Issue.problems`. An index with nothing this layout reads
is an InputError naming the reason (`script-built`, `unknown-layout`), never "0 articles".
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import urlsplit

from tracker.documents import Document, InputError
from tracker.errors import FetchProblem
from tracker.sources.catalog import Source
from tracker.sources.epaper.article import BODY_SELECTORS, parse_article
from tracker.sources.epaper.landing import forward_target, script_built, url_date
from tracker.sources.epaper.layouts import LAYOUTS, Layout, guess_layout, with_date
from tracker.sources.epaper.links import Link, PageLinks, plain_label
from tracker.sources.epaper.problems import named_error
from tracker.sources.http import Fetched, session
from tracker.sources.epaper.site import OutOfTime, fetch_on_site
from tracker.text.encoding import canonical, decode, sniff_declared
from tracker.text.html import TooDeep
from tracker.text.pdf import pdf_text
from tracker import settings

MAX_FORWARDS = 3
NOT_PUBLISHED = {404, 410}


class NoIssue(Exception):
    """The index for that date does not exist (404/410, or the site sent us to another date):
    not published (yet). Callers treat it as "nothing new", not as an error."""


@dataclass
class PageRead:
    """One page as read: its URL and name, how many articles it gave, the PDF read instead."""

    url: str
    name: str
    articles: int = 0
    pdf: str | None = None


@dataclass
class Issue:
    """The articles of one issue (and the PDF pages standing in for them), and what could not be
    read as "url: problem" lines (like str(InputError)); the pages read, and notes that are no
    fault (a page declaring one charset and being another, read right)."""

    documents: list[Document] = field(default_factory=list)
    problems: list[FetchProblem] = field(default_factory=list)
    pages: list[PageRead] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    index_url: str = ""
    layout: str = ""


def issue_dates(source: Source, today: datetime.date) -> list[datetime.date]:
    """Today and the `source.days - 1` days before it, newest first."""
    return [today - datetime.timedelta(days=n) for n in range(max(1, source.days))]


def source_layout(source: Source) -> Layout:
    """The source's layout preset: as configured, else as its url's shape names it."""
    return LAYOUTS[source.layout or guess_layout(source.url or "")]


def issue_documents(source: Source, day: datetime.date, config: Mapping[str, Any]) -> Issue:
    """The articles of `source`'s issue for `day`. Raises NoIssue when that issue does not exist,
    InputError(index URL, problem) when its index cannot be read or holds nothing this layout
    reads; a failing page or article is skipped and listed in `Issue.problems`."""
    if not source.url:
        raise InputError(source.id, "an epaper source needs a url")
    layout = source_layout(source)
    with session() as client:  # one issue's pages and articles over kept-alive connections
        reader = _Reader(source, day, config, source.url.format(date=day),
                         with_date(source.pages or layout.pages, day),
                         with_date(source.articles or layout.articles, day), client=client)
        return _read_issue(reader, layout, config)


def _read_issue(reader: "_Reader", layout: Layout, config: Mapping[str, Any]) -> Issue:
    """issue_documents' reading, on `reader`'s client."""
    reader.issue.layout = layout.name
    index_html = reader.index()
    index = reader.index_url
    try:
        pages = reader.links(index_html, index).page_list(reader.pages)
    except TooDeep as error:
        raise InputError(index, str(error)) from None
    if index not in {page.url for page in pages}:
        pages.insert(0, Link(index, "", "", -1))
    max_pages = int(settings.value(config, "EPAPER_MAX_PAGES"))
    if len(pages) > max_pages:
        reader.problem(index, named_error(index, "too-many-pages", count=len(pages), limit=max_pages))
    try:
        for page in pages[:max_pages]:
            if not reader.page(page, index_html if page.url == index else None):
                break
    except OutOfTime:
        reader.problem(index, named_error(index, "deadline", limit=reader.limit))
    if not reader.issue.documents and not reader.issue.problems:
        raise named_error(index, "unknown-layout", layout=layout.name,
                          detail=f"pages {reader.pages!r}, articles {reader.articles!r}")
    return reader.issue


@dataclass
class _Reader:
    """One issue being read: where it is, its limits, what has been read and what went wrong."""

    source: Source
    day: datetime.date
    config: Mapping[str, Any]
    index_url: str
    pages: str  # the page and article patterns, the date filled in
    articles: str
    issue: Issue = field(default_factory=Issue)
    seen: set[str] = field(default_factory=set)
    client: Any = None  # tracker.sources.http.session(): the issue's kept-alive connections

    def __post_init__(self) -> None:
        self.home = self.index_url  # the configured site: where every hop is checked from
        self.limit = float(settings.value(self.config, "EPAPER_DEADLINE"))
        self.deadline = time.monotonic() + self.limit
        self.max_articles = int(settings.value(self.config, "EPAPER_MAX_ARTICLES"))
        self.max_links = int(settings.value(self.config, "EPAPER_MAX_PAGE_LINKS"))
        self.charsets: set[tuple[str, str]] = set()
        self._links: PageLinks | None = None  # the links of the page last asked about

    def links(self, html: str, url: str) -> PageLinks:
        """The links of the page `html` read from `url`, read once however often they are asked
        for (the index is asked for its articles, its pages and their count, and its PDF)."""
        if self._links is None or self._links.html is not html or self._links.base_url != url:
            self._links = PageLinks(html, url)
        return self._links

    def problem(self, url: str, problem: str | BaseException) -> None:
        """A problem at `url`: an InputError (its code and fields kept), or any other."""
        self.issue.problems.append(FetchProblem.of(url, problem))

    def index(self) -> str:
        """The index's HTML, through any landing page; sets `index_url` to where it was found."""
        start = self.index_url
        try:
            html, url = self.get(start)
            chain = list(dict.fromkeys([start, url]))  # every URL on the way, in order
            for hop in range(MAX_FORWARDS + 1):
                target = None if self._has_links(html, url) else forward_target(html, url)
                if target is None:
                    break
                if target in chain or hop == MAX_FORWARDS:
                    raise named_error(start, "forward-loop", detail=" → ".join([*chain, target]))
                html, url = self.get(target)
                chain = list(dict.fromkeys([*chain, target, url]))
        except OutOfTime:
            raise InputError(start, f"no time left (EPAPER_DEADLINE {self.limit:g} s)") from None
        except InputError as error:
            if error.status in NOT_PUBLISHED:
                raise NoIssue(f"{start}: {error.problem}") from None
            raise
        if urlsplit(url).path.rstrip("/") != urlsplit(start).path.rstrip("/"):
            self._check_date(start, url)
        self.index_url = self.issue.index_url = url
        if not self._has_links(html, url) and not self.links(html, url).pdf_links() and script_built(html):
            raise named_error(url, "script-built")
        return html

    def _check_date(self, start: str, url: str) -> None:
        """Sent from `start` to `url`: the issue of this day, or NoIssue (sites send a date not
        yet published to their newest issue), or an undated landing page's InputError."""
        found = url_date(url)
        if found == self.day:
            return
        if found is not None or "{date" in (self.source.url or ""):
            issue = f" (the issue of {found})" if found else ""
            raise NoIssue(f"{start}: redirected to {url}{issue}")
        raise named_error(start, "undated-forward", detail=url)

    def _has_links(self, html: str, url: str) -> bool:
        try:
            links = self.links(html, url)
            return links.article_count(self.articles) > 0 or any(
                page.url != url for page in links.page_list(self.pages))
        except TooDeep as error:
            raise InputError(url, str(error)) from None

    def page(self, link: Link, html: str | None) -> bool:
        """Read the articles of the page `link` names (its `html` when already in hand); False
        once the article cap is reached."""
        url = link.url
        try:
            html = html if html is not None else self.get(url)[0]
            links = self.links(html, url)
            count = links.article_count(self.articles)  # counted before any headline is made
            name = link.label or links.page_name() or plain_label(link.text)
        except (InputError, TooDeep) as error:
            self.problem(url, error)
            return True
        read = PageRead(url, name)
        self.issue.pages.append(read)
        if count > self.max_links:
            self.problem(url, named_error(url, "too-many-links", count=count, limit=self.max_links))
            return True
        found = links.article_links(self.articles)
        meta = {"page": name or None, "page_url": url, "issue_date": self.day.isoformat()}
        if not found:
            self.pdf_page(read, html, meta)
        for link_url, link_text in found:
            if link_url in self.seen:
                continue
            if len(self.seen) >= self.max_articles:
                self.problem(self.index_url, named_error(self.index_url, "too-many-articles",
                                                          limit=self.max_articles))
                return False
            self.seen.add(link_url)
            read.articles += 1
            self.article(link_url, link_text, dict(meta))
        return True

    def pdf_page(self, read: PageRead, html: str, meta: dict) -> None:
        """A page with no article links: its PDF, if it links one, as a page Document."""
        pdfs = [url for url in self.links(html, read.url).pdf_links() if url not in self.seen]
        if not pdfs:
            return
        url = read.pdf = pdfs[0]
        self.seen.add(url)
        try:
            text = pdf_text(self.fetch(url).data, url)
        except InputError as error:
            self.problem(url, named_error(url, "pdf-unreadable", detail=error.problem))
            return
        self.issue.documents.append(Document(
            name=url, text=text, kind="pdf", url=url, published=self.day.isoformat(),
            source=self.source.id, meta={**meta, "link_is_id": False}))  # many articles, one URL

    def article(self, url: str, link_text: str, meta: dict) -> None:
        try:
            title, text = parse_article(self.get(url)[0])
        except (InputError, TooDeep) as error:
            self.problem(url, error)
            return
        if not text:
            self.problem(url, named_error(url, "no-text", detail=", ".join(BODY_SELECTORS)))
        if text or title or link_text:
            self.issue.documents.append(Document(
                name=url, text=text, kind="epaper", title=title or link_text or None, url=url,
                published=self.day.isoformat(), source=self.source.id, meta=meta))

    def get(self, url: str) -> tuple[str, str]:
        """(decoded text, final URL) of `url`."""
        fetched = self.fetch(url)
        text, encoding = decode(fetched.data, url, fetched.charset)
        declared = canonical(fetched.charset) or canonical(sniff_declared(fetched.data))
        if declared and declared != encoding and (declared, encoding) not in self.charsets:
            self.charsets.add((declared, encoding))
            self.issue.notes.append(f"{url}: declares {declared} but is {encoding}; read as "
                                    f"{encoding}")
        return text, fetched.url

    def fetch(self, url: str) -> Fetched:
        """`url` within what is left of the issue's deadline, on the e-paper's host."""
        return fetch_on_site(url, self.config, self.home, self.deadline, client=self.client,
                             what="e-paper")
