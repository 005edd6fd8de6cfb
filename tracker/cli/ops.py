"""Commands for running tracker: backup, metrics."""

from __future__ import annotations

from pathlib import Path

import click

from tracker.cli.common import EXIT_INPUT
from tracker.config import instance_file
from tracker import settings


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


@click.command("health")
@click.option("--worker", "worker_only", is_flag=True,
              help="Only whether the worker lives (the worker container's healthcheck).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object, as /readyz answers.")
@click.pass_obj
def health(config: dict, worker_only: bool, as_json: bool) -> None:
    """Say whether the service works: the worker alive (its process and heartbeat), each
    source's last good run, deliveries waiting and failing, the mail relay reachable. Exit 0
    when the worker lives, 1 when it does not or there is no database."""
    import json

    from tracker.alerts.email.relay import relay_address
    from tracker.ops.health import readiness
    from tracker.store import connect

    path = instance_file(config, "DATABASE")
    if not path.is_file():
        click.echo(f"tracker: no database at {path}", err=True)
        raise SystemExit(1)
    db = connect(path, migrate=False, read_only=True)
    try:
        ready = readiness(db, None if worker_only else relay_address(config),
                          float(settings.value(config, "LOCK_HEARTBEAT_SECONDS")))
    finally:
        db.conn.close()
    if as_json:
        click.echo(json.dumps(ready.as_dict(), ensure_ascii=False))
    else:
        w = ready.worker
        click.echo(f"worker: {'alive' if w.alive else 'DOWN'}"
                   + (f" ({w.holder}, heartbeat {w.heartbeat_age:.0f} s ago)" if w.holder else "")
                   + (f": {w.problem}" if w.problem else ""))
        if not worker_only:
            for s in ready.sources:
                click.echo(f"source {s['id']}: last good run {s['last_success'] or 'never'}"
                           + (f", failing ({s['last_status']})" if s["failing"] else ""))
            d = ready.deliveries
            click.echo(f"deliveries: {d['pending']} pending, {d['failing']} failing, "
                       f"{d['dead']} dead")
            click.echo(f"relay: {ready.relay}")
            click.echo(f"status: {ready.status}")
    raise SystemExit(0 if ready.ready else 1)
