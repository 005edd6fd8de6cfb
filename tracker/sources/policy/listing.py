"""A policy list page (政策文件, 通知公告 栏目) and its pagination: each linked document one article.

    list page   `source.url` (…/zwgk/zcwj/index.html); its links matching the article pattern,
                on its own host, are the documents (default: `content_N.htm` as gov.cn names
                them — DIYgod/RSSHub `lib/routes/gov/zhengce/index.ts`, `zhengceku.ts` —, the
                TRS names `tYYYYMMDD_N.html` and `art_N_N.html`)
    pagination  links matching the page pattern in the list's folder (default `index_N.html`),
                or, where a script writes the pager (`createPageHTML(10, 0, "index", "html")`
                as TRS-built portals do), the pages it would link; at most `list_pages` list
                pages in all, and none after a page whose documents are all archived already
    documents   read by tracker.sources.policy.document (trafilatura)

A document already in the archive (`known(url)`) is not fetched again. Every fetch goes through
tracker.sources.http.fetch with the list page as home (the SSRF checks of every hop) and never
leaves the list's host; the whole listing has POLICY_DEADLINE seconds and at most
POLICY_MAX_ARTICLES new documents. A list page with no document link is the named problem
`no-links` (the site changed, or the pattern is wrong), never "nothing new"; a failing document
is listed in `problems` and the rest read.
"""

from __future__ import annotations

import datetime
import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping

from tracker import settings
from urllib.parse import urljoin

from tracker.documents import Document, InputError
from tracker.errors import FetchProblem
from tracker.sources.catalog import Source
from tracker.sources.epaper.links import links, tidy_title
from tracker.sources.epaper.problems import named_error
from tracker.sources.http import Fetched
from tracker.sources.epaper.site import OutOfTime, fetch_on_site
from tracker.sources.policy.document import read_policy_page
from tracker.text.encoding import decode
from tracker.text.html import TooDeep

DEFAULT_ARTICLES = r"(?:content_\d+|t\d{8}_\d+|art_\d+_\d+)\.s?html?$"
DEFAULT_PAGES = r"index_\d+\.s?html?$"
DEFAULT_LIST_PAGES = 3
SCRIPT_PAGER = re.compile(r"createPageHTML\(\s*['\"]?(\d+)['\"]?\s*,\s*['\"]?(\d+)['\"]?\s*,"
                          r"\s*['\"](\w+)['\"]\s*,\s*['\"](\w+)['\"]")


@dataclass
class Listing:
    """What one listing gave: the documents (as they are read), the list pages read, problems
    as `url: problem` lines."""

    documents: list[Document] = field(default_factory=list)
    list_pages: list[str] = field(default_factory=list)
    links: int = 0  # document links seen on the list pages
    known: int = 0  # of them already archived (not fetched)
    problems: list[FetchProblem] = field(default_factory=list)


@dataclass
class Reader:
    """One listing being read. `documents()` yields the new documents one at a time and raises
    InputError when the first list page cannot be read or links no document; `listing` has the
    counts and problems once it is taken to the end."""

    source: Source
    config: Mapping[str, Any]
    today: datetime.date
    known: Callable[[str], bool] = lambda url: False
    listing: Listing = field(default_factory=Listing)

    def __post_init__(self) -> None:
        self.home = self.source.url or ""
        self.articles = re.compile(self.source.articles or DEFAULT_ARTICLES)
        self.pages = self.source.pages or DEFAULT_PAGES
        self.limit = float(settings.value(self.config, "POLICY_DEADLINE"))
        self.deadline = time.monotonic() + self.limit
        self.max_articles = int(settings.value(self.config, "POLICY_MAX_ARTICLES"))
        self.seen: set[str] = set()

    def documents(self) -> Iterator[Document]:
        if not self.home:
            raise InputError(self.source.id, "a policy source needs a url")
        queue = [self.home]
        wanted = max(1, self.source.list_pages)
        first = True
        while queue and len(self.listing.list_pages) < wanted:
            url = queue.pop(0)
            try:
                html, final = self.get(url)
                found = self.document_links(html, final)
            except (InputError, TooDeep, OutOfTime) as error:
                met = error if isinstance(error, InputError) else \
                    named_error(url, "deadline", limit=self.limit) if isinstance(error, OutOfTime) \
                    else InputError(url, str(error))
                if first:  # the source as a whole cannot be read
                    raise InputError(url, met.problem, met.status, code=met.code,
                                     fields=met.fields) from None
                self.problem(url, met)
                break
            self.listing.list_pages.append(final)
            if first:
                if not found:
                    raise named_error(final, "no-links", pattern=self.articles.pattern)
                queue.extend(p for p in self.next_pages(html, final) if p not in queue)
                first = False
            fresh = [(u, t) for u, t in found if u not in self.seen]
            self.listing.links += len(fresh)
            new = []
            for link_url, text in fresh:
                self.seen.add(link_url)
                if self.known(link_url):
                    self.listing.known += 1
                else:
                    new.append((link_url, text))
            for link_url, text in new:
                if len(self.listing.documents) >= self.max_articles:
                    self.problem(self.home, named_error(self.home, "too-many-articles",
                                                        limit=self.max_articles))
                    return
                try:
                    document = self.document(link_url, text)
                except OutOfTime:
                    self.problem(self.home, named_error(self.home, "deadline", limit=self.limit))
                    return
                if document is not None:
                    self.listing.documents.append(document)
                    yield document
            if not new:  # everything here is archived: the older pages are too
                break

    def problem(self, url: str, problem: str | BaseException) -> None:
        """A problem at `url`: an InputError (its code and fields kept), or any other."""
        self.listing.problems.append(FetchProblem.of(url, problem))

    def document_links(self, html: str, url: str) -> list[tuple[str, str]]:
        return [(link.url, tidy_title(link.text)) for link in links(html, url, self.articles.pattern)]

    def next_pages(self, html: str, url: str) -> list[str]:
        """The list's other pages: pager links in its folder, else what a pager script writes."""
        folder = urljoin(url, ".")
        found = [link.url for link in links(html, url, self.pages)
                 if link.url.startswith(folder) and link.url != url]
        if not found:
            match = SCRIPT_PAGER.search(html)
            if match:
                total, current = int(match[1]), int(match[2])
                found = [urljoin(folder, f"{match[3]}_{n}.{match[4]}")
                         for n in range(current + 1, min(total, current + self.source.list_pages))]
                found = [u for u in found if re.search(self.pages, u)]
        return list(dict.fromkeys(found))

    def document(self, url: str, link_text: str) -> Document | None:
        try:
            html, final = self.get(url)
            page = read_policy_page(html, final)
        except (InputError, TooDeep) as error:
            self.problem(url, error)
            return None
        if not page.text:
            self.problem(url, named_error(url, "no-text", detail="trafilatura found no main text"))
            if not (page.title or link_text):
                return None
        day = page.date or self.today
        meta: dict[str, Any] = {"issue_date": day.isoformat(), "list_url": self.home}
        if page.fields:
            meta["doc_fields"] = dict(page.fields)
        return Document(name=url, text=page.text, kind="article", title=page.title or link_text or None,
                        url=url, published=day.isoformat(), source=self.source.id, meta=meta)

    def get(self, url: str) -> tuple[str, str]:
        fetched = self.fetch(url)
        text, _encoding = decode(fetched.data, url, fetched.charset)
        return text, fetched.url

    def fetch(self, url: str) -> Fetched:
        return fetch_on_site(url, self.config, self.home, self.deadline)
