"""One Alert → one email: multipart/alternative (Chinese text, then HTML), headers that survive
mail clients and cannot be injected.

Header pieces that come from data (rule names, dates, addresses) never reach a header with a line
break in them: text pieces are flattened to one line and their RFC 2047 look-alikes (`=?`) are
defused, because Python's email package *decodes* encoded words in a value it is given
(`=?UTF-8?Q?=0A?=Bcc: x` becomes a real newline and a real Bcc header, cpython#121650); addresses
that carry one are refused with ValueError. A last check re-reads the header block as a receiver
would and refuses the message if a header appeared that was not set. How the message is written
(folding, the policy, the bytes, that check) is `tracker.alerts.email.wire`; what a line about one
item says (paper, date, page, the story's other copies, a safe link) is `tracker.alerts.lines`,
shared with the other channels.

Made once per message and serialised once: `compose_bytes` is what the sender sends, checked on
those bytes; `compose` is the same message as an EmailMessage.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timezone
from email import errors as email_errors
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import Environment, FileSystemLoader, Template
from markupsafe import Markup, escape

from tracker import settings
from tracker.alerts.email.wire import (POLICY, as_bytes, boundary, check_headers, encoded_words,
                                       fixed_header, text_part)
from tracker.alerts.lines import (CONTROL, also_in_line, fields_line, first_line, meta_line, one_line,
                                  rules_line, web_link)
from tracker.alerts.model import Alert, AlertItem

TAGS = {"instant": "政策追踪", "daily": "政策追踪·日报", "weekly": "政策追踪·周报"}
RULE_NAME_MAX = 30  # characters of the first rule name in the subject

_HIT = re.compile(r"【([^【】]+)】")
# A msg-id as RFC 5322 has it in practice: <left@right>, printable ASCII, no spaces or brackets.
_MSG_ID = re.compile(r"<[!-;=?-~]+@[!-;=?-~]+>")
# What may stand inside <…> in List-Unsubscribe: printable ASCII without space, quotes, <, >.
_HEADER_URL = re.compile(r"[!#-;=?-~]+")


# ---- pieces -----------------------------------------------------------------------------------

def header_text(text: str | None) -> str:
    """A piece of a header: one line, and `=?` (an RFC 2047 encoded word's opener, which Python
    would decode, newlines and all) turned into `=？`."""
    return one_line(text).replace("=?", "=？")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def parse_address(value: str | None, field: str) -> Address:
    """`addr@example.com` or `名字 <addr@example.com>` as one Address, ASCII on the wire (an IDN
    domain is IDNA-encoded). ValueError, naming `field`, for anything else: an empty value, a line
    break, two addresses, an encoded-word display name, a non-ASCII local part (needs SMTPUTF8).
    Cached: MAIL_FROM and a recipient are parsed once, not once per header and per send."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{field}: no address")
    return _parse_address(value, field)


@lru_cache(maxsize=256)
def _parse_address(value: str, field: str) -> Address:
    if CONTROL.search(value):
        raise ValueError(f"{field}: address {value!r} contains a line break or control character")
    value = value.strip()
    match = re.fullmatch(r"(?P<name>[^<>]*)<(?P<spec>[^<>]*)>", value)
    name, spec = (match["name"].strip(), match["spec"].strip()) if match else ("", value)
    if len(name) >= 2 and name[0] == name[-1] == '"':
        name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    if "=?" in name:
        raise ValueError(f"{field}: display name {name!r} looks like an RFC 2047 encoded word")
    local, at, domain = spec.rpartition("@")
    if not at or not local or not domain:
        raise ValueError(f"{field}: {spec!r} is not an email address")
    if not local.isascii():
        raise ValueError(f"{field}: {spec!r} has a non-ASCII local part (needs SMTPUTF8, not used)")
    try:
        domain = domain if domain.isascii() else domain.encode("idna").decode("ascii")
        return Address(display_name=name, addr_spec=f"{local}@{domain}")
    except (ValueError, IndexError, UnicodeError, email_errors.HeaderParseError) as exc:
        raise ValueError(f"{field}: {spec!r} is not an email address ({exc})") from None


def _message_id(value: str) -> str:
    if not isinstance(value, str) or not _MSG_ID.fullmatch(value) or len(value) > 250:
        raise ValueError(f"Message-ID {value!r} is not of the form <left@right> in printable ASCII")
    return value


