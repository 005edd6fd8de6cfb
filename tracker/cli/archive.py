"""Commands for the archive: sources check, worker, search, backfill, stories rebuild."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from tracker.cli.common import EXIT_INPUT, EXIT_RULES, Commands, report
from tracker.config import instance_file


@click.group(cls=Commands)
def sources() -> None:
    """Check the sources file (instance/sources.yaml), or try one source."""


@sources.command("check")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.pass_obj
def sources_check(config: dict, path: Path | None) -> None:
    """Validate a sources file (default: TRACKER_SOURCES); print `file:line: problem` for each."""
    from tracker.sources.catalog import check_sources

    path = path or instance_file(config, "SOURCES")
    report(path, *check_sources(path), "sources")


@sources.command("try")
@click.argument("source")
@click.option("--date", "day", help="The issue date, YYYY-MM-DD (default: today in the source's "
                                    "time zone).")
@click.option("--layout", help="The e-paper layout preset (founder, founder-pc, founder-nbs); "
                               "default: as configured, or told from the URL.")
@click.pass_obj
def sources_try(config: dict, source: str, day: str | None, layout: str | None) -> None:
    """Fetch one issue of a source (its id, or a URL) now and print its pages, articles and problems; nothing is stored, no lock is taken."""
    from datetime import date

    from tracker.cli.sources_try import find_source, try_source
    from tracker.sources.epaper import LAYOUTS

    if layout is not None and layout not in LAYOUTS:
        raise click.BadParameter(f"{layout!r} is not a layout: one of {', '.join(LAYOUTS)}",
                                 param_hint="--layout")
    found = find_source(source, instance_file(config, "SOURCES"), layout)
    when = _date_option(day, "--date")
    raise SystemExit(try_source(found, date.fromisoformat(when) if when else None, config))


@click.command("worker")
@click.option("--once", is_flag=True, help="Run one full cycle now, then exit.")
@click.pass_obj
def worker(config: dict, once: bool) -> None:
    """Fetch every source on its schedule, match new articles, keep them (until SIGTERM)."""
    from tracker.sources.catalog import SourcesError
    from tracker.worker.service import Worker, locked, schedule

    service = Worker(config)
    try:
        service.sources()
    except SourcesError as err:
        for problem in err.problems:
            click.echo(str(problem), err=True)
        raise SystemExit(EXIT_RULES) from None
    if not once:
        raise SystemExit(locked(service, lambda: schedule(service)))

    def cycle() -> int:
        if sys.stderr.isatty():
            with click.progressbar(length=len(service.sources()), label="sources",
                                   file=sys.stderr) as bar:
                reports = service.once(on_done=lambda _: bar.update(1))
        else:
            reports = service.once()
        return EXIT_INPUT if any(r.status == "error" for r in reports) else 0

    raise SystemExit(locked(service, cycle))


def _date_option(value: str | None, option: str) -> str | None:
    """A YYYY-MM-DD date, or a usage error naming the option (never "nothing found")."""
    from datetime import date

    if value is None:
        return None
    try:
        if len(value.strip()) == 10:
            return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        pass
    raise click.BadParameter(f"{value!r} is not a date: give YYYY-MM-DD, e.g. 2025-04-09",
                             param_hint=option)


@click.command("search")
@click.argument("query")
@click.option("--source", help="Only articles from this source id.")
@click.option("--since", help="Only articles from this date on (YYYY-MM-DD).")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["text", "jsonl"]), default="text",
              show_default=True)
@click.pass_obj
def search(config: dict, query: str, source: str | None, since: str | None, limit: int,
           fmt: str) -> None:
    """Full-text search of the archive (Chinese-aware; 2-character words work too). Several
    words (专业镇 标准地, 专业镇、标准地, 专业镇,贷款) find the articles holding all of them;
    a quoted phrase ("…" or “…”) stays one phrase."""
    from tracker.store import connect
    from tracker.store.search import search as find
    from tracker.text.passage import result_passage

    found = find(connect(instance_file(config, "DATABASE")), query, source=source,
                 since=_date_option(since, "--since"), limit=limit)
    for f in found:
        passage = result_passage(f.title, f.text, query)
        if fmt == "jsonl":
            click.echo(json.dumps({"id": f.id, "title": f.title, "source": f.source,
                                   "date": f.date, "url": f.url, "snippet": passage},
                                  ensure_ascii=False))
        else:
            click.echo(f"{f.date or '?'}  {f.source or '?'}  {f.title or '(untitled)'}  #{f.id}")
            click.echo(f"    {passage}")
    if fmt == "text" and not found:
        click.echo("nothing found")


@click.command("backfill")
@click.option("--rule", "rule_id", required=True, help="The rule's id.")
@click.option("--days", type=int, help="Only articles of the last N days (default: all).")
@click.option("--alert", is_flag=True,
              help="Queue the alerts of the new hits for the rule's subscribers (never twice).")
@click.pass_obj
def backfill(config: dict, rule_id: str, days: int | None, alert: bool) -> None:
    """Match archived articles against one rule (new or changed); alerts only with --alert."""
    from tracker.rules import RulesError, load_rules
    from tracker.store import connect
    from tracker.worker.backfill import backfill as run, count_articles

    try:
        rules = {r.id: r for r in load_rules(config["RULES"])}
    except RulesError as err:
        click.echo(str(err), err=True)
        raise SystemExit(EXIT_RULES) from None
    if rule_id not in rules:
        click.echo(f"no rule with id {rule_id!r} in {config['RULES']}", err=True)
        raise SystemExit(EXIT_RULES)
    db = connect(instance_file(config, "DATABASE"))
    if sys.stderr.isatty():
        with click.progressbar(length=count_articles(db, days), label="articles",
                               file=sys.stderr) as bar:
            fired, new, due = run(db, rules[rule_id], days, advance=bar.update, alert=alert)
    else:
        fired, new, due = run(db, rules[rule_id], days, alert=alert)
    queued = f"{due} alerts queued" if alert else "no alerts queued (--alert queues them)"
    click.echo(f"{rule_id}: fires in {fired} archived articles; {new} new hits recorded; {queued}")


@click.group(cls=Commands)
def stories() -> None:
    """Stories: the copies of one news story in several papers, kept together."""


@stories.command("rebuild")
@click.option("--reset", is_flag=True,
              help="Forget every story first and cluster the whole archive again.")
@click.pass_obj
def stories_rebuild(config: dict, reset: bool) -> None:
    """Put archived articles in their stories (those kept before stories existed, or all with
    --reset); killed half-way, run it again (without --reset) and it goes on where it stopped."""
    from tracker.store import connect
    from tracker.worker.stories import left_to_cluster, rebuild

    db = connect(instance_file(config, "DATABASE"))
    total = db.execute("SELECT count(*) FROM articles").fetchone()[0] if reset \
        else left_to_cluster(db)
    if sys.stderr.isatty():
        with click.progressbar(length=total, label="articles", file=sys.stderr,
                               show_pos=True, show_eta=True) as bar:
            done, found = rebuild(db, reset=reset, advance=bar.update)
    else:  # a log: one line per batch
        seen = [0]

        def advance(n: int) -> None:
            seen[0] += n
            click.echo(f"{seen[0]}/{total} articles", err=True)

        done, found = rebuild(db, reset=reset, advance=advance)
    click.echo(f"{done} articles put in stories; the archive holds {found} stories")
