"""Commands for the web app: serve."""

from __future__ import annotations

import click

from tracker.cli import main


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
def serve(host: str, port: int, threads: int) -> None:
    """Run the web app with waitress (a production WSGI server); the worker runs apart."""
    from waitress import serve as run

    from tracker.web import create_app

    click.echo(f"tracker web app on http://{host}:{port}/")
    run(create_app(), host=host, port=port, threads=threads, ident="tracker")
