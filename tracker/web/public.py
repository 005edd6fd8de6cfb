"""The public pages: subscribe, confirm, manage, leave; and /healthz.

    GET/POST /subscribe              the form (checks: tracker.alerts.subscribe, as the CLI's)
    GET/POST /confirm/<token>        double opt-in: GET shows a button, POST activates
    GET/POST /manage/<token>         rules, frequency; pause, resume, unsubscribe
    GET/POST /unsubscribe/<token>    GET shows a button; POST leaves (RFC 8058 one-click too)
    GET      /healthz                 liveness: the web app answers and reads the database
    GET      /readyz                  readiness: the worker lives; sources, deliveries, relay

Nothing changes on a GET: mail scanners and link previewers follow every link in a message.
Every form carries a CSRF token, except RFC 8058's one-click POST (`List-Unsubscribe=One-Click`,
sent by mail providers with no page and no cookie): the unsubscribe view is exempt from the
app-wide check and checks the token itself for every other POST. A token in the URL is the
subscriber's proof: signed (itsdangerous), never made from anything a visitor can choose.

A webhook's signing secret is shown once, in the answer to
the POST that made it (never stored in a page one could visit again; `Cache-Control: no-store`).

What the form tells a visitor is the same whether or not the address already subscribes, and an
existing subscription, in any state, is left exactly as it is (its state, rules, keywords,
secret): a pending one's owner gets a fresh confirmation request, one who left (unsubscribed, or
disabled after failed deliveries) a request to confirm coming back with the form's choices
(tracker.alerts.rejoin: applied only by the owner's POST on its confirm page), any other's a mail
with their manage link (tracker.alerts.email.notices). A webhook that exists is told apart (its page cannot show
a secret), but nothing about it changes.

Own keywords belong to the subscription (tracker.store.personal: in the database, matched only
once it is active, shown to its owner on the manage page and to nobody else, gone when it
unsubscribes). Rule files named `personal-*` (written by earlier versions) are never offered.

The views live here; what the forms check and say in Chinese is tracker.web.subscribe_form, what
the subscribe limits count is tracker.web.ratelimit.
"""

from __future__ import annotations

import dataclasses
import time

from flask import (Blueprint, Response, abort, current_app, flash, jsonify, redirect,
                   render_template, request, url_for)
from flask_wtf.csrf import CSRFError
from tracker.alerts.chat.send import check_chat_url
from tracker.alerts.links import (CONFIRM, MANAGE, UNSUBSCRIBE, feed_link, link, make_token,
                                  read_token)
from tracker.alerts.rejoin import RETURNABLE, Request, Return, come_back, read_return
from tracker.alerts.subscribe import (SubscribeError, check_chosen_rules, check_frequency,
                                      mask_address, normalize_email, subscribe, welcome)
from tracker.rules import Rule
from tracker.sources.ssrf import allow_private
from tracker.store import transaction
from tracker.store.personal import keywords_of, set_keywords
from tracker.store.runs import last_finished
from tracker.store.subscriptions import (Subscription, get_subscription, set_state,
                                         update_subscription)
from tracker.web import csrf, limiter
from tracker.web.db import get_db
from tracker.web.forms import FREQUENCIES as FREQUENCY_CHOICES
from tracker.web.forms import ButtonForm, ManageForm, SubscribeForm
from tracker.web.ratelimit import address_key, submitted_address, subscribe_limit
from tracker.web.subscribe_form import (PERSONAL, all_rules, check_keywords, describe,
                                        public_rules)
from tracker.web.rule_choice import choose_rules, clean_query, rules_shown, sparklines
from tracker import settings

bp = Blueprint("public", __name__)

RESUMABLE = ("paused", *RETURNABLE)  # not pending: that needs the confirmation
RELAY_PROBE_SECONDS = 30  # /readyz connects to the mail relay at most this often


def masked(subscription: Subscription) -> str:
    return mask_address(subscription.channel, subscription.address)


def render_page(template: str, status: int = 200, **context) -> tuple[str, int]:
    """A public page from templates/public/ with its status, for a view to return."""
    return render_template(f"public/{template}", **context), status


def problem(title: str, text: str, status: int) -> tuple[str, int]:
    return render_page("problem.html", status, title=title, text=text)


