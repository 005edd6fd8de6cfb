"""The archive for the web app: one connection per request, on `g`, closed at teardown.

The schema is migrated once, when the app is made (`init_app`), never per request. A GET or HEAD
request gets a read-only connection: it reads its snapshot while the worker writes, never waits
for the write lock, and cannot change anything (nothing changes on GET).
"""

from __future__ import annotations

import logging
import sqlite3

import sqlite_utils
from flask import Flask, current_app, g, has_request_context, request

from tracker.config import instance_file
from tracker.store import connect, migrate

log = logging.getLogger(__name__)


_MIGRATED = "tracker.migrated"


def get_db() -> sqlite_utils.Database:
    if "db" not in g:
        path = instance_file(current_app.config, "DATABASE")
        if not current_app.extensions.get(_MIGRATED):  # start-up could not: try once more
            migrate(path)
            current_app.extensions[_MIGRATED] = True
        g.db = connect(path, migrate=False,
                       read_only=has_request_context() and request.method in ("GET", "HEAD"))
    return g.db


def close_db(_error: BaseException | None = None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.conn.close()


def init_app(app: Flask) -> None:
    """Migrate the archive now, once; an archive that cannot be opened yet is left to the
    requests, which say so (/healthz: 503) and try again."""
    try:
        migrate(instance_file(app.config, "DATABASE"))
        app.extensions[_MIGRATED] = True
    except (sqlite3.Error, OSError) as err:
        log.error("the archive cannot be opened: %s", err)
    app.teardown_appcontext(close_db)
