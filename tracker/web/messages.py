"""What the web pages say, in Chinese. Refusals of our own carry codes and fields: a webhook
or chat URL refused by the address guard (tracker.sources.ssrf.UnsafeURL, tracker.alerts.chat
ChatProblem) is said by `webhook_message(code, fields)` / `chat_message(code, fields)`, and a
rule file's or sources.yaml's problem by tracker.web.problems, so rewording the English
changes nothing here. So are the subscribe form's refusals (`describe`, by SubscribeError's
code), a delivery's last error (`delivery_error`, by its error_code) and why a subscription
changed state (`state_reason`, by its state_code). Third-party texts (email-validator) are
matched by pattern; text not recognised gets a general Chinese sentence (never the English
alone). Admin pages may add the English detail after the Chinese (`rule_problem`; the raw
last_error and state_reason under 详情). The Jinja filters (`zh_status`,
`local_time`, `rule_problem`, …) are registered by `init_app`.
"""

from __future__ import annotations

import re
from tracker import settings
from datetime import datetime, timezone
from typing import Any, Callable, Mapping
from zoneinfo import ZoneInfo

from flask import Flask

Table = list[tuple[re.Pattern[str], str]]


def pattern_table(pairs: list[tuple[str, str]]) -> Table:
    """(pattern, Chinese) pairs compiled, for third-party texts that come without a code."""
    return [(re.compile(pattern, re.I | re.S), text) for pattern, text in pairs]


def by_pattern(text: str, table: Table) -> str | None:
    """The first row whose pattern is found in `text`, its groups filled in."""
    for pattern, chinese in table:
        m = pattern.search(text or "")
        if m:
            return chinese.format(*m.groups())
    return None


# ---- email addresses (email-validator's texts) ---------------------------------------------------

_EMAIL = pattern_table([
    (r"must have an @-sign|exactly one @-sign", "邮箱地址里要有一个 @，请填写完整，例如 name@example.com。"),
    (r"something after the @-sign", "@ 后面缺少域名，请写完整，例如 name@example.com。"),
    (r"something before the @-sign", "@ 前面缺少用户名，请写完整，例如 name@example.com。"),
    (r"should have a period|not within a valid top-level domain",
     "@ 后面的域名不完整（缺少 .com、.cn 这样的后缀），请检查后重填。"),
    (r"two periods in a row|period and a hyphen|cannot have a period",
     "邮箱地址里有连续的点或点和横线相连，请检查后重填。"),
    (r"too long", "邮箱地址太长了，请检查是否多粘贴了内容。"),
    (r"small commercial at", "邮箱地址里的 @ 是全角或特殊字符，请改用半角 @。"),
    (r"invalid characters? (?:before|in quotes)|not valid ASCII|Internationalized characters before",
     "@ 前面有不能用的字符（如空格、中文或全角符号），请改用字母、数字和 . _ -。"),
    (r"after the @-sign|domain name", "@ 后面的域名无效，请检查后重填。"),
    (r"display name|angle bracket", "请只填邮箱地址本身，不要带姓名或尖括号。"),
    (r"anything after the email address", "邮箱地址后面多了内容，请只填一个地址。"),
    (r"unsafe characters|invalid character|not an email address",
     "邮箱地址里有不能用的字符，请检查后重填。"),
])


def email_message(detail: str) -> str:
    """Why an email address was refused, in Chinese, with what to do."""
    return by_pattern(detail, _EMAIL) or "请填写有效的邮箱地址，例如 name@example.com。"


# ---- webhook URLs (tracker.sources.ssrf.UnsafeURL: chosen by its code, never by its English) --

