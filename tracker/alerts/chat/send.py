"""Chat robots — DingTalk (钉钉), WeCom (企业微信), Feishu/Lark (飞书), Telegram, Slack… — through
Apprise URLs (dingtalk://…, wecombot://…, feishu://…) instead of senders of our own.

Only schemes whose plugin talks to the service's own public endpoint are open to the public form
(PUBLIC_SCHEMES). Generic ones (json://, form://, xml://, mailto:// with a server, ntfy:// with
a host) can reach any address, the host's own network included: admins only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import logging
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Mapping

from tracker.alerts.lines import also_in_line, fields_line, first_line, meta_line, rules_line, web_link
from tracker.alerts.model import Alert, SendResult
from tracker.sources.ssrf import MAX_URL_LENGTH, allow_private
from tracker import settings

PUBLIC_SCHEMES = frozenset({"dingtalk", "wecombot", "feishu", "lark", "tgram", "slack", "discord",
                            "msteams", "wxpusher", "pushplus", "schan", "bark", "barks"})
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*)://", re.I)


def scheme(url: str) -> str | None:
    m = _SCHEME.match(url.strip())
    return m.group(1).lower() if m else None


@dataclass(frozen=True)
class ChatProblem:
    """Why a chat URL cannot be used: `code` (not_chat, too_long, not_public, not_apprise, or
    unsafe with the address check's own code in `fields["check"]`), `fields` for the words,
    and `detail` in English for logs and the CLI."""

    code: str
    detail: str
    fields: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return self.detail


def check_chat_url(url: str, *, admin: bool = False,
                   allow_private: bool = False) -> ChatProblem | None:
    """Why `url` cannot be used (None when it can): not an Apprise URL, not for the public, or
    a host it names is not a public address (tracker.alerts.chat.target)."""
    import apprise

    from tracker.alerts.chat.target import vet_chat_url
    from tracker.sources.ssrf import UnsafeURL

    name = scheme(url)
    if name is None or "\n" in url or "\r" in url:
        return ChatProblem("not_chat", "not a chat URL (e.g. dingtalk://token, wecombot://key, "
                           "feishu://token)")
    if len(url) > MAX_URL_LENGTH:  # Apprise's parsers take seconds over a long one; none is
        return ChatProblem("too_long", f"the URL is longer than {MAX_URL_LENGTH} characters",
                           {"limit": MAX_URL_LENGTH})
    if not admin and name not in PUBLIC_SCHEMES:
        return ChatProblem("not_public", f"{name}:// is not open to subscribers; ask an "
                           "administrator", {"scheme": name})
    if not apprise.Apprise().add(url):
        return ChatProblem("not_apprise", f"{name}:// is not a URL Apprise understands",
                           {"scheme": name})
    try:
        vet_chat_url(url, allow_private=allow_private, public=not admin)
    except UnsafeURL as err:
        return ChatProblem("unsafe", err.reason, {"check": err.code, **err.fields})
    return None


def markdown(alert: Alert, title: str) -> str:
    """A body made for a chat window: rule headings, linked titles, snippets with the hit bold."""
    lines = [f"**{title}**", ""]
    for rule_id, rule_name in dict.fromkeys((i.rule_id, i.rule_name) for i in alert.items):
        lines.append(f"### {rule_name}")
        for item in (i for i in alert.items if i.rule_id == rule_id):
            name = _plain(item.title or "（无标题）")
            original = web_link(item.url)  # a source's word: http(s) only, never javascript:
            link = web_link(item.archive_url) or original
            head = f"[{name}]({link})" if link else name
            where = meta_line(item)
            if original and link != original:
                where += f" · [原文]({original})"
            lines.append(f"- {head}  \n  {where}")
            if fields_line(item):
                lines.append(f"  {_plain(fields_line(item))}")
            for extra in (first_line(item), also_in_line(item), rules_line(item)):
                if extra:
                    lines.append(f"  {extra}")
            if item.names:
                lines.append(f"  关键词：{'、'.join(item.names)}")
            for snippet in item.snippets[:2]:
                lines.append("  > " + snippet.replace("【", "**").replace("】", "**"))
        lines.append("")
    lines.append(f"[管理订阅]({alert.manage_url})")
    return "\n".join(lines)


def _plain(text: str) -> str:
    """A source's title as Markdown text: its brackets cannot close a link and open another."""
    return text.replace("[", "［").replace("]", "］").replace("\n", " ")


def send_one(alert: Alert, url: str, title: str, allow_private: bool = False) -> SendResult:
    """One alert (see `send_text`)."""
    return send_text(alert.delivery_id, url, title, markdown(alert, title), allow_private)


def send_text(delivery_id: int, url: str, title: str, text: str,
              allow_private: bool = False) -> SendResult:
    """One Markdown message (an alert's, or the admin's source-health notice); on failure its
    error is what apprise said about this call only (its result's own log: apprise's LogCapture
    hears every thread, so with several messages sent at once it mixed other subscribers' errors
    in)."""
    import apprise

    from tracker.alerts.chat.target import vet_chat_url
    from tracker.sources.ssrf import UnsafeURL

    try:  # checked again at every send: DNS may have changed since the subscription
        url = vet_chat_url(url, allow_private=allow_private)
    except UnsafeURL as err:
        return SendResult(delivery_id, False, f"chat URL refused: {err.reason}",
                          permanent=err.permanent, code="unsafe",
                          fields={"check": err.code, **err.fields})
    notifier = apprise.Apprise()
    if not notifier.add(url) or len(notifier) != 1:
        return SendResult(delivery_id, False, "not a URL Apprise understands", permanent=True,
                          code="not_apprise")
    for plugin in notifier:  # a redirect would lead past the address check (`?redirect=yes` too)
        plugin.redirects = False
    outcome = notifier.notify(title=title, body=text,
                              body_format=apprise.NotifyFormat.MARKDOWN)
    if outcome:
        return SendResult(delivery_id, True)
    said = " ".join(getattr(entry, "message", str(entry)) for entry in _logs(outcome)
                    if getattr(entry, "level", "WARNING") in ("WARNING", "ERROR", "CRITICAL"))
    said = " ".join(said.split())[:300]
    code, fields = apprise_failure(said)
    return SendResult(delivery_id, False, said or "the chat service did not take the message",
                      code=code, fields=fields)


# Apprise's plugins say a failure in words of their own ("Failed to send DingTalk notification:
# Unauthorized, error=401.", "A Connection error occurred sending …"): a third party's text, so
# it is read by pattern, once, here; the pages see only the code.
_APPRISE_STATUS = re.compile(r"\berror=(\d{3})\b|notification failed: (\d{3})\b", re.I)
_APPRISE_NETWORK = re.compile(r"connection error occur", re.I)


def apprise_failure(said: str) -> tuple[str, dict]:
    """What Apprise's log of a failed send says, as an error code and fields: the service's
    HTTP status when it names one, a connection error, else chat_failed."""
    found = _APPRISE_STATUS.search(said or "")
    if found:
        status = int(found.group(1) or found.group(2))
        code = "redirect" if status < 400 else "rejected" if status < 500 else "server_error"
        return code, {"status": status}
    if _APPRISE_NETWORK.search(said or ""):
        return "network", {}
    return "chat_failed", {}


def _logs(outcome: Any) -> list:
    """The log entries of this notify call (apprise 2.x results carry them; a bare bool not)."""
    logs = getattr(outcome, "logs", None)
    return list(logs()) if callable(logs) else []


def send_chats(batch: list[tuple[Alert, str, str]], config: Mapping[str, Any],
               report: Callable[[SendResult], None] | None = None) -> list[SendResult]:
    """Send (alert, apprise url, title) messages, several at once; each result goes to `report`
    as soon as it is known. A message whose send raises fails alone."""
    private = allow_private(config)

    def attempt(item: tuple[Alert, str, str]) -> SendResult:
        try:
            result = send_one(*item, allow_private=private)
        except Exception as err:  # noqa: BLE001 - a plugin's bug stays with its message
            logging.getLogger(__name__).exception("chat delivery %s failed", item[0].delivery_id)
            result = SendResult(item[0].delivery_id, False, f"{type(err).__name__}: {err}",
                                code="internal")
        if report:
            report(result)
        return result

    workers = max(1, min(int(settings.value(config, "WEBHOOK_CONCURRENCY")), len(batch)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="chat") as pool:
        return list(pool.map(attempt, batch))
