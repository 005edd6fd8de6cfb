"""Commands for trying rules: match, rules check/import-trendradar/schema."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from collections import defaultdict
from functools import partial
from importlib import resources
from json.encoder import encode_basestring
from pathlib import Path

import click

from tracker.config import cache_folder
from tracker.cli.common import EXIT_INPUT, EXIT_RULES, Commands, report
from tracker.documents import InputError
from tracker.rules import RulesError, load_rules, read_rule_set


@click.group(cls=Commands)
def rules() -> None:
    """Check and describe keyword rule files."""


@rules.command("check")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.pass_obj
def rules_check(config: dict, path: Path | None) -> None:
    """Validate rule files (default: TRACKER_RULES); print `file:line: problem` for each."""
    path = path or Path(config["RULES"])
    found = read_rule_set(path)
    if found.globals:
        click.echo(f"global excludes ({', '.join(found.globals.files)}), applied to every rule: "
                   + ", ".join(found.globals.shown()))
    report(path, found.rules, found.problems, "rules")


@rules.command("import-trendradar")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write the rule files to (default: TRACKER_RULES).")
@click.option("--prefix", default="tr-", show_default=True, help="Start of every rule id.")
@click.option("--dry-run", is_flag=True, help="Print the files instead of writing them.")
@click.pass_obj
def rules_import_trendradar(config: dict, file: Path, out: Path | None, prefix: str,
                            dry_run: bool) -> None:
    """Convert a TrendRadar frequency_words.txt into rule files (one per group; [GLOBAL_FILTER]
    into a global-excludes file) and say what could not be carried over."""
    from tracker.rules.trendradar import convert

    from tracker.text.encoding import decode

    try:  # UTF-8 with or without BOM, or GBK/GB18030 as Windows editors save it
        text, _ = decode(file.read_bytes(), str(file))
    except OSError as err:
        click.echo(f"tracker: {file}: cannot read: {err}", err=True)
        raise SystemExit(EXIT_INPUT) from None
    except InputError as err:
        click.echo(f"tracker: {err}", err=True)
        raise SystemExit(EXIT_INPUT) from None
    imported = convert(text, file.name, prefix)
    if imported.refused:  # TrendRadar's reading is not what the author meant: nothing written
        for line in imported.refused:
            click.echo(f"ambiguous: {line}", err=True)
        count = len(imported.refused)
        click.echo(f"tracker: {file}: {count} line{'s' if count > 1 else ''} read ambiguously "
                   "(above); nothing written: make them say what you mean and import again",
                   err=True)
        raise SystemExit(EXIT_INPUT)
    if not imported.files:
        for line in imported.dropped:
            click.echo(f"not carried over: {line}", err=True)
        click.echo(f"tracker: {file}: no TrendRadar keyword group found, nothing written",
                   err=True)
        raise SystemExit(EXIT_INPUT)
    folder = out or Path(config["RULES"])
    taken = [name for name in imported.files if (folder / name).exists()]
    if dry_run:
        for name, body in imported.files.items():
            click.echo(f"--- {folder / name}\n{body}")
    elif taken:
        click.echo(f"tracker: not written, these files exist already in {folder}: "
                   + ", ".join(taken) + " (use --out or --prefix)", err=True)
        raise SystemExit(EXIT_INPUT)
    else:
        folder.mkdir(parents=True, exist_ok=True)
        for name, body in imported.files.items():
            (folder / name).write_text(body, encoding="utf-8")
    for line in imported.dropped:
        click.echo(f"not carried over: {line}", err=True)
    for line in imported.notes:
        click.echo(f"note: {line}", err=True)
    click.echo(f"{len(imported.files)} rule files {'would be ' if dry_run else ''}written to "
               f"{folder}; {len(imported.dropped)} lines not carried over")
    if not dry_run and imported.files:
        problems = read_rule_set(folder).problems
        for problem in problems:
            click.echo(str(problem), err=True)
        if problems:
            raise SystemExit(EXIT_RULES)


@rules.command("schema")
def rules_schema() -> None:
    """Print the JSON Schema of a rule file (for editors and CI)."""
    click.echo(resources.files("tracker.rules").joinpath("rule.schema.json").read_text("utf-8"))


def _load_rules_or_exit(path: Path, cache: Path | None = None) -> list:
    try:
        return load_rules(path, cache)
    except RulesError as err:
        for problem in err.problems:
            click.echo(str(problem), err=True)
        raise SystemExit(EXIT_RULES) from None


@click.command("match")
@click.option("--rules", "rules_path", type=click.Path(path_type=Path),
              help="Rule file or folder (default: TRACKER_RULES).")
@click.option("--format", "fmt", type=click.Choice(["text", "jsonl"]), default="text",
              show_default=True, help="text: grouped by rule; jsonl: one line per rule and article.")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=0, show_default=True,
              help="Processes that match inputs at once (0: one per CPU). Output keeps the "
                   "order of the inputs either way.")
@click.argument("inputs", nargs=-1, required=True)
@click.pass_obj
def match(config: dict, rules_path: Path | None, fmt: str, jobs: int,
          inputs: tuple[str, ...]) -> None:
    """Dry run: match INPUT files or URLs (.txt .html .pdf, RSS/Atom) against the rules."""
    from tracker.matching import Matcher

    matcher = Matcher(_load_rules_or_exit(rules_path or Path(config["RULES"]),
                                          cache_folder(config)))
    marks = click.style("\0", fg="red", bold=True).split("\0") if fmt == "text" and \
        sys.stdout.isatty() else ("【", "】")
    work = partial(_match_input, matcher, config, fmt, tuple(marks))
    failed = 0
    grouped: dict[str, list] = defaultdict(list)
    warn = partial(click.echo, err=True)
    for found, error in map_in_order(work, inputs, jobs or cpus(),
                                     warn=lambda text: warn(f"tracker: {text}")):
        if error:
            click.echo(f"tracker: {error}", err=True)
            failed += 1
        elif fmt == "jsonl":
            if found:
                click.echo(found)  # bytes: encoded where they were made, written as they are
        else:
            for entry in found:
                grouped[entry[0]].append(entry[1:])
    if fmt == "text":
        _print_grouped(matcher, grouped, color=marks[0] != "【")
    if failed:
        click.echo(f"tracker: {failed} of {len(inputs)} inputs could not be read", err=True)
        raise SystemExit(EXIT_INPUT)


def _match_input(matcher, config: dict, fmt: str, marks: tuple[str, str], ref: str):
    """One input read and matched: (output, None) or (None, what went wrong). The output is
    plain data (it may come back from a forked child): for jsonl the input's lines, joined and
    UTF-8 encoded (one write per input: 100,000 rules give ~300 lines a page); for text one
    (rule id, ref, title, hit count, passages) per rule and article."""
    from tracker.sources import read

    try:
        documents = read(ref, config)
        results = matcher.match_many(documents)
    except InputError as err:
        return None, str(err)
    except Exception as err:  # noqa: BLE001 - one input's failure must not stop the others
        return None, f"{ref}: could not be matched ({type(err).__name__}: {err})"
    if fmt == "jsonl":
        return _json_lines(ref, documents, results).encode(), None
    return [(found.rule.id, ref, found.title, found.count, _passages(found, marks),
             found.left_out) for fired in results for found in fired], None


def _passages(found, marks: tuple[str, str]) -> list[str]:
    """The occurrences' passages, marked; a sentence with several is one passage, shown once."""
    return list(dict.fromkeys(o.snippet.marked(*marks) for o in found.occurrences))


