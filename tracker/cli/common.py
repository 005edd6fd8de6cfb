"""What every command module shares: exit codes, the help layout, the OK-or-problems report.

Apart from tracker/cli/__init__.py so that the command modules import it, and __init__ imports
them and registers each command by name (no import circle, no registering by side effect)."""

from __future__ import annotations

import click

EXIT_INPUT = 1  # some input could not be read (the others were processed)
EXIT_RULES = 2  # the rules cannot be used


class Commands(click.Group):
    """`tracker --help` lists each command's whole first sentence, wrapped, never cut short (and
    so do its groups: `tracker rules --help`)."""

    group_class = type  # subgroups made with @group.group are Commands too

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, command.get_short_help_str(limit=1000))
                for name in self.list_commands(ctx)
                if (command := self.get_command(ctx, name)) is not None and not command.hidden]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def report(path: object, found: list, problems: list, noun: str) -> None:
    """What `rules check` and `sources check` print: each problem on stderr and exit 2, or OK."""
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        raise SystemExit(EXIT_RULES)
    click.echo(f"{path}: {len(found)} {noun} OK")
