"""What every response carries, what every request may not do, and the admin's door.

Headers: a Content-Security-Policy with no inline script and no framing, nosniff, no referrer
to other sites (alert links carry signed tokens in their path). A HEAD request is answered as
its GET would be (views see "GET"; the server drops the body), so no view can mistake it for a
POST: mail scanners send HEAD to every link. A request body over MAX_CONTENT_LENGTH is 413 with the site's
own page, and a 429 says when to come back (Retry-After).

TRACKER_TRUSTED_PROXIES=N (the number of reverse proxies in front, default 0) makes the client
address the one the Nth proxy saw (Werkzeug's ProxyFix), so rate limits key on real visitors
and nothing else in X-Forwarded-For is believed.

Admin pages need a session login with TRACKER_ADMIN_PASSWORD (compared in constant time); with
no password set, admin is closed. The session cookie holds a server-side session id (the
`admin_sessions` table) and a tag derived from the password: logging out deletes the id, and a
new password makes every old tag wrong, so a copied cookie stops working either way. A session
lasts at most TRACKER_ADMIN_SESSION_MAX_AGE seconds (7 days).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from typing import Callable

from flask import (Flask, Response, current_app, redirect, render_template, request, session,
                   url_for)

from tracker.store.admin_sessions import add_session, end_session, session_alive
from tracker.store.clock import iso
from tracker import settings

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# waitress drops X-Forwarded-* by default; the app decides instead: ProxyFix believes them only
# with TRACKER_TRUSTED_PROXIES, and their mere presence tells a relayed request from a local one.
WAITRESS_OPTIONS = {"clear_untrusted_proxy_headers": False}


def waitress_options(app: Flask) -> dict:
    """`tracker serve`'s waitress options. Waitress reads a whole request body (a chunked one,
    with no Content-Length, too) into memory or a temporary file before the app can refuse it,
    1 GB by default: it stops at a few times the app's own limit instead, so the app still
    answers a merely large request with its own 413 page."""
    limit = int(settings.value(app.config, "MAX_CONTENT_LENGTH"))
    return {**WAITRESS_OPTIONS, "max_request_body_size": 8 * limit}


def add_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    # Our paths carry tokens: never sent to another site. Same-site requests keep the Referer,
    # which Flask-WTF demands of every POST over https (no-referrer broke every form there).
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def head_is_get() -> None:
    """Views see a HEAD as the GET it is (Werkzeug still sends no body for it)."""
    if request.method == "HEAD":
        request.method = "GET"


FORWARDING_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP", "X-Forwarded-Host")


def from_this_machine() -> bool:
    """The client is on loopback and no proxy we were not told of stands between: a request
    relayed by a proxy on this host comes from 127.0.0.1 too, but carries forwarding headers.
    And it asked for this machine by a local name: a page elsewhere can make a browser here
    send requests to 127.0.0.1 under its own name (DNS rebinding: `evil.example` resolving to
    127.0.0.1) and read the answers, since to the browser they are that page's own site."""
    if not _local_name(request.host):
        return False
    if int(settings.value(current_app.config, "TRUSTED_PROXIES")) > 0:
        # ProxyFix made remote_addr the client the proxies saw; the peer that connected (the
        # proxy) must be on this machine too, or anyone could claim to be 127.0.0.1.
        peer = request.environ.get("werkzeug.proxy_fix.orig", {}).get("REMOTE_ADDR")
        return _loopback(request.remote_addr) and _loopback(peer or request.remote_addr)
    return _loopback(request.remote_addr) and not any(
        name in request.headers for name in FORWARDING_HEADERS)


def _local_name(host: str) -> bool:
    """`host` (a Host header, port and all) names this machine: localhost, a loopback address,
    or the host of TRACKER_BASE_URL."""
    from urllib.parse import urlsplit

    try:
        name = urlsplit(f"//{host}").hostname or ""
    except ValueError:
        return False
    name = name.rstrip(".")
    base = urlsplit(str(settings.value(current_app.config, "BASE_URL"))).hostname
    return name == "localhost" or name.endswith(".localhost") or _loopback(name) or name == base


def _loopback(address: str | None) -> bool:
    from ipaddress import ip_address

    try:
        return ip_address(address or "").is_loopback
    except ValueError:
        return False


