"""Commands for running tracker: backup, metrics."""

from __future__ import annotations

from pathlib import Path

import click

from tracker.cli.common import EXIT_INPUT
from tracker.config import instance_file


@click.command("backup")
@click.argument("dest", required=False, type=click.Path(path_type=Path))
@click.pass_obj
def backup(config: dict, dest: Path | None) -> None:
    """Copy the archive while it is in use (default: instance/backups/tracker-YYYYmmdd-HHMMSS.db)."""
    from tracker.ops.backup import BackupError
    from tracker.ops.backup import backup as make_backup

    try:
        path = make_backup(instance_file(config, "DATABASE"), dest)
    except (FileNotFoundError, FileExistsError, BackupError, OSError) as err:
        click.echo(f"tracker: backup failed: {err}", err=True)
        raise SystemExit(EXIT_INPUT) from None
    click.echo(f"{path} {path.stat().st_size} bytes")


@click.command("metrics")
@click.pass_obj
def metrics(config: dict) -> None:
    """Print the Prometheus metrics of the archive (e.g. for node_exporter's textfile collector)."""
    from tracker.ops.metrics import render
    from tracker.store import connect

    path = instance_file(config, "DATABASE")
    if not path.is_file():
        click.echo(f"tracker: no database at {path}", err=True)
        raise SystemExit(EXIT_INPUT)
    db = connect(path)
    try:
        click.echo(render(db).decode("utf-8"), nl=False)
    finally:
        db.conn.close()
