"""Mail that is not an alert: the double opt-in request sent to a new email subscriber.

Short, plain text, Chinese first. Headers are made the same way as alerts' (email_compose: the
Subject as whole-character encoded words, addresses parsed, no header from data with a line
break), and the message goes through the alerts' transport (SMTP, or the development mailbox).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from tracker.alerts.email import send_message
from tracker.alerts.email_compose import (DEFAULT_FROM, POLICY, _check_headers, _date, one_line,
                                          parse_address)
from tracker.alerts.links import CONFIRM, link
from tracker.alerts.model import SendResult

CONFIRM_SUBJECT = "【政策追踪】请确认订阅"


def confirmation_text(confirm_url: str, days: int) -> str:
    return "\n".join([
        "您好：",
        "",
        "有人（希望是您本人）用这个邮箱地址订阅了“政策追踪”的政策主题提醒。",
        "请打开下面的链接，并在页面上点击“确认订阅”：",
        "",
        f"  {confirm_url}",
        "",
        f"链接 {days} 天内有效。如果不是您本人操作，请忽略这封邮件：不确认就不会收到任何提醒。",
        "",
        "——",
        "政策追踪 · 本邮件由系统自动发送，请勿直接回复。",
        "",
    ])


def confirmation_message(config: Mapping[str, Any], subscription_id: int, address: str, *,
                         now: datetime | None = None) -> EmailMessage:
    """The confirmation request for subscription `subscription_id` (pending) at `address`."""
    sender = parse_address(config.get("MAIL_FROM") or DEFAULT_FROM, "MAIL_FROM")
    max_age = int(config.get("CONFIRM_MAX_AGE", 7 * 24 * 3600))
    url = one_line(link(config, CONFIRM, subscription_id))
    msg = EmailMessage(policy=POLICY)
    msg["From"] = sender
    msg["To"] = parse_address(address, "To")
    msg["Subject"] = CONFIRM_SUBJECT
    msg["Date"] = _date(config, now or datetime.now(timezone.utc))
    msg["Message-ID"] = make_msgid("confirm", domain=sender.domain or "localhost")
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(confirmation_text(url, max(1, max_age // 86400)), subtype="plain",
                    charset="utf-8", cte="base64")
    msg["Content-Language"] = "zh-CN"
    _check_headers(msg)
    return msg


def send_confirmation(config: Mapping[str, Any], subscription_id: int, address: str) -> SendResult:
    """Compose and send the confirmation request; a failure is returned, never raised."""
    try:
        msg = confirmation_message(config, subscription_id, address)
    except ValueError as exc:
        return SendResult(0, ok=False, permanent=True, error=f"cannot make the email: {exc}")
    return send_message(msg, config)
