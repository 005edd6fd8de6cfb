"""GET /metrics: Prometheus metrics of the archive (see tracker.ops.metrics), text format 0.0.4.

Who may read them: with TRACKER_METRICS_TOKEN set, anyone who sends it
(`Authorization: Bearer <token>`, compared in constant time; none or a wrong one is 401);
with it unset, only clients on this machine (127.0.0.0/8, ::1, and no proxy in between: a
request carrying X-Forwarded-For or Forwarded came through one, unless TRACKER_TRUSTED_PROXIES
says how many to believe; others get 403). Behind a reverse proxy, set the token (or do not
route /metrics through the proxy and scrape the app's own port). Prometheus:

    scrape_configs:
      - job_name: tracker
        authorization: {credentials_file: /etc/prometheus/tracker-token}
        static_configs: [{targets: ["tracker.example.org:5000"]}]

GET only, no cookie: exempt from CSRF and from rate limits (a scraper polls every few seconds).
"""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, current_app, request

from tracker.web import csrf, limiter
from tracker.web.db import get_db
from tracker.web.security import from_this_machine
from tracker import settings

bp = Blueprint("metrics", __name__)
csrf.exempt(bp)
limiter.exempt(bp)


def _text(status: int, message: str, **headers: str) -> Response:
    return Response(message + "\n", status=status, mimetype="text/plain", headers=headers)


@bp.get("/metrics")
def metrics() -> Response:
    expected = str(settings.value(current_app.config, "METRICS_TOKEN"))
    if expected:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(),
                                                                 expected.encode()):
            return _text(401, "a valid token is required: Authorization: Bearer <token>",
                         **{"WWW-Authenticate": 'Bearer realm="tracker-metrics"'})
    elif not from_this_machine():
        return _text(403, "metrics are served to loopback only; set TRACKER_METRICS_TOKEN "
                          "to let others in with the token")
    from tracker.ops.metrics import CONTENT_TYPE, render

    response = Response(render(get_db()), status=200)
    response.headers["Content-Type"] = CONTENT_TYPE
    response.headers["Cache-Control"] = "no-store"
    return response