@bp.errorhandler(CSRFError)
def csrf_failed(_error: CSRFError):
    return problem("表单已失效", "页面上的安全校验（CSRF）缺失或已过期。请返回上一页、刷新后重新提交。", 400)


# ---- subscribe ----------------------------------------------------------------------------------

@bp.route("/subscribe", methods=["GET", "POST"], endpoint="subscribe")
@limiter.limit(subscribe_limit, methods=["POST"])
@limiter.limit(subscribe_limit, methods=["POST"], key_func=address_key,
               exempt_when=lambda: not submitted_address())
def subscribe_page():
    rules = public_rules(all_rules())
    form = SubscribeForm()
    errors: dict[str, str] = {}
    if request.method == "POST":
        if not form.validate_on_submit():  # only the CSRF token can fail here
            abort(400)
        try:
            done = _subscribe(form, rules, errors)
        except SubscribeError as err:
            errors.setdefault(err.field, describe(err))
        else:
            if done is not None:
                return done
    # Shown checked: what was posted, or on a GET the rules the search form carried along
    chosen = set(form.rules.data or [])
    if request.method != "POST" and len(rules) > rules_shown():
        chosen = set(request.args.getlist("rules"))
    choice = choose_rules(rules, chosen, clean_query(request.args.get("q")))
    return render_page("subscribe.html", 400 if errors else 200, form=form, rules=choice.rules,
                       choice=choice, chosen=chosen, errors=errors,
                       sparklines=sparklines(choice.rules))


def _subscribe(form: SubscribeForm, rules: list[Rule], errors: dict[str, str]):
    """Check and record; the answer page, or None with `errors` filled."""
    config = current_app.config
    channel, address = form.channel.data or "", form.address()
    known = [rule.id for rule in rules]
    keywords: list[str] = []
    chosen: list[str] = []
    checks = [lambda: chosen.extend(check_chosen_rules(form.rules.data or [], known)),
              lambda: check_frequency(form.frequency.data or "")]
    if channel == "email":  # the same checks subscribe() makes, all at once for the form
        checks.append(lambda: normalize_email(address))
    elif channel == "chat":
        checks.append(lambda: _chat(address))
    elif channel != "webhook":
        errors["channel"] = describe(SubscribeError("channel", "no such channel", code="channel"))
    for check in checks:
        try:
            check()
        except SubscribeError as err:
            errors.setdefault(err.field, describe(err))
    try:
        keywords = check_keywords(form.keywords.data or "")
    except SubscribeError as err:
        errors.setdefault(err.field, str(err))
    if errors:
        return None

    db = get_db()
    subscription, changed = subscribe(db, config, channel, address, form.rules.data or [], known,
                                      form.frequency.data or "")
    if changed and keywords:
        with transaction(db):
            set_keywords(db, subscription.id, keywords)
    if channel == "email":
        # The same page whether the address was new or not; only its owner hears which. Queued
        # and sent apart: neither a slow relay nor the time a send takes reaches the visitor.
        if not changed and subscription.state in RETURNABLE:  # left: asked to confirm coming back
            _queue_mail(subscription, "rejoin", Request(tuple(chosen), form.frequency.data or "",
                                                        tuple(keywords)))
        else:
            _queue_mail(subscription, "confirm" if subscription.state == "pending" else "remind")
        from tracker.alerts.notices import notices_per_day

        return render_page("check_email.html", address=subscription.address,
                           days=max(1, _confirm_max_age() // 86400),
                           per_day=notices_per_day(config))
    if channel == "webhook":
        if not changed:
            return render_page("webhook_exists.html")
        response = Response(render_template(
            "public/webhook_secret.html", secret=subscription.secret,
            manage_url=link(config, MANAGE, subscription.id)))
        response.headers["Cache-Control"] = "no-store"
        return response
    return render_page("chat_done.html")


def _chat(address: str) -> None:
    problem = check_chat_url(address, admin=False, allow_private=allow_private(current_app.config))
    if problem:
        raise SubscribeError("chat_url", problem.detail, code=problem.code, fields=problem.fields)


def _queue_mail(subscription: Subscription, kind: str, request: Request | None = None) -> None:
    """Queue the mail (with the form's `request` to come back, for `rejoin`) and send it apart;
    none when the mailbox had its notices for the day (the page is the same either way: only
    the owner's mailbox knows)."""
    from tracker.alerts.notices import queue_notice, send_soon

    notice = queue_notice(get_db(), current_app.config, kind, subscription.id,
                          subscription.address, request=request.to_json() if request else None)
    if notice is not None:
        send_soon(current_app.config, notice)


# ---- confirm ------------------------------------------------------------------------------------

def _confirm_max_age() -> int:
    return int(settings.value(current_app.config, "CONFIRM_MAX_AGE"))


def _from_token(purpose: str, token: str) -> Subscription | None:
    max_age = _confirm_max_age() if purpose == CONFIRM else None
    subscription_id = read_token(current_app.config, purpose, token, max_age=max_age)
    return get_subscription(get_db(), subscription_id) if subscription_id is not None else None


BAD_CONFIRM = ("确认链接无效", "这个确认链接无效或已过期。请重新填写订阅表单，我们会发送新的确认邮件。")


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str):
    back = read_return(get_db(), current_app.config, token, _confirm_max_age())
    if back is not None:
        return _come_back(back)
    subscription = _from_token(CONFIRM, token)
    if subscription is None or subscription.state not in ("pending", "active"):
        return problem(*BAD_CONFIRM, 400)
    if request.method == "POST" and subscription.state == "pending":
        db = get_db()
        with transaction(db):
            set_state(db, subscription.id, "active")
            welcome(db, current_app.config, subscription.id)  # the recent hits come first
        subscription = get_subscription(db, subscription.id) or subscription
    if subscription.state == "active":
        return render_page("confirm.html", confirmed=True, address=subscription.address,
                    manage_url=url_for("public.manage", token=_token(MANAGE, subscription.id)))
    return render_page("confirm.html", confirmed=False, address=subscription.address, form=ButtonForm())


