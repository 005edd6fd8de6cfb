"""What every sender receives (one Alert is one message to one subscriber) and gives back (one
SendResult per attempt, its failure as a code with fields beside the English text)."""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass, field

from tracker.store.deliveries import ERROR_CODES


@dataclass(frozen=True)
class StoryCopy:
    """Another paper's copy of an alert's story: where a reader finds it."""

    article_id: int
    source_id: str
    source_name: str
    date: str | None
    page: str | None
    title: str | None
    url: str | None
    archive_url: str | None = None


@dataclass(frozen=True)
class AlertItem:
    """One story in an alert: the article of it that the subscriber gets, the rule it is listed
    under (`rule_id`, the first) and every rule of the subscriber's it fired (`rules`), its
    snippets (hit marked with 【】), and the story's other copies (`also_in`, the first
    appearance first) and its first appearance when that is another paper's copy (`first`)."""

    article_id: int
    rule_id: str
    rule_name: str
    title: str | None
    url: str | None
    source_id: str
    source_name: str
    date: str | None  # issue date, YYYY-MM-DD
    page: str | None  # 第1版 要闻
    snippets: tuple[str, ...]
    names: tuple[str, ...] = ()  # display names of the keywords that hit (where rules give them)
    archive_url: str | None = None  # the article's page in our archive (/articles/<id>)
    rules: tuple[tuple[str, str], ...] = ()  # (rule id, name) of every rule that fired; () = this one
    story_id: int | None = None
    also_in: tuple[StoryCopy, ...] = ()
    first: StoryCopy | None = None
    fields: tuple[tuple[str, str], ...] = ()  # a government document's 发文机关, 发文字号, …

    def all_rules(self) -> tuple[tuple[str, str], ...]:
        return self.rules or ((self.rule_id, self.rule_name),)


@dataclass(frozen=True)
class Alert:
    """One message: stable ids (a resend keeps them), what it holds, and where it goes."""

    delivery_id: int
    subscription_id: int
    frequency: str  # instant | daily | weekly
    created_at: str  # ISO 8601, UTC: when the delivery was formed
    message_id: str  # the email Message-ID, "<…@…>", the same on every attempt
    webhook_id: str  # the Standard Webhooks `webhook-id`, "msg_…", the same on every attempt
    items: tuple[AlertItem, ...]
    manage_url: str  # the signed link to manage the subscription
    unsubscribe_url: str  # the signed one-click unsubscribe link (RFC 8058 POST target)
    unsubscribe_mailto: str | None = None  # mailto:… for List-Unsubscribe

    def rules(self) -> list[tuple[str, str]]:
        """(rule id, rule name) in first-appearance order, every rule of every item."""
        return list(dict.fromkeys(rule for i in self.items for rule in i.all_rules()))


@dataclass(frozen=True)
class SendResult:
    """How one attempt went. `permanent` failures are not retried; `gone` disables the endpoint
    (410); `retry_after` (seconds) is the receiver's own wish (429/503 Retry-After). A failure
    says what went wrong twice: `code` (one of tracker.store.deliveries.ERROR_CODES; "internal"
    when the sender gave none) with `fields`, by which the pages choose their words, and `error`,
    the English text (ours, or what a library or the receiver said) kept for admins."""

    delivery_id: int
    ok: bool
    error: str | None = None
    permanent: bool = False
    gone: bool = False
    retry_after: float | None = None
    status: int | None = None  # HTTP status or SMTP reply code
    extra: dict = field(default_factory=dict)
    code: str | None = None
    fields: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        assert self.code is None or self.code in ERROR_CODES, self.code

    @property
    def error_code(self) -> str | None:
        """The failure's code: `code`, or "internal" for a failure that came without one."""
        return None if self.ok else self.code or "internal"


def network_code(error: BaseException | None) -> str:
    """What kind of network failure an OS-level error is, as an ERROR_CODES code: timeout,
    refused, unresolvable, tls or network (decided by the exception's type, never its text)."""
    if isinstance(error, ssl.SSLError):
        return "tls"
    if isinstance(error, (TimeoutError, socket.timeout)):
        return "timeout"
    if isinstance(error, ConnectionRefusedError):
        return "refused"
    if isinstance(error, socket.gaierror):
        return "unresolvable"
    return "network"
