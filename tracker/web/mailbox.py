"""The development mailbox: with no SMTP host configured, mail is written to instance/mailbox/
and shown here, so the demo's confirmation and alerts can be read in the browser.

It shows every message, confirmation links included, so it exists only in demo mode
(`tracker demo`, TRACKER_DEMO=1) while no SMTP host is configured, and answers only requests
from this machine (loopback, not relayed by a proxy)."""

from __future__ import annotations

import email
import re
from email import policy

from flask import Blueprint, abort, current_app, render_template
from markupsafe import Markup, escape

from tracker.alerts.email.mailbox import mailbox_messages
from tracker.web.security import from_this_machine

bp = Blueprint("mailbox", __name__, url_prefix="/mailbox")
_URL = re.compile(r"https?://[^\s<>\"'，。）)]+")
_NAME = re.compile(r"^[\w.-]+\.eml$")


@bp.before_request
def only_in_development_and_only_from_here():
    if not current_app.config.get("DEMO") or current_app.config.get("SMTP_HOST"):
        abort(404)
    if not from_this_machine():
        abort(403)


def _read(path) -> email.message.EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=policy.default)


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
                         "date": mail["Date"]})
    return render_template("mailbox/index.html", messages=messages)


@bp.get("/<name>", endpoint="message")
def message(name: str):
    """One message: its headers and text, links clickable."""
    paths = {p.name: p for p in mailbox_messages(current_app.config["INSTANCE_PATH"])}
    if not _NAME.match(name) or name not in paths:
        abort(404)
    mail = _read(paths[name])
    part = mail.get_body(("plain",))
    text = part.get_content() if part is not None else ""
    return render_template("mailbox/message.html", mail=mail, body=linked(text),
                           headers=[(k, mail[k]) for k in ("From", "To", "Subject", "Date",
                                                           "List-Unsubscribe") if mail[k]])