def _come_back(back: Return):
    """The confirm page of a subscriber coming back: GET shows what they asked for and a
    button; POST makes the subscription active again with it."""
    subscription, asked = back.subscription, back.request
    manage_url = url_for("public.manage", token=_token(MANAGE, subscription.id))
    if asked is None:  # back already
        return render_page("confirm.html", confirmed=True, address=subscription.address,
                           manage_url=manage_url)
    rules = {rule.id: rule.name for rule in public_rules(all_rules())}
    if request.method == "POST":
        if not come_back(get_db(), current_app.config, subscription.id, asked, list(rules)):
            return problem("主题已不存在", "您这次选的主题都已停用。请重新填写订阅表单。", 400)
        return render_page("confirm.html", confirmed=True, returned=True,
                           address=subscription.address, manage_url=manage_url)
    return render_page("confirm.html", confirmed=False, address=subscription.address,
                       form=ButtonForm(), returning=True,
                       rule_names=[rules[r] for r in asked.rules if r in rules],
                       frequency=dict((c.value, c.label) for c in FREQUENCY_CHOICES)
                       .get(asked.frequency, asked.frequency), keywords=asked.keywords)


def _token(purpose: str, subscription_id: int) -> str:
    return make_token(current_app.config, purpose, subscription_id)


# ---- manage -------------------------------------------------------------------------------------

@bp.route("/manage/<token>", methods=["GET", "POST"])
def manage(token: str):
    subscription = _from_token(MANAGE, token)
    if subscription is None:
        abort(404)
    rules = all_rules()
    legacy = [rule for rule in rules if rule.id == f"{PERSONAL}{subscription.id}"]  # old file
    offered = public_rules(rules) + legacy
    form = ManageForm()
    errors: dict[str, str] = {}
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        done = _manage(subscription, form, [rule.id for rule in offered], errors)
        if done:
            flash(done)
            return redirect(url_for("public.manage", token=token))
        chosen = set(form.rules.data or [])
        frequency, keywords = form.frequency.data, form.keywords.data or ""
    else:
        chosen, frequency = set(subscription.rules), subscription.frequency
        keywords = "、".join(keywords_of(get_db(), subscription.id))
    choice = choose_rules(offered, chosen, clean_query(request.args.get("q")))
    response = current_app.make_response(render_page(
        "manage.html", 400 if errors else 200, form=form, subscription=subscription,
        address=masked(subscription), rules=choice.rules, choice=choice, chosen=chosen,
        frequency=frequency, keywords=keywords, errors=errors,
        feed_url=feed_link(current_app.config, subscription.id)))
    response.headers["Cache-Control"] = "no-store"  # own keywords: the owner's eyes only
    return response


