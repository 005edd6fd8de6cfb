"""Mail that is not an alert, in Chinese, short and plain: the double opt-in request to a new
email subscriber (`confirmation_message`), the manage link to an address that subscribes again
(`reminder_message`: nothing about the subscription changes, a stranger may have typed it), the
request to confirm coming back to an address that had left (`rejoin_message`), and the mail all of
them and the admin's notices are made as (`notice_mail`): headers made the same way as an alert's
(tracker.alerts.email.compose) and checked before it goes.

What is sent when, and how often a mailbox may get one, is tracker.alerts.notices (the queue over
the `notices` table); what confirming a return does is tracker.alerts.rejoin.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from tracker import settings
from tracker.alerts.email.compose import date_header, parse_address
from tracker.alerts.email.send import send_message
from tracker.alerts.email.wire import POLICY, check_headers
from tracker.alerts.lines import one_line
from tracker.alerts.links import CONFIRM, MANAGE, link
from tracker.alerts.model import SendResult
from tracker.store.notices import Notice


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


# ---- the double opt-in request ----------------------------------------------------------------

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
                         now: datetime | None = None,
                         message_id: str | None = None) -> EmailMessage:
    """The confirmation request for subscription `subscription_id` (pending) at `address`."""
    max_age = int(settings.value(config, "CONFIRM_MAX_AGE"))
    url = one_line(link(config, CONFIRM, subscription_id))
    return notice_mail(config, address, CONFIRM_SUBJECT, confirmation_text(url, max(1, max_age // 86400)),
                       kind="confirm", now=now, message_id=message_id)


def send_confirmation(config: Mapping[str, Any], subscription_id: int, address: str,
                      message_id: str | None = None) -> SendResult:
    """Compose and send the confirmation request; a failure is returned, never raised."""
    try:
        msg = confirmation_message(config, subscription_id, address, message_id=message_id)
    except ValueError as exc:
        return SendResult(0, ok=False, permanent=True, error=f"cannot make the email: {exc}",
                          code="compose")
    return send_message(msg, config)


# ---- the manage link to an address that subscribes again ----------------------------------------

REMINDER_SUBJECT = "【政策追踪】您的订阅管理链接"
STATES = {"active": "正在接收提醒", "paused": "已暂停", "unsubscribed": "已退订",
          "disabled": "因投递失败已停用"}


def reminder_text(manage_url: str, state: str) -> str:
    return "\n".join([
        "您好：",
        "",
        "有人（可能是您本人）刚刚在“政策追踪”的订阅页面填写了这个邮箱地址。",
        f"这个地址已有订阅（当前状态：{STATES.get(state, state)}），我们没有做任何更改。",
        "如需修改主题、频率，恢复或退订，请打开您的管理页面：",
        "",
        f"  {manage_url}",
        "",
        "如果不是您本人操作，请忽略这封邮件。",
        "",
        "——",
        "政策追踪 · 本邮件由系统自动发送，请勿直接回复。",
        "",
    ])


def reminder_message(config: Mapping[str, Any], subscription_id: int, address: str, state: str,
                     *, now: datetime | None = None) -> EmailMessage:
    """The manage link for subscription `subscription_id` at `address`, whose state is `state`."""
    return notice_mail(config, address, REMINDER_SUBJECT,
                       reminder_text(one_line(link(config, MANAGE, subscription_id)), state),
                       kind="manage", now=now)


# ---- the request to confirm coming back ---------------------------------------------------------

REJOIN_SUBJECT = "【政策追踪】请确认重新订阅"
AWAY = {"unsubscribed": "已退订", "disabled": "因多次投递失败已停用"}


def rejoin_text(confirm_url: str, days: int, state: str) -> str:
    return "\n".join([
        "您好：",
        "",
        "有人（希望是您本人）刚刚在“政策追踪”的订阅页面用这个邮箱地址重新订阅。",
        f"这个地址的订阅{AWAY.get(state, '已停止')}，目前不会收到任何提醒。",
        "要恢复订阅，请打开下面的链接，并在页面上点击“确认订阅”：",
        "",
        f"  {confirm_url}",
        "",
        "确认后，将按这次填写的主题、频率和关键词恢复提醒，先补发最近几天的相关文章。",
        f"链接 {days} 天内有效。如果不是您本人操作，请忽略这封邮件：不确认就什么也不会改变。",
        "",
        "——",
        "政策追踪 · 本邮件由系统自动发送，请勿直接回复。",
        "",
    ])


def rejoin_message(config: Mapping[str, Any], notice: Notice, state: str) -> EmailMessage:
    """The confirmation mail of a request to come back (`notice`, of kind `rejoin`)."""
    max_age = int(config.get("CONFIRM_MAX_AGE", 7 * 24 * 3600))
    url = one_line(link(config, CONFIRM, [notice.subscription_id, notice.id]))
    return notice_mail(config, notice.address, REJOIN_SUBJECT,
                       rejoin_text(url, max(1, max_age // 86400), state), kind="rejoin",
                       message_id=notice.message_id)
