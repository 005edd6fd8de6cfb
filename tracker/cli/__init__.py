"""The `tracker` command: a thin layer over the package's functions, one module per area
(matching: match, rules; archive: sources, worker, search, backfill, stories; alerts: subscribe,
subscriptions, deliver; ops: backup, metrics; web: serve, demo). The top layer: it may use every
package below it. Every command has a docstring (its help text); tests check that they all do.
The modules define their commands; this one registers each by name (COMMANDS)."""

from __future__ import annotations

import click

from tracker.cli import alerts, archive, matching, ops, web
from tracker.cli.common import EXIT_INPUT, EXIT_RULES, Commands, report
from tracker.config import SettingError, load_config

__all__ = ["EXIT_INPUT", "EXIT_RULES", "main", "report"]


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tracker")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Watch Chinese newspapers for the policies you follow."""
    from tracker.ops.logs import setup

    setup("INFO")  # first: a config.py that load_config does not run is said so in the log
    try:
        ctx.obj = load_config()
    except SettingError as err:
        click.echo(f"tracker: {err}", err=True)
        raise SystemExit(2) from None
    setup(ctx.obj["LOG_LEVEL"], json_lines=ctx.obj["LOG_JSON"])  # as configured, config.py too


# Every command, by area; `tracker --help` lists them by name.
COMMANDS = (
    matching.rules, matching.match,
    archive.sources, archive.worker, archive.search, archive.backfill, archive.stories,
    alerts.subscribe, alerts.subscriptions, alerts.deliver,
    ops.backup, ops.metrics, ops.health,
    web.serve, web.demo,
)
for _command in COMMANDS:
    main.add_command(_command)
