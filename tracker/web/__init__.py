"""The web app: subscribe, manage, search the archive, edit rules.

    app = create_app()            # flaskr style: defaults, instance/config.py, TRACKER_* env
    tracker serve                 # waitress on http://127.0.0.1:5000

Blueprints, one per area, all registered in `create_app`: public (subscribe, confirm, manage,
unsubscribe, /healthz), archive (/articles, /trends), admin (/admin…, with the rules editor in
admin_rules and the source editor in admin_sources), api (/api/…), metrics (/metrics),
mailbox (the demo's mail). The scheduler never
runs here: the worker is its own process (`tracker worker`). The only package that imports
flask; may use alerts, ops, store, matching, rules and the helpers below them, never worker or cli.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from flask import Flask, redirect, url_for
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect
from werkzeug.routing import IntegerConverter

from tracker.alerts.links import secret_key
from tracker.config import instance_path, load_config
from tracker import settings

csrf = CSRFProtect()


def client_key() -> str:
    """Whom a rate limit counts: the client's IPv4 address, or the /64 network of an IPv6 one
    (one customer's share: they could pick a fresh address in it for every request)."""
    from ipaddress import IPv6Address, ip_address

    address = get_remote_address()
    try:
        parsed = ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return f"{IPv6Address(int(parsed) >> 64 << 64)}/64"
    return address


limiter = Limiter(key_func=client_key, default_limits=[])
MAX_ROW_ID = 2**63 - 1  # SQLite's largest integer


class RowId(IntegerConverter):
    """`<int:…>` in every route: at most SQLite's largest integer, so that a longer number is
    no such page (404), never an OverflowError from the database (a 500 and a traceback)."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None,  # noqa: A002
                 max: int | None = MAX_ROW_ID, signed: bool = False) -> None:  # noqa: A002
        super().__init__(map, fixed_digits, min, max, signed)


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """The app. The instance folder is passed explicitly: an installed package would otherwise
    get $PREFIX/var/tracker-instance."""
    instance = Path((test_config or {}).get("INSTANCE_PATH") or instance_path()).resolve()
    app = Flask(__name__, instance_path=str(instance), instance_relative_config=True)
    app.url_map.converters["int"] = RowId  # before any route is added
    # Flask's own settings, then tracker's, read as the worker and the CLI read them.
    app.config.from_mapping(SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_HTTPONLY=True,
                            WTF_CSRF_TIME_LIMIT=12 * 3600)
    app.config.from_mapping(load_config({**(test_config or {}), "INSTANCE_PATH": str(instance)}))
    instance.mkdir(parents=True, exist_ok=True)
    app.config["SECRET_KEY"] = secret_key(app.config)
    if str(app.config["BASE_URL"]).startswith("https:"):  # Flask's default is False: not setdefault
        app.config["SESSION_COOKIE_SECURE"] = True
    app.config.setdefault("RATELIMIT_STORAGE_URI", f"sqlite://{instance / 'ratelimit.db'}")

    from tracker.web import db, security
    from tracker.web import ratelimit  # noqa: F401 - registers the sqlite:// limits storage

    db.init_app(app)
    security.init_app(app)
    csrf.init_app(app)
    # The blueprints' decorators share one limiter; Flask-Limiter takes default limits from the
    # first app configured with them and keeps them for every later app in the process. Each
    # app states its own (none, unless RATELIMIT_DEFAULT is configured).
    limiter.limit_manager.set_default_limits([])
    limiter.init_app(app)
    # Every blueprint, named here. The rules editor's views live in admin_rules on admin's
    # blueprint (its endpoints are admin.*), /api/docs in api_docs on api's: importing them adds
    # their views before admin.bp and api.bp are registered.
    from tracker.web import (admin, admin_rules, admin_sources, api, api_docs,  # noqa: F401
                             archive, feeds, mailbox, metrics, public)
    for blueprint in (public.bp, archive.bp, feeds.bp, admin.bp, api.bp, metrics.bp, mailbox.bp):
        app.register_blueprint(blueprint)

    # Chinese error pages (problem+json under /api/), template filters, favicon.
    from tracker.web import errors, messages

    errors.init_app(app)
    messages.init_app(app)
    app.add_url_rule("/favicon.ico", "favicon", lambda: app.send_static_file("favicon.ico"))

    @app.get("/")
    def index():
        return redirect(url_for("public.subscribe") if "public.subscribe" in app.view_functions
                        else url_for("public.healthz"))

    @app.context_processor
    def navigation():
        links = [("public.subscribe", "订阅"), ("archive.articles", "文章"),
                 ("archive.trends", "趋势"), ("admin.index", "管理")]
        if settings.value(app.config, "DEMO") and not settings.value(app.config, "SMTP_HOST"):  # the demo's mailbox
            links.append(("mailbox.index", "邮箱"))
        return {"nav_links": lambda: [(e, label) for e, label in links if e in app.view_functions]}

    return app