KINDS = {  # tracker.sources.ssrf.ADDRESS_KINDS
    "loopback": "本机地址（回环地址）", "private": "内网地址",
    "link_local": "链路本地地址（含云主机元数据地址）", "this_network": "“本网络”地址",
    "cgnat": "运营商内网地址", "documentation": "文档示例专用地址", "multicast": "组播地址",
    "mapped": "嵌在 IPv6 里的 IPv4 地址", "reserved": "保留地址",
}
_PUBLIC = "提醒只能发到公网地址，请换一个公网上能访问的地址。"
WEBHOOK = {  # tracker.sources.ssrf.CODES
    "empty": "请填写 Webhook 地址（以 https:// 开头）。如果想用邮件接收，请在“接收方式”里选择“邮件”。",
    "not_absolute": "这不是网址：Webhook 地址要以 https:// 开头。如果想用邮件接收，请在“接收方式”里选择“邮件”。",
    "too_long": "地址太长（最多 {limit} 个字符），请检查是否粘贴了多余内容。",
    "bad_characters": "地址里有空格、换行或反斜杠，请删掉后重填。",
    "scheme": "只接受以 http:// 或 https:// 开头的地址，请改用服务商给出的 https 地址。",
    "credentials": "地址里不能带用户名和密码，请改用服务提供的令牌地址。",
    "port": "端口 {port} 无效，请检查地址。",
    "invalid": "这不是有效的网址，请复制服务商给出的完整地址（如 https://example.com/hook）。",
    "unresolvable": "找不到主机 {host}（域名解析失败），请检查拼写，或稍后再试。",
    "loopback": "这个 Webhook 地址不能使用：{host} 指向本机，提醒不能发到本机地址；请填写公网上能访问的地址。",
    "forbidden_address": "这个 Webhook 地址不能使用：{where}是{kind}；" + _PUBLIC,
    "several_urls": "一次只能填写一个地址，请删掉多余的部分。",
    "other": "这个 Webhook 地址不能使用，请检查后重填（以 https:// 开头的公网地址）。",
}


def webhook_message(code: str, fields: dict[str, Any] | None = None) -> str:
    """Why a webhook URL was refused (its UnsafeURL code and fields), in Chinese, with what
    to do; an unknown code gets the general sentence."""
    fields = dict(fields or {})
    if code == "forbidden_address":
        host, address = fields.get("host"), fields.get("address", "")
        fields["where"] = f"{host} 指向 {address}，" if host else f"{address} "
        fields["kind"] = KINDS.get(str(fields.get("kind")), KINDS["reserved"])
    return fill(WEBHOOK.get(code, WEBHOOK["other"]), fields, WEBHOOK["other"])


class _Blank(dict):
    """format_map's fields, an absent one shown as nothing rather than failing."""

    def __missing__(self, key: str) -> str:
        return ""


def fill(template: str, fields: Mapping[str, Any], general: str) -> str:
    """`template` with `fields` filled in (format_map, an absent field as nothing); `general`
    when the template cannot be filled."""
    try:
        return template.format_map(_Blank(fields))
    except (KeyError, ValueError, IndexError, AttributeError):
        return general


# ---- chat URLs (tracker.alerts.chat) -------------------------------------------------------------

CHAT = {  # tracker.alerts.chat.send.ChatProblem codes
    "not_chat": "这不是聊天机器人地址。请填写形如 dingtalk://令牌、wecombot://密钥、feishu://令牌 的地址。",
    "too_long": "地址太长（最多 {limit} 个字符），请检查是否粘贴了多余内容。",
    "not_public": "{scheme}:// 类型的地址不对公众开放，请改用钉钉、企业微信、飞书、Telegram 或 Slack，"
                  "或联系管理员代为添加。",
    "not_apprise": "{scheme}:// 地址的格式不对，请对照该服务的说明复制完整地址。",
    "other": "这个聊天机器人地址不能使用，请检查后重填。",
}


def chat_message(code: str, fields: dict[str, Any] | None = None) -> str:
    """Why a chat URL was refused (its ChatProblem code and fields), in Chinese; one whose
    host failed the address check is told as a webhook address is."""
    fields = dict(fields or {})
    if code == "unsafe":
        return webhook_message(str(fields.pop("check", "other")), fields).replace(
            "Webhook 地址", "聊天机器人地址")
    return fill(CHAT.get(code, CHAT["other"]), fields, CHAT["other"])


# ---- the subscribe form (tracker.alerts.subscribe.SubscribeError: chosen by its code) -------------

SUBSCRIBE = {  # tracker.alerts.subscribe.CODES
    "no_rules": "请至少选择一个主题。",
    "unknown_rules": "所选主题不存在，请刷新页面后重选。",
    "frequency": "请选择提醒频率：即时、每日或每周。",
    "channel": "请选择接收方式：邮件、Webhook 或聊天机器人。",
    "not_email": "邮箱地址里有不能用的字符，请检查后重填。",
    "non_ascii_local": "邮箱地址“@”前面的部分含有中文或其他非 ASCII 字符，本站的邮件无法投递到这样的地址。"
                       "请换一个只含英文字母、数字和常用符号的地址。",
    # email-validator's own English is matched by pattern (email_message); this when none fits
    "email_invalid": "请填写有效的邮箱地址，例如 name@example.com。",
}
_FIELD = {  # an error that came without a code: what its field needs
    "rules": "请重新选择主题。", "frequency": SUBSCRIBE["frequency"], "channel": SUBSCRIBE["channel"],
    "email": SUBSCRIBE["email_invalid"],
}