def password_ok(given: str) -> bool:
    expected = str(settings.value(current_app.config, "ADMIN_PASSWORD"))
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def _tag(session_id: str) -> str:
    """The session id bound to the current password (and the app's secret key)."""
    key = f"{current_app.config.get('SECRET_KEY')}\0{current_app.config.get('ADMIN_PASSWORD')}"
    return hmac.new(key.encode(), session_id.encode(), hashlib.sha256).hexdigest()


def start_admin_session() -> None:
    """After a good password: a new server-side session id in a fresh cookie session."""
    from tracker.store import transaction
    from tracker.web.db import get_db

    session.clear()  # nothing from before the login carries over
    session_id = secrets.token_urlsafe(24)
    db = get_db()
    with transaction(db):
        add_session(db, session_id, request.remote_addr, _oldest())
    session["admin"] = session_id
    session["admin_tag"] = _tag(session_id)


def end_admin_session() -> None:
    """Logout: the server forgets the id, so a copy of the cookie is worth nothing."""
    from tracker.store import transaction
    from tracker.web.db import get_db

    session_id = session.get("admin")
    if isinstance(session_id, str):
        db = get_db()
        with transaction(db):
            end_session(db, session_id)
    session.clear()


def is_admin() -> bool:
    """A live admin session: its id still on the server, its tag made with today's password."""
    from tracker.web.db import get_db

    session_id, tag = session.get("admin"), session.get("admin_tag")
    if not settings.value(current_app.config, "ADMIN_PASSWORD") or not isinstance(session_id, str) \
            or not isinstance(tag, str) or not hmac.compare_digest(tag, _tag(session_id)):
        return False
    return session_alive(get_db(), session_id, _oldest())


def _oldest() -> str:
    """The start time of the oldest admin session still valid (TRACKER_ADMIN_SESSION_MAX_AGE)."""
    from datetime import datetime, timedelta, timezone

    age = float(settings.value(current_app.config, "ADMIN_SESSION_MAX_AGE"))
    return iso(datetime.now(timezone.utc) - timedelta(seconds=age))


def admin_required(view: Callable) -> Callable:
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if not is_admin():
            return redirect(url_for("admin.login", next=request.path))
        return view(*args, **kwargs)
    return wrapped


def _problem(title: str, text: str, status: int):
    return render_template("public/problem.html", title=title, text=text), status


def too_large(_error):
    limit = int(settings.value(current_app.config, "MAX_CONTENT_LENGTH"))
    return _problem("提交的内容太大", f"这次提交超过了 {limit // 1024} KB 的上限，没有被处理。"
                                     "请缩短内容后重试。", 413)


def too_many(error):
    """429 with Retry-After (seconds): when the limit that was hit resets; what was too
    frequent, in Chinese (a search, a login, a form)."""
    seconds = retry_after(error)
    if request.endpoint == "archive.articles":
        page = ("搜索太频繁", f"同一网络在短时间内搜索了太多次。请 {seconds} 秒后再试。")
    elif request.endpoint == "admin.login":
        page = ("登录尝试太多", f"短时间内密码错误的次数太多。请 {seconds} 秒后再试。")
    else:
        page = ("提交太频繁", "同一网络或同一地址在短时间内提交了太多次。请过一段时间再试。")
    response = current_app.make_response(_problem(*page, 429))
    response.headers.setdefault("Retry-After", str(seconds))
    return response


def retry_after(error) -> int:
    """Seconds until the limit behind `error` (a Flask-Limiter RateLimitExceeded) resets."""
    import math
    import time

    from tracker.web import limiter

    current = limiter.current_limit
    if current is not None and current.reset_at:
        return max(1, math.ceil(current.reset_at - time.time()))
    item = getattr(getattr(error, "limit", None), "limit", None)
    return max(1, int(item.get_expiry())) if item is not None else 60


def init_app(app: Flask) -> None:
    app.config["MAX_CONTENT_LENGTH"] = settings.value(app.config, "MAX_CONTENT_LENGTH")
    proxies = int(settings.value(app.config, "TRUSTED_PROXIES"))
    if proxies > 0:  # the client is who the last `proxies` hops say it is, no one further out
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Not X-Forwarded-Prefix: proxies seldom set it and pass a visitor's own on, and every
        # link and redirect would start with it (`//evil.example/…`).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies,
                                x_prefix=0)
    app.before_request(head_is_get)
    app.after_request(add_headers)
    app.register_error_handler(413, too_large)
    app.register_error_handler(429, too_many)