def _header_url(url: str | None, field: str, schemes: tuple[str, ...]) -> str:
    url = (url or "").strip().replace(",", "%2C")  # RFC 2369: a literal comma separates entries
    if not _HEADER_URL.fullmatch(url) or urlsplit(url).scheme.lower() not in schemes:
        raise ValueError(f"{field} {url!r} is not a {'/'.join(schemes)} URL in printable ASCII")
    if len(url) > 900:
        raise ValueError(f"{field} is {len(url)} characters long; a header line holds 998")
    return url


# ---- what the message says ---------------------------------------------------------------------

def subject(alert: Alert) -> str:
    """`【政策追踪】专业镇 等 3 篇 · 2025-04-09`: the first rule's name, 等 when there are more
    rules, the number of stories, the latest issue date; 日报/周报 for digests."""
    rules = alert.rules()
    first = _clip(header_text(rules[0][1]) or header_text(rules[0][0]), RULE_NAME_MAX) if rules else ""
    more = " 等" if len({rule_id for rule_id, _ in rules}) > 1 else ""
    count = len({item.article_id for item in alert.items})
    dates = [header_text(item.date) for item in alert.items if header_text(item.date)]
    tag = TAGS.get(alert.frequency, TAGS["instant"])
    when = f" · {max(dates)}" if dates else ""
    return f"【{tag}】{first}{more} {count} 篇{when}".replace("】 ", "】")


def _groups(alert: Alert) -> list[tuple[str, list[AlertItem]]]:
    groups: dict[str, tuple[str, list[AlertItem]]] = {}
    for item in alert.items:
        groups.setdefault(item.rule_id, (item.rule_name, []))[1].append(item)
    return [(one_line(name) or rule_id, items) for rule_id, (name, items) in groups.items()]


def _names(item: AlertItem) -> str:
    """The display names of the keywords that hit, as the rule's author named them."""
    return "、".join(one_line(name) for name in item.names if one_line(name))


def _title(item: AlertItem) -> str:
    return one_line(item.title) or "（无标题）"


def _heading(alert: Alert) -> str:
    count = len({item.article_id for item in alert.items})
    names = "、".join(dict.fromkeys(one_line(name) or rule_id for rule_id, name in alert.rules()))
    return f"{TAGS.get(alert.frequency, TAGS['instant'])}：{names} 共 {count} 篇文章"


FOOTER_NOTE = "您收到这封邮件，是因为订阅了以上政策主题。本邮件由系统自动发送，请勿直接回复。"


def text_body(alert: Alert) -> str:
    lines = [_heading(alert), ""]
    for name, items in _groups(alert):
        lines += [f"■ {name}（{len(items)} 篇）", ""]
        for item in items:
            lines.append(f"  ▸ {_title(item)}")
            if meta_line(item):
                lines.append(f"    {meta_line(item)}")
            if fields_line(item):
                lines.append(f"    {fields_line(item)}")
            lines += [f"    {extra}" for extra in (first_line(item), also_in_line(item),
                                                    rules_line(item)) if extra]
            if web_link(item.archive_url):
                lines.append(f"    存档：{web_link(item.archive_url)}")
            if web_link(item.url):
                lines.append(f"    原文：{web_link(item.url)}")
            if _names(item):
                lines.append(f"    关键词：{_names(item)}")
            lines += [f"    · {one_line(snippet)}" for snippet in item.snippets if one_line(snippet)]
            lines.append("")
    lines += ["——", f"管理订阅：{one_line(alert.manage_url)}", f"退订：{one_line(alert.unsubscribe_url)}",
              FOOTER_NOTE, ""]
    return "\n".join(lines)


def highlight(snippet: str) -> Markup:
    """A snippet as HTML: everything escaped, each 【hit】 as <mark>hit</mark>."""
    snippet, parts, position = one_line(snippet), [], 0
    for match in _HIT.finditer(snippet):
        parts += [escape(snippet[position:match.start()]), Markup("<mark>%s</mark>") % match.group(1)]
        position = match.end()
    parts.append(escape(snippet[position:]))
    return Markup("").join(parts)


@lru_cache(maxsize=1)
def _template() -> Template:
    """The HTML template, compiled once per process and reused (auto_reload off: no stat of the
    file on every message)."""
    env = Environment(loader=FileSystemLoader(Path(__file__).with_name("templates")), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True, auto_reload=False)
    env.filters["highlight"] = highlight
    return env.get_template("email.html")


