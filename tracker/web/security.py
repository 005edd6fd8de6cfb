"""What every response carries, and the admin's door.

Headers: a Content-Security-Policy with no inline script and no framing, nosniff, no referrer
(alert links carry signed tokens in their path). Admin pages need a session login with
TRACKER_ADMIN_PASSWORD (compared in constant time); with no password set, admin is closed.
"""

from __future__ import annotations

import functools
import hmac
from typing import Callable

from flask import Flask, Response, current_app, redirect, request, session, url_for

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def add_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response


def password_ok(given: str) -> bool:
    expected = str(current_app.config.get("ADMIN_PASSWORD") or "")
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def admin_required(view: Callable) -> Callable:
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if not session.get("admin"):
            return redirect(url_for("admin.login", next=request.path))
        return view(*args, **kwargs)
    return wrapped


def init_app(app: Flask) -> None:
    app.after_request(add_headers)
