"""`tracker sources try ID|URL [--date D]`: read one issue of a source now and print what was
found — its pages, each article's page, title and first words, the problems — storing nothing.
It opens no database and takes no lock, so it runs beside a working worker."""

from __future__ import annotations

import datetime
import re
from pathlib import Path
from typing import Any, Mapping

import click

from tracker.cli.common import EXIT_INPUT, EXIT_RULES
from tracker.sources.catalog import Source, check_sources, infer_type

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
    from tracker.sources.trial import try_source as read

    trial = read(source, day, config)
    click.echo(f"{source.name} ({source.id}) · {trial.day.isoformat()} · {source.type}")
    if trial.layout:
        click.echo(f"layout {trial.layout}")
    if trial.failed:
        click.echo(f"\nproblems (1)\n  {trial.failed}\n\nnothing was stored")
        return EXIT_INPUT
    if trial.index_url:
        click.echo(f"index {trial.index_url}")
        click.echo(f"\npages ({len(trial.pages)})")
        for page in trial.pages:
            what = f"PDF {page.pdf}" if page.pdf else f"{page.articles} articles"
            click.echo(f"  {page.name or '(unnamed)'}  {what}  {page.url}")
    click.echo(f"\narticles ({len(trial.articles)})")
    for article in trial.articles:
        click.echo(f"  {f'[{article.page}] ' if article.page else ''}{article.title or '(untitled)'}")
        if article.fields:
            click.echo("      " + " · ".join(f"{k}：{v}" for k, v in article.fields))
        click.echo(f"      {article.start}")
    click.echo(f"\nproblems ({len(trial.problems)})")
    for problem in trial.problems:
        click.echo(f"  {problem}")
    if trial.notes:
        click.echo(f"\nnotes ({len(trial.notes)})")
        for note in trial.notes:
            click.echo(f"  {note}")
    click.echo("\nnothing was stored")
    return 0 if trial.ok else EXIT_INPUT