def html_body(alert: Alert) -> str:
    groups = [{"name": name, "items": [{"title": _title(item), "link": web_link(item.archive_url) or web_link(item.url),
                                        "archive": web_link(item.archive_url), "original": web_link(item.url),
                                        "meta": meta_line(item), "fields": fields_line(item), "names": _names(item),
                                        "story": [x for x in (first_line(item), also_in_line(item),
                                                              rules_line(item)) if x],
                                        "snippets": [s for s in item.snippets if one_line(s)]}
                                       for item in items]}
              for name, items in _groups(alert)]
    return _template().render(
        subject=subject(alert), heading=_heading(alert), groups=groups, footer_note=FOOTER_NOTE,
        manage_url=web_link(alert.manage_url), unsubscribe_url=web_link(alert.unsubscribe_url))


# ---- the message -------------------------------------------------------------------------------

def _list_domain(message_id: str) -> str:
    return message_id[1:-1].rpartition("@")[2]


def date_header(config: Mapping[str, Any], now: datetime | None) -> str:
    now = now or datetime.now(timezone.utc)
    try:
        now = now.astimezone(ZoneInfo(str(settings.value(config, "TIMEZONE"))))
    except (ZoneInfoNotFoundError, ValueError):
        now = now.astimezone(timezone.utc)
    return format_datetime(now)


def compose(alert: Alert, to: str, config: Mapping[str, Any], *, now: datetime | None = None) -> EmailMessage:
    """The email for one alert to one address. ValueError when it cannot be made safely (a bad
    address, Message-ID or unsubscribe link, no items): retrying will not help."""
    msg = _build(alert, to, config, now)
    check_headers(msg)
    return msg


def compose_bytes(alert: Alert, to: str, config: Mapping[str, Any], *,
                  now: datetime | None = None) -> tuple[str, bytes]:
    """What is sent for one alert to one address: the recipient's addr-spec (for RCPT TO) and the
    message's bytes, made as `compose` makes them and checked on those very bytes (serialised
    once). ValueError as for `compose`."""
    msg = _build(alert, to, config, now)
    data = as_bytes(msg)
    check_headers(msg, data)
    return msg["To"].addresses[0].addr_spec, data


@lru_cache(maxsize=16)
def _sender_header(mail_from: str) -> Any:
    """The From header for MAIL_FROM, made once: it is the same in every message."""
    return POLICY.header_factory("From", parse_address(mail_from, "MAIL_FROM"))


def _build(alert: Alert, to: str, config: Mapping[str, Any], now: datetime | None) -> EmailMessage:
    if not alert.items:
        raise ValueError(f"delivery {alert.delivery_id} has no items")
    mail_from = settings.value(config, "MAIL_FROM")
    parse_address(mail_from, "MAIL_FROM")  # ValueError for a bad one
    recipient = parse_address(to, "To")
    message_id = _message_id(alert.message_id)
    unsubscribe = [f"<{_header_url(alert.unsubscribe_url, 'unsubscribe_url', ('https', 'http'))}>"]
    if alert.unsubscribe_mailto:
        unsubscribe.append(f"<{_header_url(alert.unsubscribe_mailto, 'unsubscribe_mailto', ('mailto',))}>")

    msg = EmailMessage(policy=POLICY)
    msg["From"] = _sender_header(mail_from)
    msg["To"] = recipient
    msg["Subject"] = subject(alert)
    msg["Date"] = date_header(config, now)
    msg["Message-ID"] = message_id  # the same on every attempt: a resend is the same message
    list_name = " ".join(encoded_words(f"政策追踪 订阅 {int(alert.subscription_id)}"))
    msg["List-Id"] = f"{list_name} <subscription-{int(alert.subscription_id)}.{_list_domain(message_id)}>"
    msg["List-Unsubscribe"] = ", ".join(unsubscribe)
    if unsubscribe[0].startswith("<https:"):  # RFC 8058: one-click needs an HTTPS URI
        msg["List-Unsubscribe-Post"] = fixed_header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
    # RFC 3834: no vacation replies to the robot
    msg["Auto-Submitted"] = fixed_header("Auto-Submitted", "auto-generated")
    msg["MIME-Version"] = fixed_header("MIME-Version", "1.0")
    msg["Content-Type"] = f'multipart/alternative; boundary="{boundary()}"'
    msg["Content-Language"] = fixed_header("Content-Language", "zh-CN")
    msg.set_payload([text_part(text_body(alert), "plain"), text_part(html_body(alert), "html")])
    return msg
