"""The admin pages: login, the dashboard (sources, runs, counts, failing deliveries, disabled
subscriptions), the subscriptions list; the rules editor is in `tracker.web.admin_rules`.

Every page but login needs the session login (`security.admin_required`); with no
TRACKER_ADMIN_PASSWORD set admin is closed. Every form posts a CSRF token (the app's
CSRFProtect checks it); everything shown is autoescaped by the templates.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from tracker.store import transaction
from tracker.store.clock import now
from tracker.store.deliveries import delivery_states, due_again, failing_deliveries, status_counts
from tracker.store.subscriptions import disabled_subscriptions, subscriptions_with_last_sent
from tracker.web import limiter
from tracker.web.db import get_db
from tracker.web.messages import zh_status
from tracker.web.rulecache import checked_rules
from tracker.web.security import (admin_required, end_admin_session, password_ok,
                                   start_admin_session)
from tracker import settings

bp = Blueprint("admin", __name__, url_prefix="/admin")

LOGIN_LIMIT = "10 per minute"  # failed logins per client address


def login_limit_all() -> str:
    """Failed logins from all clients together (ADMIN_LOGIN_LIMIT_ALL, 30 per 10 minutes):
    whoever guesses from many addresses is slowed down to that, and every login waits with it."""
    return current_app.config["ADMIN_LOGIN_LIMIT_ALL"]


def _failed(response) -> bool:
    return response.status_code == 401
RETRYABLE = ("failed", "dead")


def local_path(target: str | None) -> str | None:
    """`target` when it is a path on this site (`/admin/rules`), else None: no scheme, no host,
    no `//host` or `/\\host` that browsers take for another site, no control characters."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def _admin_open() -> bool:
    return bool(settings.value(current_app.config, "ADMIN_PASSWORD"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT, methods=["POST"], deduct_when=_failed)
@limiter.limit(login_limit_all, methods=["POST"], deduct_when=_failed,
               key_func=lambda: "admin-login-all")
def login():
    next_path = local_path(request.values.get("next")) or url_for("admin.index")
    if not _admin_open():
        return render_template("admin/login.html", closed=True, next_path=next_path), 403
    if request.method == "POST":
        if password_ok(request.form.get("password", "")):
            start_admin_session()
            return redirect(next_path)
        return render_template("admin/login.html", wrong=True, next_path=next_path), 401
    return render_template("admin/login.html", next_path=next_path)


@bp.post("/logout")
def logout():
    end_admin_session()
    flash("已退出管理。")
    return redirect(url_for("admin.login"))


@bp.get("")
@admin_required
def index():
    from tracker.ops.source_health import ZH_KIND
    from tracker.store.episodes import admin_notice_counts, open_episodes, recent_episodes
    from tracker.store.health import runs_page, source_health

    db = get_db()
    sources = source_health(db)
    alarms: dict[str, list] = {}
    for episode in open_episodes(db):
        alarms.setdefault(episode.source_id, []).append(episode)
    page = request.args.get("page", "1")
    runs, pages = runs_page(db, int(page) if page.isdigit() else 1)
    page = min(max(1, int(page) if page.isdigit() else 1), pages)
    counts = {"articles": db["articles"].count, "hits": db["hits"].count}
    by_status = status_counts(db)
    failing = failing_deliveries(db)
    disabled = disabled_subscriptions(db)
    return render_template("admin/index.html", sources=sources, runs=runs, counts=counts,
                           by_status=by_status, failing=failing, disabled=disabled, page=page,
                           pages=pages, alarms=alarms, episodes=recent_episodes(db),
                           kinds=ZH_KIND, notices=admin_notice_counts(db),
                           admin_alerts=bool(settings.value(current_app.config, "ADMIN_ALERTS")))


@bp.post("/deliveries/<int:delivery_id>/retry")
@admin_required
def retry_delivery(delivery_id: int):
    """A failed or dead delivery is due again now (its attempts are kept). A delivery of a
    subscription that is not active is refused: the worker would cancel it at once."""
    db = get_db()
    with transaction(db):
        row = delivery_states(db, delivery_id)
        if row is None:
            flash(f"没有投递 #{delivery_id}。", "error")
        elif row[0] not in RETRYABLE:
            flash(f"投递 #{delivery_id} 的状态是“{zh_status(row[0], 'delivery')}”，"
                  "只有“失败待重试”或“已放弃”的投递可以重试。", "error")
        elif row[1] != "active":
            flash(f"投递 #{delivery_id} 的订阅状态是“{zh_status(row[1])}”，worker 会取消它；"
                  "请先恢复订阅再重试。", "error")
        else:
            due_again(db, delivery_id, now())
            flash(f"投递 #{delivery_id} 已重新排队，worker 下一轮发送。")
    return redirect(url_for("admin.index"))


@bp.get("/subscriptions")
@admin_required
def subscriptions():
    rows = subscriptions_with_last_sent(get_db())
    names = {rule.id: rule.name for rule in checked_rules()[0]}
    for row in rows:
        try:
            row["rules"] = "、".join(names.get(rule_id, rule_id) for rule_id in json.loads(row["rules"]))
        except (TypeError, ValueError):
            pass
    return render_template("admin/subscriptions.html", subscriptions=rows)
