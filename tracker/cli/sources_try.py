"""`tracker sources try ID|URL [--date D]`: read one issue of a source now and print what was
found — its pages, each article's page, title and first words, the problems — storing nothing.
It opens no database and takes no lock, so it runs beside a working worker."""

from __future__ import annotations

import datetime
import re
from datetime import datetime as clock
from pathlib import Path
from typing import Any, Mapping
from zoneinfo import ZoneInfo

import click

from tracker.cli.common import EXIT_INPUT, EXIT_RULES
from tracker.documents import Document, InputError
from tracker.sources.catalog import Source, check_sources, infer_type

BODY_START = 60  # characters of each article's text shown


def find_source(ref: str, sources_file: Path, layout: str | None) -> Source:
    """The source `ref` names: an http(s) URL (an e-paper unless it looks like a feed), or the
    id of a source in `sources_file`; a usage error (exit 2) otherwise."""
    if re.match(r"^https?://", ref, re.I):
        kind = "feed" if layout is None and infer_type(ref, None) == "feed" else "epaper"
        return Source(id="try", name=ref, type=kind, url=ref, layout=layout)
    sources, problems = check_sources(sources_file)
    for source in sources:
        if source.id == ref:
            return source if layout is None else Source(**{**source.__dict__, "layout": layout})
    for problem in problems:
        click.echo(str(problem), err=True)
    click.echo(f"no source with id {ref!r} in {sources_file} (give an id there or a URL)", err=True)
    raise SystemExit(EXIT_RULES)


def try_source(source: Source, day: datetime.date | None, config: Mapping[str, Any]) -> int:
    """Read `source`'s issue of `day` (default: today in its time zone), print it; the exit
    status: 0 when articles were read without a problem, 1 otherwise."""
    day = day or clock.now(ZoneInfo(source.timezone)).date()
    click.echo(f"{source.name} ({source.id}) · {day.isoformat()} · {source.type}")
    if source.type == "epaper":
        return _try_epaper(source, day, config)
    from tracker.sources.collect import SourceState, collect

    try:
        collected = collect(source, config, SourceState(), day)
        documents = list(collected.documents)
    except InputError as error:
        return _failed(str(error))
    _articles(documents)
    return _problems(collected.problems, [], bool(documents))


def _try_epaper(source: Source, day: datetime.date, config: Mapping[str, Any]) -> int:
    from tracker.sources.epaper import NoIssue, issue_documents, source_layout

    click.echo(f"layout {source_layout(source).name}")
    try:
        issue = issue_documents(source, day, config)
    except NoIssue as reason:
        return _failed(f"no issue for {day.isoformat()}: {reason}")
    except InputError as error:
        return _failed(str(error))
    click.echo(f"index {issue.index_url}")
    click.echo(f"\npages ({len(issue.pages)})")
    for page in issue.pages:
        what = f"PDF {page.pdf}" if page.pdf else f"{page.articles} articles"
        click.echo(f"  {page.name or '(unnamed)'}  {what}  {page.url}")
    documents = _articles(issue.documents)
    return _problems(issue.problems, issue.notes, bool(documents))


def _articles(documents: list[Document]) -> list[Document]:
    """Print each article (a page PDF split into its articles, as the worker would)."""
    from tracker.splitter import page_articles

    articles = [a for d in documents for a in page_articles(d)]
    click.echo(f"\narticles ({len(articles)})")
    for article in articles:
        page = article.meta.get("page")
        start = " ".join(article.text.split())
        click.echo(f"  {f'[{page}] ' if page else ''}{article.title or '(untitled)'}")
        click.echo(f"      {start[:BODY_START]}{'…' if len(start) > BODY_START else ''}")
    return articles


def _problems(problems: list[str], notes: list[str], read: bool) -> int:
    click.echo(f"\nproblems ({len(problems)})")
    for problem in problems:
        click.echo(f"  {problem}")
    if notes:
        click.echo(f"\nnotes ({len(notes)})")
        for note in notes:
            click.echo(f"  {note}")
    click.echo("\nnothing was stored")
    return 0 if read and not problems else EXIT_INPUT


def _failed(problem: str) -> int:
    click.echo(f"\nproblems (1)\n  {problem}\n\nnothing was stored")
    return EXIT_INPUT
