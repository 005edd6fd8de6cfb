"""Subscribing: the checks and writes behind `tracker subscribe` and the web form alike."""

from __future__ import annotations

from datetime import date
from typing import Any, Mapping, Sequence
from urllib.parse import urlsplit

from sqlite_utils import Database

from tracker.alerts.chat.send import check_chat_url
from tracker.sources.ssrf import allow_private
from tracker.store import transaction
from tracker.store.subscriptions import FREQUENCIES, Subscription, add_subscription
from tracker import settings


class SubscribeError(ValueError):
    """A subscription that cannot be made: which field is at fault, why as a `code` with
    `fields` (by which the form says it in Chinese), and the English `message` (the CLI, logs).
    The code is one of CODES; for `webhook_url` it is the UnsafeURL's code
    (tracker.sources.ssrf.CODES), for `chat_url` the ChatProblem's (tracker.alerts.chat)."""

    def __init__(self, field: str, message: str, *, code: str | None = None,
                 fields: Mapping[str, Any] | None = None):
        super().__init__(message)
        self.field = field
        self.code = code
        self.fields = dict(fields or {})


# Why a subscription cannot be made (SubscribeError.code), besides refused URLs:
#   no_rules         no theme chosen (rules)
#   unknown_rules    a theme that does not exist (rules; fields: rules, the ids)
#   frequency        not instant, daily or weekly (frequency)
#   channel          not email, webhook or chat (channel)
#   not_email        not an address at all: a line break, NUL, over 254 characters (email)
#   non_ascii_local  a local part that is not ASCII: our mail cannot reach it (email)
#   email_invalid    refused by email-validator, whose English is the message (email)
CODES = ("no_rules", "unknown_rules", "frequency", "channel", "not_email", "non_ascii_local",
         "email_invalid")


def check_chosen_rules(rule_ids: Sequence[str], known: Sequence[str]) -> list[str]:
    """The rule ids a subscriber chose, stripped; a SubscribeError when none or an unknown one.
    (Not tracker.rules.check_rules, which reads rule files.)"""
    chosen = [r.strip() for r in rule_ids if r.strip()]
    if not chosen:
        raise SubscribeError("rules", "choose at least one theme", code="no_rules")
    unknown = [r for r in chosen if r not in known]
    if unknown:
        raise SubscribeError("rules", f"no such rule: {', '.join(unknown)}",
                             code="unknown_rules", fields={"rules": unknown})
    return chosen


def check_frequency(frequency: str) -> str:
    if frequency not in FREQUENCIES:
        raise SubscribeError("frequency", f"frequency is one of {', '.join(FREQUENCIES)}",
                             code="frequency")
    return frequency


NON_ASCII_LOCAL = "non-ASCII local part"


def normalize_email(address: str) -> str:
    """A deliverable-looking address in one spelling: lower case throughout, so that
    `Alice@Example.com` is the subscription of `alice@example.com` (mail providers do not tell
    the two apart); never one that could carry a header. A local part that is not ASCII is
    refused (NON_ASCII_LOCAL): our mail goes out without SMTPUTF8, so it could not be sent."""
    from email_validator import EmailNotValidError, validate_email

    address = address.strip()
    if any(c in address for c in "\r\n\0") or len(address) > 254:
        raise SubscribeError("email", "not an email address", code="not_email")
    if not address.rpartition("@")[0].isascii():
        raise SubscribeError("email", f"{NON_ASCII_LOCAL}: it cannot be sent without SMTPUTF8",
                             code="non_ascii_local")
    try:
        valid = validate_email(address, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as err:
        raise SubscribeError("email", str(err), code="email_invalid") from None
    return valid.normalized.lower()


def subscribe(db: Database, config: Mapping[str, Any], channel: str, address: str,
              rules: Sequence[str], known_rules: Sequence[str], frequency: str = "instant", *,
              confirmed: bool = False, admin: bool = False) -> tuple[Subscription, bool]:
    """Check and record a subscription; (it, whether anything changed).

    email: pending until confirmed (double opt-in), unless `confirmed` (an admin's word).
    webhook: the URL must not reach the host's own network (checked again at every send); a
    signing secret is made. chat: an Apprise URL, of a public service unless `admin`."""
    chosen = check_chosen_rules(rules, known_rules)
    check_frequency(frequency)
    secret = None
    if channel == "email":
        address = normalize_email(address)
        active = confirmed
    elif channel == "webhook":
        from tracker.sources.ssrf import UnsafeURL, check_url
        from tracker.alerts.webhook.sign import new_secret

        try:
            check_url(address, allow_private=allow_private(config))
        except UnsafeURL as err:
            raise SubscribeError("webhook_url", str(err), code=err.code,
                                 fields=err.fields) from None
        active, secret = True, new_secret()
    elif channel == "chat":
        problem = check_chat_url(address, admin=admin, allow_private=allow_private(config))
        if problem:
            raise SubscribeError("chat_url", problem.detail, code=problem.code,
                                 fields=problem.fields)
        active = True
    else:
        raise SubscribeError("channel", "channel is email, webhook or chat", code="channel")
    with transaction(db):
        found, changed = add_subscription(db, channel, address, chosen, frequency,
                                          active=active, secret=secret)
        if changed and found.state == "active":
            welcome(db, config, found.id)
    return found, changed


def welcome(db: Database, config: Mapping[str, Any], subscription_id: int,
            today: date | None = None) -> int:
    """A subscription that just became active gets, in its first alert, the hits of its rules
    and own keywords in the articles of the last TRACKER_WELCOME_DAYS days (default 7, today
    included), counted by the article's issue date in TRACKER_TIMEZONE — not by when the hit was
    stored: a backfilled or rematched archive is not news. In a transaction."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from tracker.store.outbox import add_recent

    days = int(float(settings.value(config, "WELCOME_DAYS")))
    if days <= 0:
        return 0
    zone = ZoneInfo(str(settings.value(config, "TIMEZONE")))
    today = today or datetime.now(zone).date()
    return add_recent(db, subscription_id, (today - timedelta(days=days - 1)).isoformat())


def mask_address(channel: str, address: str, *, whole_email: bool = False) -> str:
    """The address without what would let a reader use it: of a webhook URL only its scheme,
    host and port (its path and query often are the credential: Slack, WeCom…), of a chat URL
    only its scheme (dingtalk://TOKEN), of an email all but the first letter of its local part.
    For pages and logs; `whole_email` for the admin's API, which lists its subscribers' emails."""
    if channel == "email":
        local, _, domain = address.rpartition("@")
        return address if whole_email else f"{local[:1]}***@{domain}"
    parts = urlsplit(address)
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # not a port: nothing of it shown
        port = ""
    if channel == "webhook" and parts.scheme in ("http", "https") and parts.hostname:
        return f"{parts.scheme}://{parts.hostname}{port}/…"
    return f"{parts.scheme}://…" if parts.scheme else "…"
