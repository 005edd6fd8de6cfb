"""The admin's source-health alerts: a source that fails, goes silent, reads nothing or far less
than usual (tracker.ops.source_health) is an episode; the admin is told once when it opens and
once when it closes, through the channel ADMIN_ALERTS names:

    ADMIN_ALERTS=ops@example.org                 an email address (SMTP or the dev mailbox)
    ADMIN_ALERTS=https://hooks.example.org/x     a webhook: signed JSON, `tracker.source_health`
    ADMIN_ALERTS=dingtalk://token                any Apprise URL (a chat robot)

The messages are queued in `admin_notices` in the transaction that opens or closes the episode
(a worker killed after it loses none), and sent by the worker's delivery run with the senders
subscribers' alerts use: the email transport (tracker.alerts.email.send), the webhook sender
(signed with ADMIN_WEBHOOK_SECRET, else a key derived from the instance's secret key, and the
same SSRF check at every send), Apprise for chat. A failure is retried on RETRY_DELAYS, then
the notice is dead. Without ADMIN_ALERTS the episodes are kept and shown on the dashboard, and
nobody is sent anything.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
from collections import Counter
from datetime import datetime, timedelta, timezone
from email.utils import make_msgid
from typing import Any, Mapping

from tracker import settings

from sqlite_utils import Database

from tracker.alerts.model import SendResult
from tracker.ops.source_health import ZH_KIND, Signal, Thresholds, evaluate
from tracker.store import transaction
from tracker.store.clock import iso
from tracker.store.episodes import (AdminNotice, add_admin_notice, due_admin_notices,
                                    end_episode, finish_admin_notice, open_episodes, recent_runs,
                                    start_episode)

log = logging.getLogger("tracker.alerts")
EVENT_TYPE = "tracker.source_health"
_EMAIL = re.compile(r"^[^@\s:/]+@[^@\s/]+$")


def admin_target(config: Mapping[str, Any]) -> tuple[str, str] | None:
    """(channel, address) ADMIN_ALERTS names: "email", "webhook" (http/https) or "chat" (any
    other scheme, through Apprise); None when unset."""
    value = settings.value(config, "ADMIN_ALERTS").strip()
    if not value:
        return None
    if _EMAIL.match(value):
        return "email", value
    if re.match(r"^https?://", value, re.I):
        return "webhook", value
    return "chat", value


def admin_webhook_secret(config: Mapping[str, Any]) -> str:
    """ADMIN_WEBHOOK_SECRET ("whsec_…"); else one derived from the instance's secret key, the
    same across restarts (set ADMIN_WEBHOOK_SECRET to give the receiver a secret you chose)."""
    if settings.value(config, "ADMIN_WEBHOOK_SECRET"):
        return settings.value(config, "ADMIN_WEBHOOK_SECRET")
    from tracker.alerts.links import secret_key

    key = hmac.new(secret_key(config).encode(), b"tracker admin webhook", hashlib.sha256).digest()
    return "whsec_" + base64.b64encode(key).decode("ascii")


# ---- episodes ---------------------------------------------------------------------------------

def _words(event: str, name: str, kind: str, detail: str, started: str | None = None) -> tuple[str, str]:
    """(subject, body) of a notice, in Chinese."""
    what = ZH_KIND.get(kind, kind)
    if event == "start":
        subject = f"【政策追踪】来源告警：{name}（{what}）"
        lines = [f"来源“{name}”出现异常：{what}。", "", detail, "",
                 "请在管理页查看抓取记录，必要时用 tracker sources try 试读该来源。",
                 "恢复正常时会再通知一次。"]
    else:
        subject = f"【政策追踪】来源恢复：{name}（{what}）"
        lines = [f"来源“{name}”已恢复正常（此前：{what}，开始于 {started or '不详'}）。", "", detail]
    return subject, "\n".join([*lines, "", "——", "政策追踪 · 来源健康提醒，由系统自动发送。", ""])


def watch_source(db: Database, config: Mapping[str, Any], source_id: str, name: str | None = None,
                 now: datetime | None = None) -> list[str]:
    """After a run of `source_id`: open an episode for each signal its runs now show that is not
    open yet, close each open one they no longer show, and queue the admin's notice of each
    (with ADMIN_ALERTS), in one transaction. What changed, as "start:kind" / "end:kind"."""
    now = now or datetime.now(timezone.utc)
    signals = {s.kind: s for s in evaluate(recent_runs(db, source_id), now, Thresholds.of(config))}
    target = admin_target(config)
    domain = str(config.get("MAIL_FROM") or "localhost").rsplit("@", 1)[-1].strip(" >") or "localhost"
    changed: list[str] = []
    with transaction(db):
        opened = {e.kind: e for e in open_episodes(db, source_id)}
        for kind, signal in signals.items():
            if kind in opened:
                continue
            episode = start_episode(db, source_id, kind, iso(now), signal.detail)
            changed.append(f"start:{kind}")
            _queue(db, target, episode, "start", name or source_id, signal, None, now, domain)
        for kind, episode in opened.items():
            if kind in signals:
                continue
            detail = "最近一次抓取已正常。"
            end_episode(db, episode.id, iso(now), detail)
            changed.append(f"end:{kind}")
            _queue(db, target, episode.id, "end", name or source_id, Signal(kind, detail),
                   episode.started_at[:16].replace("T", " "), now, domain)
    for change in changed:
        log.warning("source %s health: %s", source_id, change)
    return changed


def _queue(db: Database, target: tuple[str, str] | None, episode_id: int, event: str, name: str,
           signal: Signal, started: str | None, now: datetime, domain: str) -> None:
    if target is None:
        return
    subject, body = _words(event, name, signal.kind, signal.detail, started)
    add_admin_notice(db, episode_id, event, subject, body, iso(now),
                     make_msgid("health", domain=domain), f"{target[0]}:{target[1]}")


# ---- sending ----------------------------------------------------------------------------------

def _send(notice: AdminNotice, target: tuple[str, str], config: Mapping[str, Any]) -> SendResult:
    channel, address = target
    if channel == "email":
        from tracker.alerts.email.notices import notice_mail
        from tracker.alerts.email.send import send_message

        try:
            msg = notice_mail(config, address, notice.subject, notice.body, kind="health",
                              message_id=notice.message_id)
        except ValueError as exc:
            return SendResult(notice.id, False, f"cannot make the email: {exc}", permanent=True,
                              code="compose")
        result = send_message(msg, config)
        return SendResult(notice.id, result.ok, result.error, permanent=result.permanent,
                          code=result.code, fields=result.fields)
    if channel == "webhook":
        from tracker.alerts.webhook.send import Prepared, as_json, send_webhooks

        document = {"type": EVENT_TYPE, "timestamp": notice.created_at,
                    "data": {"event": notice.event, "source": notice.source_id,
                             "kind": notice.kind, "subject": notice.subject,
                             "text": notice.body}}
        webhook_id = "msg_admin_" + hashlib.sha256((notice.message_id or str(notice.id))
                                                   .encode()).hexdigest()[:24]
        return send_webhooks([(Prepared(notice.id, webhook_id, as_json(document)), address,
                               admin_webhook_secret(config))], config)[0]
    from tracker.alerts.chat.send import send_text
    from tracker.sources.ssrf import allow_private

    text = notice.body.replace("\n", "  \n")
    return send_text(notice.id, address, notice.subject, text, allow_private(config))


def send_admin_notices(db: Database, config: Mapping[str, Any],
                       now: datetime | None = None) -> Counter:
    """Send the admin's notices that are due, to ADMIN_ALERTS as it is now; each result
    recorded (sent, failed to retry on RETRY_DELAYS, dead). A count of outcomes."""
    from tracker.alerts.deliver import retry_delays

    outcome: Counter = Counter()
    target = admin_target(config)
    at = now or datetime.now(timezone.utc)
    due = due_admin_notices(db, iso(at)) if target else []
    delays = retry_delays(config)
    for notice in due:
        try:
            result = _send(notice, target, config)
        except Exception as err:  # noqa: BLE001 - a sender's bug must not stop the worker
            log.exception("admin notice %d failed", notice.id)
            result = SendResult(notice.id, False, f"{type(err).__name__}: {err}", code="internal")
        attempts = notice.attempts + 1
        if result.ok:
            status, next_at = "sent", None
        elif result.permanent or attempts > len(delays):
            status, next_at = "dead", None
        else:
            status = "failed"
            next_at = iso(at + timedelta(seconds=max(delays[attempts - 1], result.retry_after or 0)))
        with transaction(db):
            finish_admin_notice(db, notice.id, status=status, attempts=attempts, at=iso(at),
                                next_attempt_at=next_at, error=result.error)
        outcome[status] += 1
        if not result.ok:
            log.warning("admin notice %d to %s: %s (%s)", notice.id, target[0], result.error, status)
    return outcome
