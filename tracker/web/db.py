"""The archive for the web app: one connection per request, on `g`, closed at teardown."""

from __future__ import annotations

import sqlite_utils
from flask import Flask, current_app, g

from tracker.config import instance_file
from tracker.store import connect


def get_db() -> sqlite_utils.Database:
    if "db" not in g:
        g.db = connect(instance_file(current_app.config, "DATABASE"))
    return g.db


def close_db(_error: BaseException | None = None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.conn.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_db)
