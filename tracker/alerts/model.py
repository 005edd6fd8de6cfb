"""What every sender receives: one Alert is one message to one subscriber."""

from __future__ import annotations

from dataclasses import dataclass, field


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
    (410); `retry_after` (seconds) is the receiver's own wish (429/503 Retry-After)."""

    delivery_id: int
    ok: bool
    error: str | None = None
    permanent: bool = False
    gone: bool = False
    retry_after: float | None = None
    status: int | None = None  # HTTP status or SMTP reply code
    extra: dict = field(default_factory=dict)
