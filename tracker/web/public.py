"""The public pages: subscribe, confirm, manage, leave; and /healthz."""

from __future__ import annotations

from flask import Blueprint, jsonify

from tracker.web.db import get_db

bp = Blueprint("public", __name__)


@bp.get("/healthz")
def healthz():
    """200 with the database reachable and the last worker cycle; 503 when the database is not."""
    try:
        row = get_db().execute("SELECT max(finished) FROM runs").fetchone()
    except Exception as err:  # noqa: BLE001 - a health check reports, it does not fail
        return jsonify(status="error", database=f"{type(err).__name__}: {err}"), 503
    return jsonify(status="ok", database="ok", last_cycle=row[0])
