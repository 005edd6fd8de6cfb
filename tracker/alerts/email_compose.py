"""One Alert → one email: multipart/alternative (Chinese text, then HTML), headers that survive
mail clients and cannot be injected.

Header pieces that come from data (rule names, dates, addresses) never reach a header with a line
break in them: text pieces are flattened to one line and their RFC 2047 look-alikes (`=?`) are
defused, because Python's email package *decodes* encoded words in a value it is given
(`=?UTF-8?Q?=0A?=Bcc: x` becomes a real newline and a real Bcc header, cpython#121650); addresses
that carry one are refused with ValueError. A last check re-reads the header block as a receiver
would and refuses the message if a header appeared that was not set.

Three headers are not left to Python's folding: Subject is written as encoded words of whole
characters with the spaces inside them (Python's folding loses a space between Chinese and digits,
and writes over-long words); List-Unsubscribe and List-Id are written verbatim (Python would turn
a long URL into encoded words). Every line is at most 76 characters.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from email import errors as email_errors
from email import policy as email_policy
from email.headerregistry import Address, HeaderRegistry
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import format_datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup, escape

from tracker.alerts.model import Alert, AlertItem

DEFAULT_FROM = "tracker <tracker@localhost>"
TAGS = {"instant": "政策追踪", "daily": "政策追踪·日报", "weekly": "政策追踪·周报"}
RULE_NAME_MAX = 30  # characters of the first rule name in the subject

# C0/C1 controls and the Unicode line/paragraph separators: never inside one header line.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_HIT = re.compile(r"【([^【】]+)】")
# A msg-id as RFC 5322 has it in practice: <left@right>, printable ASCII, no spaces or brackets.
_MSG_ID = re.compile(r"<[!-;=?-~]+@[!-;=?-~]+>")
# What may stand inside <…> in List-Unsubscribe: printable ASCII without space, quotes, <, >.
_HEADER_URL = re.compile(r"[!#-;=?-~]+")


def _fold_words(name: str, words: list[str], policy: email_policy.EmailPolicy) -> str:
    """`name: word word …`, a line break put before a word that would pass the line length
    (unfolding takes the break away and keeps the space)."""
    lines = [f"{name}:"]
    for number, word in enumerate(words):
        if number and len(lines[-1]) + 1 + len(word) > (policy.max_line_length or 998):
            lines.append("")
        lines[-1] += " " + word
    return policy.linesep.join(lines) + policy.linesep


class _VerbatimHeader:
    """An ASCII header written as given, folded only at its spaces, never RFC 2047-encoded.
    Python folds a long `<https://…>` into `=?utf-8?q?…?=` words and the link stops working
    (odoo/odoo#289182); List-Unsubscribe and List-Id go through this class instead."""

    max_count = 1

    @classmethod
    def parse(cls, value: Any, kwds: dict) -> None:
        kwds["parse_tree"] = None
        kwds["decoded"] = str(value)

    def fold(self, *, policy: email_policy.EmailPolicy) -> str:
        return _fold_words(self.name, str(self).split(" "), policy)  # type: ignore[attr-defined]


class _EncodedHeader(_VerbatimHeader):
    """Text written whole as RFC 2047 B-encoded words of whole characters, spaces inside the words.
    Python's own folding puts a space *between* two encoded words, where readers drop it
    ("专业镇 1 篇" arrives as "专业镇1 篇"; the same bug as mjl-/mox#398), and writes words of 76
    characters where RFC 2047 allows 75. The value given is taken as text, never decoded."""

    def fold(self, *, policy: email_policy.EmailPolicy) -> str:
        return _fold_words(self.name, encoded_words(str(self)), policy)  # type: ignore[attr-defined]


def encoded_words(text: str, chunk_bytes: int = 39) -> list[str]:
    """Text as RFC 2047 B-encoded UTF-8 words of whole characters (39 bytes: 64 characters a word,
    so that "Subject: " + word fits in 76). Made here, not with email.header.Header, whose
    encoding follows the process-wide email.charset table (Apprise switches utf-8 to QP there)."""
    chunks, chunk = [], b""
    for char in text:
        data = char.encode("utf-8")
        if chunk and len(chunk) + len(data) > chunk_bytes:
            chunks.append(chunk)
            chunk = b""
        chunk += data
    chunks.append(chunk)
    return [f"=?utf-8?b?{base64.b64encode(c).decode('ascii')}?=" for c in chunks if c]


def _policy() -> email_policy.EmailPolicy:
    registry = HeaderRegistry()
    registry.map_to_type("subject", _EncodedHeader)
    registry.map_to_type("list-unsubscribe", _VerbatimHeader)
    registry.map_to_type("list-id", _VerbatimHeader)
    # 76, not 78, for what Python still folds (display names): it fills a folded line with one
    # encoded word, and RFC 2047 allows 75 characters (" " + 75); at 78 it writes 76.
    return email_policy.SMTP.clone(header_factory=registry, max_line_length=76)


POLICY = _policy()


# ---- pieces -----------------------------------------------------------------------------------

def one_line(text: str | None) -> str:
    """Any text as one line: control characters and runs of white space become one space."""
    return " ".join(_CONTROL.sub(" ", text or "").split())


def header_text(text: str | None) -> str:
    """A piece of a header: one line, and `=?` (an RFC 2047 encoded word's opener, which Python
    would decode, newlines and all) turned into `=？`."""
    return one_line(text).replace("=?", "=？")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def parse_address(value: str | None, field: str) -> Address:
    """`addr@example.com` or `名字 <addr@example.com>` as one Address, ASCII on the wire (an IDN
    domain is IDNA-encoded). ValueError, naming `field`, for anything else: an empty value, a line
    break, two addresses, an encoded-word display name, a non-ASCII local part (needs SMTPUTF8)."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{field}: no address")
    if _CONTROL.search(value):
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


def _web_link(url: str | None) -> str | None:
    """A URL fit for href: http(s) only (a `javascript:` link in an article would run)."""
    url = one_line(url)
    return url if urlsplit(url).scheme.lower() in ("http", "https") and urlsplit(url).netloc else None


# ---- what the message says ---------------------------------------------------------------------

def subject(alert: Alert) -> str:
    """`【政策追踪】专业镇 等 3 篇 · 2025-04-09`: the first rule's name, 等 when there are more
    rules, the number of distinct articles, the latest issue date; 日报/周报 for digests."""
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


def meta_line(item: AlertItem) -> str:
    """Paper, date and page (版次) of every hit, each said even when unknown."""
    return " · ".join((one_line(item.source_name or item.source_id) or "未知报纸",
                       chinese_date(item.date), page_label(item.page)))


def chinese_date(day: str | None) -> str:
    """`2025-04-09` as 2025年4月9日; anything else as it is (or 日期不详)."""
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", one_line(day))
    return f"{m[1]}年{int(m[2])}月{int(m[3])}日" if m else (one_line(day) or "日期不详")


def page_label(page: str | None) -> str:
    """The page as a reader says it: 1 → 第1版; 第3版 要闻 stays; none → 版次不详."""
    page = one_line(page)
    if not page:
        return "版次不详"
    if re.fullmatch(r"[A-Za-z]?\d{1,3}", page):
        return f"第{page.lstrip('0') or page}版"
    return page


def _names(item: AlertItem) -> str:
    """The display names of the keywords that hit, as the rule's author named them."""
    return "、".join(one_line(name) for name in item.names if one_line(name))


def _title(item: AlertItem) -> str:
    return one_line(item.title) or "（无标题）"


def _heading(alert: Alert) -> str:
    count = len({item.article_id for item in alert.items})
    names = "、".join(name for name, _ in _groups(alert))
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
            if _web_link(item.archive_url):
                lines.append(f"    存档：{_web_link(item.archive_url)}")
            if _web_link(item.url):
                lines.append(f"    原文：{_web_link(item.url)}")
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
def _templates() -> Environment:
    env = Environment(loader=FileSystemLoader(Path(__file__).with_name("templates")), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["highlight"] = highlight
    return env


def html_body(alert: Alert) -> str:
    groups = [{"name": name, "items": [{"title": _title(item), "link": _web_link(item.archive_url) or _web_link(item.url),
                                        "archive": _web_link(item.archive_url), "original": _web_link(item.url),
                                        "meta": meta_line(item), "names": _names(item),
                                        "snippets": [s for s in item.snippets if one_line(s)]}
                                       for item in items]}
              for name, items in _groups(alert)]
    return _templates().get_template("email.html").render(
        subject=subject(alert), heading=_heading(alert), groups=groups, footer_note=FOOTER_NOTE,
        manage_url=_web_link(alert.manage_url), unsubscribe_url=_web_link(alert.unsubscribe_url))


# ---- the message -------------------------------------------------------------------------------

def _list_domain(message_id: str) -> str:
    return message_id[1:-1].rpartition("@")[2]


def date_header(config: Mapping[str, Any], now: datetime | None) -> str:
    now = now or datetime.now(timezone.utc)
    try:
        now = now.astimezone(ZoneInfo(str(config.get("TIMEZONE") or "Asia/Shanghai")))
    except (ZoneInfoNotFoundError, ValueError):
        now = now.astimezone(timezone.utc)
    return format_datetime(now)


def compose(alert: Alert, to: str, config: Mapping[str, Any], *, now: datetime | None = None) -> EmailMessage:
    """The email for one alert to one address. ValueError when it cannot be made safely (a bad
    address, Message-ID or unsubscribe link, no items): retrying will not help."""
    if not alert.items:
        raise ValueError(f"delivery {alert.delivery_id} has no items")
    sender = parse_address(config.get("MAIL_FROM") or DEFAULT_FROM, "MAIL_FROM")
    recipient = parse_address(to, "To")
    message_id = _message_id(alert.message_id)
    unsubscribe = [f"<{_header_url(alert.unsubscribe_url, 'unsubscribe_url', ('https', 'http'))}>"]
    if alert.unsubscribe_mailto:
        unsubscribe.append(f"<{_header_url(alert.unsubscribe_mailto, 'unsubscribe_mailto', ('mailto',))}>")

    msg = EmailMessage(policy=POLICY)
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = subject(alert)
    msg["Date"] = date_header(config, now)
    msg["Message-ID"] = message_id  # the same on every attempt: a resend is the same message
    list_name = " ".join(encoded_words(f"政策追踪 订阅 {int(alert.subscription_id)}"))
    msg["List-Id"] = f"{list_name} <subscription-{int(alert.subscription_id)}.{_list_domain(message_id)}>"
    msg["List-Unsubscribe"] = ", ".join(unsubscribe)
    if unsubscribe[0].startswith("<https:"):  # RFC 8058: one-click needs an HTTPS URI
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to the robot
    # base64: Chinese is shorter so than quoted-printable, and no line nears 998 octets.
    msg.set_content(text_body(alert), subtype="plain", charset="utf-8", cte="base64")
    msg.add_alternative(html_body(alert), subtype="html", charset="utf-8", cte="base64")
    for part in msg.iter_parts():
        del part["MIME-Version"]  # belongs to the top level only
    msg["Content-Language"] = "zh-CN"  # after the body: set_content drops every Content-* header
    check_headers(msg)
    return msg


def check_headers(msg: EmailMessage) -> None:
    """Refuse the message if any header value holds a line break, or if a receiver reading the
    bytes would find other headers than the ones set (a header smuggled in, or the block cut)."""
    for name, value in msg.items():
        if "\r" in str(value) or "\n" in str(value):
            raise ValueError(f"header {name} would contain a line break")
    head = msg.as_bytes().split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
    seen = [name.lower() for name in BytesHeaderParser(policy=email_policy.compat32).parsebytes(head).keys()]
    if seen != [name.lower() for name in msg.keys()]:
        raise ValueError(f"the header block would read as {seen}, not as the headers set")
