"""The mail an existing email subscriber gets when someone submits the form with their address
again: nothing about the subscription changes (a stranger may have typed it), and the owner,
not the visitor, is told where to manage it. The visitor's page is the same as for a new address.
In Chinese, as every mail. (A subscriber who left gets the confirmation to come back instead:
tracker.alerts.rejoin.)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from tracker.alerts.email.send import send_message
from tracker.alerts.email.notice import notice_mail
from tracker.alerts.lines import one_line
from tracker.alerts.links import MANAGE, link
from tracker.alerts.model import SendResult

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


def send_reminder(config: Mapping[str, Any], subscription_id: int, address: str,
                  state: str) -> SendResult:
    """Compose and send the manage link to the owner; a failure is returned, never raised."""
    try:
        msg = reminder_message(config, subscription_id, address, state)
    except ValueError as exc:
        return SendResult(0, ok=False, permanent=True, error=f"cannot make the email: {exc}")
    return send_message(msg, config)
