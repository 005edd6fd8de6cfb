"""The `tracker` command: a thin layer over the package's functions, one module per area
(matching: match, rules; archive: sources, worker, search, backfill; alerts: subscribe,
subscriptions, deliver; ops: backup, metrics; web: serve, demo). The top layer: it may use every
package below it. Every command has a docstring (its help text); tests check that they all do."""

from __future__ import annotations

import os

import click

from tracker.config import load_config

EXIT_INPUT = 1  # some input could not be read (the others were processed)
EXIT_RULES = 2  # the rules cannot be used


class _Commands(click.Group):
    """`tracker --help` lists each command's whole first sentence, wrapped, never cut short (and
    so do its groups: `tracker rules --help`)."""

    group_class = type  # subgroups made with @main.group are _Commands too

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, command.get_short_help_str(limit=1000))
                for name in self.list_commands(ctx)
                if (command := self.get_command(ctx, name)) is not None and not command.hidden]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tracker")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Watch Chinese newspapers for the policies you follow."""
    ctx.obj = load_config()
    from tracker.ops.logs import setup

    setup(os.environ.get("TRACKER_LOG_LEVEL", "INFO"))  # TRACKER_LOG_JSON=1: JSON lines


def report(path: object, found: list, problems: list, noun: str) -> None:
    """What `rules check` and `sources check` print: each problem on stderr and exit 2, or OK."""
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        raise SystemExit(EXIT_RULES)
    click.echo(f"{path}: {len(found)} {noun} OK")


from tracker.cli import alerts, archive, matching, ops, web  # noqa: E402,F401 - commands register themselves


