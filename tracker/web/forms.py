"""The public forms (Flask-WTF: each carries its CSRF token).

The fields only carry what was submitted: the checks are `tracker.alerts.subscribe`'s, the same
as the CLI's, and their SubscribeError names the field an error is shown next to.
"""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice

CHANNELS = [SelectChoice("email", "邮件"), SelectChoice("webhook", "Webhook"),
            SelectChoice("chat", "聊天机器人")]
FREQUENCIES = [SelectChoice("instant", "即时：见报当天提醒"), SelectChoice("daily", "每日汇总"),
               SelectChoice("weekly", "每周汇总")]

# Own keywords: separated by commas (, ，), 、, semicolons or white space.
KEYWORD_SPLIT = re.compile(r"[,，、;；\s]+")
MAX_KEYWORDS = 10
MAX_KEYWORD_LENGTH = 20
MAX_KEYWORDS_TEXT = 400


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class SubscribeForm(FlaskForm):
    channel = RadioField("接收方式", choices=CHANNELS, default="email", validate_choice=False)
    email = StringField("邮箱地址", filters=[_strip])
    webhook_url = StringField("Webhook 地址", filters=[_strip])
    chat_url = StringField("聊天机器人地址（Apprise URL）", filters=[_strip])
    rules = SelectMultipleField("主题", choices=[], validate_choice=False)
    frequency = RadioField("提醒频率", choices=FREQUENCIES, default="instant", validate_choice=False)
    keywords = StringField("自定义关键词（可选）", filters=[_strip])

    def address(self) -> str:
        """The address for the chosen channel (what subscribe() checks)."""
        field = {"email": self.email, "webhook": self.webhook_url, "chat": self.chat_url}.get(
            self.channel.data or "")
        return (field.data or "") if field is not None else ""


class ManageForm(FlaskForm):
    rules = SelectMultipleField("主题", choices=[], validate_choice=False)
    frequency = RadioField("提醒频率", choices=FREQUENCIES, validate_choice=False)
    keywords = StringField("自定义关键词", filters=[_strip])


class ButtonForm(FlaskForm):
    """A form that is only a CSRF token and a button (confirm, unsubscribe)."""


def split_keywords(text: str) -> list[str]:
    """Own keywords, in order, without repeats."""
    return list(dict.fromkeys(k for k in KEYWORD_SPLIT.split(text or "") if k))