def _json_lines(ref: str, documents: list, results: list) -> str:
    """The JSON lines of one input: one per rule and article (see `_json_line`); what every line
    of a document repeats (the input, the article's title, entry, url, published) encoded once."""
    document = encode_basestring(ref)
    lines = []
    for entry, (doc, fired) in enumerate(zip(documents, results), start=1):
        tail = f', "entry": {entry:d}' if len(documents) > 1 or doc.kind == "feed-entry" else ""
        if doc.url:
            tail += ', "url": ' + _json(doc.url)
        if doc.published:
            tail += ', "published": ' + _json(doc.published)
        titles: dict = {}
        for found in fired:
            title = titles.get(found.title) or titles.setdefault(found.title, _json(found.title))
            lines.append(_json_line(found, document, title, tail))
    return "\n".join(lines)


def _json_line(found, document: str, title: str, tail: str) -> str:
    """One JSON line: {rule, document, title, [entry], [url], [published], hits: [{keyword,
    field, offset, snippet, [name]}], [hits_left_out]}, the bytes json.dumps(…,
    ensure_ascii=False) gives for it (`hits_left_out`: occurrences past the first
    MAX_OCCURRENCES, not listed; `hits` and `hits_left_out` are documented names and stay),
    written out directly (a page's hundreds of lines, without a dict and encoder pass each);
    `document`, `title` and `tail` (entry, url, published) come encoded already."""
    rule = found.rule
    hits = []
    for h in found.occurrences:
        hit = (f'{{"keyword": {encode_basestring(h.keyword)}, "field": "{h.field}", '
               f'"offset": {h.start:d}, "snippet": {encode_basestring(h.snippet.marked())}')
        if rule.names and (name := rule.display_name(h.keyword)):
            hit += f', "name": {_json(name)}'
        hits.append(hit + "}")
    left_out = f', "hits_left_out": {found.left_out:d}' if found.left_out else ""
    return (f'{{"rule": {encode_basestring(rule.id)}, "document": {document}, "title": {title}'
            f'{tail}, "hits": [{", ".join(hits)}]{left_out}}}')


