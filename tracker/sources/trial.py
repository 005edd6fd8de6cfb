"""Trying a source: one issue (or listing) read now, nothing stored, what was found told back —
the pages, each article's page, title and first words (and a government document's fields), the
problems and notes. `tracker sources try` prints it; the admin's source editor shows it as its
preview. No database, no lock: it runs beside the worker.

With `every_hop=True` (the browser's preview: the URL was typed into a web form) every fetch,
the source's own URL and its site included, passes the SSRF check of tracker.sources.ssrf, not
only the hops off the site (tracker.sources.http: SSRF_EVERY_HOP)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from datetime import datetime as clock
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from tracker.documents import Document, InputError
from tracker.errors import FetchProblem
from tracker.sources.catalog import Source

BODY_START = 60  # characters of each article's text shown


@dataclass(frozen=True)
class TriedPage:
    name: str
    articles: int
    pdf: str | None
    url: str


@dataclass(frozen=True)
class TriedArticle:
    page: str | None
    title: str | None
    start: str  # the first BODY_START characters of its text, "…" when there is more
    url: str | None
    fields: tuple[tuple[str, str], ...] = ()


@dataclass
class Trial:
    source: Source
    day: datetime.date
    layout: str | None = None  # epaper: the layout preset read with
    index_url: str | None = None
    pages: list[TriedPage] = field(default_factory=list)
    articles: list[TriedArticle] = field(default_factory=list)
    problems: list[FetchProblem] = field(default_factory=list)  # str() is the English
    notes: list[str] = field(default_factory=list)
    failed: str | None = None  # the source as a whole could not be read (a FetchProblem when
    # reading it met one; no issue of the day is English alone)

    @property
    def ok(self) -> bool:
        """Articles were read without a problem."""
        return bool(self.articles) and not self.problems and not self.failed


def try_source(source: Source, day: datetime.date | None, config: Mapping[str, Any], *,
               every_hop: bool = False) -> Trial:
    """Read `source`'s issue of `day` (default: today in its time zone) now."""
    day = day or clock.now(ZoneInfo(source.timezone)).date()
    if every_hop:
        config = {**config, "SSRF_EVERY_HOP": True}
    trial = Trial(source, day)
    if source.type == "epaper":
        _epaper(trial, config)
        return trial
    from tracker.sources.collect import SourceState, collect

    try:
        collected = collect(source, config, SourceState(), day)
        documents = list(collected.documents)
    except InputError as error:
        trial.failed = FetchProblem.of(error.where, error)
        return trial
    trial.articles = _articles(documents)
    trial.problems = list(collected.problems)
    return trial


def _epaper(trial: Trial, config: Mapping[str, Any]) -> None:
    from tracker.sources.epaper import NoIssue, issue_documents, source_layout

    trial.layout = source_layout(trial.source).name
    try:
        issue = issue_documents(trial.source, trial.day, config)
    except NoIssue as reason:
        trial.failed = f"no issue for {trial.day.isoformat()}: {reason}"
        return
    except InputError as error:
        trial.failed = FetchProblem.of(error.where, error)
        return
    trial.index_url = issue.index_url
    trial.pages = [TriedPage(p.name, p.articles, p.pdf, p.url) for p in issue.pages]
    trial.articles = _articles(issue.documents)
    trial.problems, trial.notes = list(issue.problems), list(issue.notes)


def _articles(documents: list[Document]) -> list[TriedArticle]:
    """Each article (a page PDF split into its articles, as the worker would)."""
    from tracker.splitter import page_articles

    out = []
    for article in (a for d in documents for a in page_articles(d)):
        start = " ".join(article.text.split())
        out.append(TriedArticle(article.meta.get("page"), article.title,
                                start[:BODY_START] + ("…" if len(start) > BODY_START else ""),
                                article.url, tuple((article.meta.get("doc_fields") or {}).items())))
    return out