def describe(error: ValueError) -> str:
    """Why a subscription cannot be made (a tracker.alerts.subscribe.SubscribeError), in
    Chinese, chosen by the error's code (a refused URL's by its UnsafeURL or ChatProblem code);
    only email-validator's English is read, by pattern, being a third party's."""
    from tracker.alerts.subscribe import SubscribeError

    assert isinstance(error, SubscribeError), error
    if error.field == "keywords":
        return str(error)  # the form's own keyword checks speak Chinese (web.subscribe_form)
    if error.field == "webhook_url":
        return webhook_message(error.code or "other", error.fields)
    if error.field == "chat_url":
        return chat_message(error.code or "other", error.fields)
    if error.code == "email_invalid":
        return email_message(str(error))
    if error.code in SUBSCRIBE:
        return _fill_brackets(SUBSCRIBE[error.code], error.fields)
    return _FIELD.get(error.field, "提交的内容有问题，请检查后重新提交。")


def _fill_brackets(template: str, fields: dict[str, Any] | None) -> str:
    """`template` with `fields` put in. A part in full-width brackets （…） whose field is
    missing (or cannot be shown) is left out, brackets and all; elsewhere a missing field is
    left blank."""
    out = []
    for part in re.split(r"(（[^（）]*）)", template):
        try:
            out.append(part.format_map(dict(fields or {})))
        except (KeyError, ValueError, IndexError, TypeError):
            out.append("" if part.startswith("（") else part.format_map(_Blank(fields or {})))
    return "".join(out)


# ---- the admin pages -------------------------------------------------------------------------

STATUS = {
    "pending": "待确认", "active": "接收中", "paused": "已暂停", "unsubscribed": "已退订",
    "disabled": "已停用", "sending": "发送中", "sent": "已发送", "failed": "失败待重试",
    "dead": "已放弃", "cancelled": "已取消", "ok": "成功", "error": "出错", "running": "运行中",
    "partial": "部分成功", "skipped": "跳过", "instant": "即时", "daily": "每日", "weekly": "每周",
    "email": "邮件", "webhook": "Webhook", "chat": "聊天机器人", "folder": "文件夹", "feed": "订阅源",
    "epaper": "电子报", "not_modified": "无更新", "no_issue": "尚未出版", "policy": "政策栏目",
}
DELIVERY_STATUS = {**STATUS, "pending": "待发送"}


def zh_status(value: Any, kind: str = "") -> str:
    """A status word (pending, sent, instant…) in Chinese; unknown words as they are."""
    table = DELIVERY_STATUS if kind == "delivery" else STATUS
    return table.get(str(value or ""), str(value or ""))


DELIVERY = {  # tracker.store.deliveries.ERROR_CODES (a bracket whose field is missing is left out)
    "timeout": "连接超时（{seconds:g} 秒内没有回应）",
    "refused": "对方拒绝连接",
    "unresolvable": "域名解析失败（{host}）",
    "network": "网络连接出错",
    "tls": "加密连接失败，请检查对方的证书",
    "redirect": "对方要求跳转，提醒不跟随跳转，请改填最终地址（HTTP {status}）",
    "rejected": "对方拒收（HTTP {status}）",
    "server_error": "对方服务出错（HTTP {status}）",
    "gone": "对方地址已失效（HTTP 410）",
    "smtp": "邮件服务器拒收（SMTP {status}）",
    "smtp_sender": "邮件服务器不接受发件地址，请检查 MAIL_FROM（SMTP {status}）",
    "smtp_login": "邮件服务器拒绝登录，请检查用户名和密码（SMTP {status}）",
    "no_starttls": "邮件服务器不支持 STARTTLS，请检查 SMTP_SECURITY",
    "connection_lost": "与邮件服务器的连接中断",
    "unsafe": "地址未通过安全检查，已拒绝发送（{why}）",
    "bad_secret": "签名密钥无效，无法签名",
    "not_apprise": "不是可用的聊天机器人地址",
    "chat_failed": "聊天机器人发送失败",
    "compose": "邮件无法生成",
    "config": "邮件设置有误，请检查 MAIL_FROM 和 SMTP 设置",
    "mailbox": "无法写入开发用邮箱目录",
    "internal": "程序内部出错，详情见日志",
    "other": "发送失败",
}
_UNSAFE = {"loopback": "指向本机", "unresolvable": "域名解析失败", "scheme": "只接受 http 和 https",
           "credentials": "地址里带用户名和密码"}  # an UnsafeURL code, in the admin's few words