def _json(value) -> str:
    """A JSON value as json.dumps(value, ensure_ascii=False) writes it; strings the fast way."""
    if isinstance(value, str):
        return encode_basestring(value)
    if value is None:
        return "null"
    if type(value) is int:
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


def _print_grouped(matcher, grouped: dict[str, list], color: bool) -> None:
    from tracker.matching.matcher import MAX_OCCURRENCES

    for rule in matcher.rules:
        found = grouped.get(rule.id)
        if not found:
            continue
        total = sum(entry[2] for entry in found)
        click.echo(click.style(f"{rule.name} ({rule.id}): {total} hits in {len(found)} articles",
                               bold=color))
        for ref, title, _, passages, left_out in found:
            click.echo(f"  {ref} · {title or '(untitled)'}")
            for passage in passages:
                click.echo(f"    {passage}")
            if left_out:
                click.echo(f"    … {left_out} more hits in this article not shown "
                           f"(the first {MAX_OCCURRENCES} are kept)")
        click.echo("")
    if not grouped:
        click.echo("no rule fired")


# ---- `--jobs`: inputs over processes (concurrent.futures) -------------------------------------

def cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


_work: Callable | None = None  # what a child runs, set by `_adopt` in each child


def _adopt(work: Callable) -> None:
    global _work
    _work = work
    # Ctrl-C reaches the whole process group: the parent stops the pool, the children stay quiet.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _call(item):
    assert _work is not None
    return _work(item)


def map_in_order(work: Callable, items: Sequence, jobs: int, chunk: int = 4,
                 warn: Callable[[str], None] | None = None) -> Iterator:
    """`map(work, items)` over up to `jobs` processes of a `ProcessPoolExecutor`, forked after
    the rules are compiled so that they share them (`work` goes to each child once, by the
    fork, never pickled); in this process when jobs is 1, there are too few items, or the
    platform cannot fork. `work` must catch its own errors. A child that dies (killed for its
    memory) breaks the pool: `warn` is told and the items not yet answered are worked here, in
    order. Stopped early (Ctrl-C, SIGTERM, the caller gone), the children are ended."""
    jobs = min(jobs, len(items) // chunk)
    if jobs <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        yield from map(work, items)
        return
    for stream in (sys.stdout, sys.stderr):  # a child must not write the parent's buffer again
        if stream is not None:  # None: started with that descriptor closed
            stream.flush()
    # SIGTERM to the parent alone (`timeout`, a supervisor) must not leave the children working.
    previous = signal.signal(signal.SIGTERM, _terminated)
    pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork"),
                               initializer=_adopt, initargs=(work,))
    answered = 0
    try:
        for value in pool.map(_call, items, chunksize=chunk):
            answered += 1
            yield value
        pool.shutdown()
    except BrokenProcessPool:
        if warn:
            warn(f"a matching process died; the {len(items) - answered} inputs left are matched "
                 "in this one")
    finally:
        if answered < len(items):
            pool.shutdown(wait=False, cancel_futures=True)
            for child in multiprocessing.active_children():  # the pool's: this one has no others
                child.terminate()
                child.join(timeout=10)
            # Its manager thread sees the children gone and ends; joined here, it is not woken
            # again at exit through a pipe it has closed (a traceback on a clean SIGTERM).
            pool.shutdown(wait=True)
        signal.signal(signal.SIGTERM, previous)
    yield from map(work, items[answered:])


def _terminated(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # out through `map_in_order`'s finally, which ends the children
