"""A short plain-text mail that is not an alert (a confirmation request, a manage link), with its
headers made the same way as an alert's (tracker.alerts.email.compose) and checked before it goes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from tracker.alerts.email.wire import POLICY, check_headers
from tracker.alerts.email.compose import date_header, parse_address
from tracker import settings


def notice_mail(config: Mapping[str, Any], address: str, subject: str, text: str, *, kind: str,
                now: datetime | None = None, message_id: str | None = None) -> EmailMessage:
    """The mail to `address`: From MAIL_FROM, a Message-ID made for `kind` unless given, marked
    auto-generated, the body `text` as UTF-8 in base64, in Chinese first."""
    sender = parse_address(settings.value(config, "MAIL_FROM"), "MAIL_FROM")
    msg = EmailMessage(policy=POLICY)
    msg["From"] = sender
    msg["To"] = parse_address(address, "To")
    msg["Subject"] = subject
    msg["Date"] = date_header(config, now or datetime.now(timezone.utc))
    msg["Message-ID"] = message_id or make_msgid(kind, domain=sender.domain or "localhost")
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text, subtype="plain", charset="utf-8", cte="base64")
    msg["Content-Language"] = "zh-CN"
    check_headers(msg)
    return msg