def delivery_message(code: str | None, fields: dict[str, Any] | None = None) -> str:
    """What a delivery's last error was (its code and fields), as a short Chinese summary; an
    unknown code gets the general one."""
    fields = dict(fields or {})
    if code == "unsafe":
        check = str(fields.get("check") or "")
        fields["why"] = _UNSAFE.get(check) or (KINDS.get(str(fields.get("kind")), "不是公网地址")
                                               if check == "forbidden_address" else None)
        if fields["why"] is None:
            del fields["why"]
    said = _fill_brackets(DELIVERY.get(str(code), DELIVERY["other"]), fields)
    if code == "connection_lost" and fields.get("sent"):
        said += "，对方可能已收到（重试时邮件编号不变，可据此去重）"
    return said


def delivery_error(row: Any) -> str:
    """A delivery row's last error (its `error_code` and `error_fields`) as a short Chinese
    summary, for the admin's table (the raw `last_error` goes beside it); "" when none."""
    from tracker.store.subscriptions import fields_of

    code = _column(row, "error_code")
    if not code and not _column(row, "last_error"):
        return ""
    return delivery_message(code, fields_of(_column(row, "error_fields")))


REASON = {  # tracker.store.subscriptions.STATE_CODES (a bracket whose field is missing is left out)
    "unsubscribe_link": "订阅者点了退订链接",
    "gone": "对方地址已失效（HTTP 410），已停用",
    "failing": "一直发送失败，已停用（自 {since} 起）",
    "other": "其他原因（见详情）",
}


def reason_message(code: str | None, fields: dict[str, Any] | None = None) -> str:
    """Why a subscription changed state (its code and fields), in Chinese: "failing" with its
    time in TRACKER_TIMEZONE (UTC outside a request) and its last error; "" for no code."""
    if not code:
        return ""
    fields = dict(fields or {})
    if fields.get("since"):
        fields["since"] = _moment(str(fields["since"]))
    said = _fill_brackets(REASON.get(code, REASON["other"]), fields)
    if code == "failing" and fields.get("error_code"):
        said += "；最后一次：" + delivery_message(str(fields["error_code"]),
                                              fields.get("error_fields") or {})
    return said


def state_reason(row: Any) -> str:
    """Why a subscription row (a dict or a Subscription) changed state, in Chinese, chosen by
    its `state_code` (its English `state_reason` is for the details beside it)."""
    from tracker.store.subscriptions import fields_of

    return reason_message(_column(row, "state_code"), fields_of(_column(row, "state_fields")))


def _column(row: Any, name: str) -> Any:
    return row.get(name) if isinstance(row, dict) else getattr(row, name, None)


def _moment(value: str) -> str:
    """A stored UTC time as the admin reads it: local in a request, else UTC, said so."""
    from flask import current_app, has_app_context

    if has_app_context():
        return local_time(value, zone(current_app.config))
    return f"{local_time(value, ZoneInfo('UTC'))} UTC"


def zone(config: Any) -> ZoneInfo:
    try:
        return ZoneInfo(settings.value(config, "TIMEZONE"))
    except (KeyError, ValueError):
        return ZoneInfo("Asia/Shanghai")


def local_time(value: Any, tz: ZoneInfo) -> str:
    """A stored UTC timestamp (ISO, maybe with microseconds) as `2025-04-09 14:03` in `tz`."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def init_app(app: Flask) -> None:
    """Register the filters the templates use."""
    from tracker.alerts.lines import page_label
    from tracker.web.problems import fetch_problem, rule_problem, rule_warnings, source_problem

    filters: dict[str, Callable[..., str]] = {
        "zh_status": zh_status, "rule_problem": rule_problem, "source_problem": source_problem, "delivery_error": delivery_error,
        "fetch_problem": fetch_problem,
        "rule_warnings": rule_warnings, "state_reason": state_reason, "page_label": page_label,
        "local_time": lambda value: local_time(value, zone(app.config)),
    }
    app.jinja_env.filters.update(filters)
