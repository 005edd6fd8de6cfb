"""The development mailbox: with no SMTP host configured, mail is written to instance/mailbox/
and shown here, so the demo's confirmation and alerts can be read in the browser.

It shows every message, confirmation links included, so it exists only in demo mode
(`tracker demo`, TRACKER_DEMO=1) while no SMTP host is configured, and answers only requests
from this machine (loopback, not relayed by a proxy)."""

from __future__ import annotations

import email
import re
from email import policy

from flask import Blueprint, Response, abort, current_app, render_template, request
from markupsafe import Markup, escape

from tracker.alerts.email.mailbox import mailbox_messages
from tracker.web.security import from_this_machine
from tracker import settings

bp = Blueprint("mailbox", __name__, url_prefix="/mailbox")
_URL = re.compile(r"https?://[^\s<>\"'，。）)]+")
_NAME = re.compile(r"^[\w.-]+\.eml$")


@bp.before_request
def only_in_development_and_only_from_here():
    if not settings.value(current_app.config, "DEMO") or settings.value(current_app.config, "SMTP_HOST"):
        abort(404)
    if not from_this_machine():
        abort(403)


def _read(path) -> email.message.EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=policy.default)


def _iso(value: str | None) -> str:
    """A Date header as ISO 8601 (the template shows it in the sources' zone)."""
    from email.utils import parsedate_to_datetime

    try:
        return parsedate_to_datetime(value or "").isoformat()
    except (TypeError, ValueError):
        return value or ""


def linked(text: str) -> Markup:
    """Plain text, escaped, with its web addresses as links."""
    out, pos = [], 0
    for m in _URL.finditer(text):
        out.append(escape(text[pos:m.start()]))
        out.append(Markup('<a href="{0}">{0}</a>').format(m.group(0)))
        pos = m.end()
    out.append(escape(text[pos:]))
    return Markup("").join(out)


@bp.get("/", endpoint="index")
def index():
    """The messages, newest first."""
    messages = []
    for path in mailbox_messages(current_app.config["INSTANCE_PATH"])[:200]:
        mail = _read(path)
        messages.append({"name": path.name, "subject": mail["Subject"], "to": mail["To"],
                         "date": _iso(mail["Date"])})
    return render_template("mailbox/index.html", messages=messages)


def _find(name: str) -> email.message.EmailMessage:
    paths = {p.name: p for p in mailbox_messages(current_app.config["INSTANCE_PATH"])}
    if not _NAME.match(name) or name not in paths:
        abort(404)
    return _read(paths[name])


@bp.get("/<name>", endpoint="message")
def message(name: str):
    """One message as a mail client shows it: the HTML part in a sandboxed frame (its own
    route, no script, no same-origin access), the text part on the other tab, links clickable."""
    mail = _find(name)
    plain, html = mail.get_body(("plain",)), mail.get_body(("html",))
    part = request.args.get("part") or ("html" if html is not None else "text")
    if part not in ("html", "text") or (part == "html" and html is None):
        part = "text"
    text = plain.get_content() if plain is not None else ""
    return render_template("mailbox/message.html", mail=mail, body=linked(text), part=part,
                           has_html=html is not None, name=name,
                           headers=[(label, _shown(k, mail[k])) for k, label in HEADERS if mail[k]])


def _shown(name: str, value: str) -> str:
    from tracker.web.messages import local_time, zone

    return local_time(_iso(value), zone(current_app.config)) if name == "Date" else value


HEADERS = (("From", "发件人"), ("To", "收件人"), ("Subject", "主题"), ("Date", "时间"),
           ("List-Unsubscribe", "退订链接"))
# The HTML part is someone else's markup: a sandbox (no script, an opaque origin), inline
# styles only, no fetches but data: images, and only this site may frame it.
MAIL_CSP = ("sandbox allow-popups allow-popups-to-escape-sandbox "
            "allow-top-navigation-by-user-activation; default-src 'none'; "
            "style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'")


@bp.get("/<name>/html", endpoint="html")
def html_part(name: str):
    """The message's HTML part, for the frame on the message page."""
    part = _find(name).get_body(("html",))
    if part is None:
        abort(404)
    body = part.get_content()
    body = re.sub(r"(<head[^>]*>)", r'\1<base target="_blank">', body, count=1, flags=re.I)
    response = Response(body, mimetype="text/html")
    response.headers["Content-Security-Policy"] = MAIL_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response
