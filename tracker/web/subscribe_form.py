"""What the public forms check and say: the rules offered (never the `personal-*` files of
earlier versions), a subscriber's own keywords, and a SubscribeError in Chinese.

Apart from the views (tracker.web.public) so that each can be read on its own; the subscription
checks themselves are tracker.alerts.subscribe's, shared with the CLI."""

from __future__ import annotations

import logging

import yaml

from tracker.alerts.subscribe import SubscribeError
from tracker.rules import Rule, RulesError, parse_rules_text
from tracker.web.forms import MAX_KEYWORD_LENGTH, MAX_KEYWORDS, MAX_KEYWORDS_TEXT, split_keywords
from tracker.web.problems import rule_problem

log = logging.getLogger(__name__)
PERSONAL = "personal-"


def all_rules() -> list[Rule]:
    """The rules folder's rules. A broken file (an admin mid-edit) costs its own rules only."""
    from tracker.web.rulecache import checked_rules

    rules, problems = checked_rules()  # parsed again only when a rule file changes
    if problems:
        log.warning("rules have problems; the form shows the sound ones:\n%s", RulesError(problems))
    return rules


def public_rules(rules: list[Rule]) -> list[Rule]:
    return [rule for rule in rules if not rule.id.startswith(PERSONAL)]


def check_keywords(text: str) -> list[str]:
    """Own keywords from a form, checked (count, length, usable as a rule); SubscribeError on
    `keywords`."""
    if len(text) > MAX_KEYWORDS_TEXT:
        raise SubscribeError("keywords", f"关键词太长：最多 {MAX_KEYWORDS_TEXT} 个字符。")
    keywords = split_keywords(text)
    if not keywords:
        return []
    if len(keywords) > MAX_KEYWORDS:
        raise SubscribeError("keywords", f"最多 {MAX_KEYWORDS} 个关键词。")
    for word in keywords:
        if any(ord(c) < 32 or 0x7f <= ord(c) < 0xa0 for c in word):
            raise SubscribeError("keywords", "关键词里有控制字符。")
        if not 2 <= len(word) <= MAX_KEYWORD_LENGTH:
            raise SubscribeError("keywords", f"每个关键词 2 到 {MAX_KEYWORD_LENGTH} 个字："
                                             f"“{word}”不符合。")
    text = yaml.safe_dump({"id": "own", "name": "own", "keywords": keywords}, allow_unicode=True)
    _, problems = parse_rules_text(text)
    if problems:
        raise SubscribeError("keywords", "这些关键词不能用作规则：" + "；".join(
            rule_problem(p, detail=False) for p in problems))
    return keywords


def describe(error: SubscribeError) -> str:
    """A SubscribeError in Chinese, chosen by its code (tracker.web.messages.describe)."""
    from tracker.web.messages import describe as chinese

    return chinese(error)