def _manage(subscription: Subscription, form: ManageForm, known: list[str],
            errors: dict[str, str]) -> str | None:
    """Apply the button pressed; what to tell the subscriber, or None with `errors` filled."""
    action = request.form.get("action", "save")
    db = get_db()
    if action == "save":
        try:
            chosen = check_chosen_rules(form.rules.data or [], known)
            frequency = check_frequency(form.frequency.data or "")
            keywords = check_keywords(form.keywords.data or "")
        except SubscribeError as err:
            errors[err.field] = describe(err) if err.field != "keywords" else str(err)
            return None
        with transaction(db):
            update_subscription(db, subscription.id, chosen, frequency)
            set_keywords(db, subscription.id, keywords)
        return "设置已保存。"
    if action == "pause":
        if subscription.state != "active":
            errors["action"] = "只有正在接收提醒的订阅可以暂停。"
            return None
        with transaction(db):
            set_state(db, subscription.id, "paused")
        return "已暂停提醒。随时可以在这里恢复。"
    if action == "resume":
        if subscription.state not in RESUMABLE:
            errors["action"] = ("这个订阅还没有确认，请先打开确认邮件中的链接。"
                                if subscription.state == "pending" else "这个订阅正在接收提醒。")
            return None
        with transaction(db):
            set_state(db, subscription.id, "active")
        return "已恢复提醒。"
    if action == "unsubscribe":
        with transaction(db):
            set_state(db, subscription.id, "unsubscribed")
        return "已退订，不会再收到提醒。"
    errors["action"] = "未知的操作。"
    return None


# ---- unsubscribe --------------------------------------------------------------------------------

@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # for RFC 8058 one-click only: every other POST is checked below
def unsubscribe(token: str):
    subscription = _from_token(UNSUBSCRIBE, token)
    if subscription is None:
        abort(404)
    if request.method != "POST":  # GET and HEAD (mail scanners) only look
        return render_page("unsubscribe.html", done=subscription.state == "unsubscribed",
                    address=masked(subscription), form=ButtonForm())
    if request.form.get("List-Unsubscribe") != "One-Click":
        csrf.protect()
    if subscription.state != "unsubscribed":
        db = get_db()
        with transaction(db):
            set_state(db, subscription.id, "unsubscribed", "unsubscribe_link",
                      detail="unsubscribe link")
    return render_page("unsubscribe.html", done=True, address=masked(subscription))


@bp.errorhandler(404)
def not_found(_error):
    return problem("找不到页面", "这个链接无效。请使用提醒消息中最新的管理或退订链接。", 404)


@bp.errorhandler(400)
def bad_request(_error):
    return problem("请求无效", "提交的内容无法处理。请返回上一页重试。", 400)


# ---- health -------------------------------------------------------------------------------------

@bp.get("/readyz")
def readyz():
    """Readiness (tracker.ops.health): 200 while the worker lives, 503 when it does not or the
    database cannot be read; the relay is probed at most every RELAY_PROBE_SECONDS, so a
    visitor asking often opens no more connections to it."""
    from tracker.alerts.email.relay import relay_address
    from tracker.ops.health import readiness

    probe = current_app.extensions.setdefault("tracker.relay_probe", {"at": 0.0, "relay": None})
    fresh = time.monotonic() - probe["at"] > RELAY_PROBE_SECONDS
    try:
        ready = readiness(get_db(), relay_address(current_app.config),
                          float(settings.value(current_app.config, "LOCK_HEARTBEAT_SECONDS")),
                          probe_relay=fresh)
    except Exception as err:  # noqa: BLE001 - a health check reports, it does not fail
        return jsonify(status="down", database=f"{type(err).__name__}"), 503
    if fresh:
        probe.update(at=time.monotonic(), relay=ready.relay)
    elif probe["relay"] is not None:
        ready = dataclasses.replace(ready, relay=probe["relay"])
    return jsonify(ready.as_dict()), 200 if ready.ready else 503


@bp.get("/healthz")
def healthz():
    """200 with the database reachable and the last worker cycle; 503 when the database is not."""
    try:
        finished = last_finished(get_db())
    except Exception as err:  # noqa: BLE001 - a health check reports, it does not fail
        return jsonify(status="error", database=f"{type(err).__name__}: {err}"), 503
    return jsonify(status="ok", database="ok", last_cycle=finished)
