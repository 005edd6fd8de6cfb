"""Commands for the web app: serve, demo."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import click
from tracker import settings


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@click.option("--grace", default=20.0, show_default=True, type=float,
              help="Seconds a stop (SIGTERM, Ctrl-C) waits for the requests under way.")
def serve(host: str, port: int, threads: int, grace: float) -> None:
    """Run the web app with waitress (a production WSGI server); the worker runs apart.
    SIGTERM stops accepting, finishes the requests under way and exits 0."""
    from tracker.web import create_app
    from tracker.web.security import waitress_options
    from tracker.web.serving import serve as run

    app = create_app()
    run(app, host, port, threads=threads, grace=grace, ident="tracker",
        on_ready=lambda url: click.echo(f"tracker web app on {url}"), **waitress_options(app))


DEMO_SOURCES = """\
# Made by `tracker demo`: one drop folder holding the bundled demo pages (written by us).
sources:
  - id: demo
    name: 演示日报
    path: {path}
    schedule: "*/2 * * * *"
"""


def demo_rules(config: dict, folder: Path) -> Path:
    """The demo's own copy of the rules, in the instance (`folder`): made on first use from
    TRACKER_RULES when that holds rule files, else from the starter rules beside the package,
    so the admin's editor in the demo never writes into a checkout's tracked `rules/`, and a
    demo started in a folder with no rules still has some."""
    import shutil

    if folder.is_dir():
        return folder
    here = Path(settings.value(config, "RULES"))
    starter = Path(__file__).resolve().parents[2] / "rules"
    for origin in (here, starter):
        files = sorted(origin.glob("*.yaml")) if origin.is_dir() else []
        if files:
            folder.mkdir(parents=True)
            for path in files:
                shutil.copy2(path, folder / path.name)
            click.echo(f"tracker demo: copied {len(files)} rule files from {origin} to {folder}")
            return folder
    raise click.ClickException(f"no rule files in {here} nor in {starter}: give TRACKER_RULES")


@click.command("demo")
@click.option("--port", default=5000, show_default=True, type=int)
@click.pass_obj
def demo(config: dict, port: int) -> None:
    """Set up the instance with demo pages, then run the worker and the web app together
    (SIGTERM or Ctrl-C stops both)."""
    import subprocess
    import sys
    from datetime import datetime

    from tracker.config import instance_file

    instance = Path(config["INSTANCE_PATH"])
    drop = instance / "demo-drop"
    sources = instance_file(config, "SOURCES")
    if not sources.exists():
        from tracker.demo import write_pages
        from tracker.web.messages import zone

        write_pages(drop, datetime.now(zone(config)).date())  # dated from today: a live demo
        sources.write_text(DEMO_SOURCES.format(path=drop), encoding="utf-8")
        click.echo(f"tracker demo: made {sources} with the demo pages in {drop}")
    rules = demo_rules(config, instance / "rules")
    # A quick demo: files read at once, the first fetch at start, mail every 2 s (a newcomer
    # finds the confirmation in the mailbox as soon as they look).
    env = {"TRACKER_FOLDER_SETTLE_SECONDS": "0", "TRACKER_DELIVERY_INTERVAL": "2",
           "TRACKER_FETCH_AT_START": "1", "TRACKER_RULES": str(rules)}
    worker = subprocess.Popen([sys.executable, "-m", "tracker", "worker"],
                              env={**os.environ, **env})

    def hang_up(signum: int, _frame: object) -> None:
        raise SystemExit(0)  # out of the server, through `finally`: the worker stops too

    signal.signal(signal.SIGHUP, hang_up)
    try:
        click.echo(f"tracker demo: open http://127.0.0.1:{port}/ (mail goes to {instance / 'mailbox'})")
        from tracker.web import create_app
        from tracker.web.security import waitress_options
        from tracker.web.serving import serve as run

        app = create_app({"DEMO": True, "RULES": str(rules)})
        # SIGTERM and Ctrl-C (even when the shell started us with SIGINT ignored) stop the
        # server gracefully, then the worker below.
        run(app, "127.0.0.1", port, threads=8, grace=5, ident="tracker", **waitress_options(app))
    finally:
        worker.terminate()  # SIGTERM: it finishes what it is doing and releases its lock
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)
