"""Every message a person sees is Chinese and says what to do next: the real texts of
email-validator, the SSRF guard and the chat check, run through tracker.web.messages (and the
form), must come out with no English sentence in them (the rule reader's and the sources
checker's problems: tests/test_web_problems.py)."""

from __future__ import annotations

import json
import re

import pytest

from tracker.alerts.chat.send import check_chat_url
from tracker.sources.ssrf import UnsafeURL, check_url
from tracker.alerts.subscribe import SubscribeError, normalize_email
from tracker.web import messages

# Two English words in a row: what a "no English sentence" check looks for (a URL, an address,
# a scheme like dingtalk:// or a single product word such as Webhook may stay).
ENGLISH = re.compile(r"\b[A-Za-z]{2,}\b[ ,]+\b[A-Za-z]{2,}\b")
ACTIONS = ("请", "可以", "改用", "换", "检查", "填写")


def english_outside_code(text: str) -> list[str]:
    text = re.sub(r"https?://\S+|\S+@\S+|`[^`]*`|“[^”]*”|（[^（）]*[A-Za-z][^（）]*）$", "", text)
    return ENGLISH.findall(text)


def offline(host, port):
    raise OSError("no network in this test")


@pytest.mark.parametrize("address", [
    "li", "li@", "@example.org", "li@example", "li..wang@example.org", "li@exa mple.org",
    "li@@example.org", "li@" + "a" * 300 + ".org", "li@example.org li@example.com",
    "李 四@example.org", "li﹫example.org", "<li@example.org>", "li@-example.org",
    "li@example..org", "li@[127.0.0.1]", "li@localhost", "\"li\"@example.org",
])
def test_email_validator_texts_come_out_chinese(address):
    try:
        normalize_email(address)
    except SubscribeError as err:
        said = messages.describe(err)
        assert said != str(err)
        assert not english_outside_code(said), said
        assert any(word in said for word in ACTIONS), said
    else:
        pytest.skip(f"email-validator accepts {address!r}")


@pytest.mark.parametrize("url", [
    "", "li@example.org", "http://127.0.0.1/hook", "http://[::1]/", "http://localhost:8080/x",
    "http://10.0.0.8/", "http://192.168.1.1/", "http://169.254.169.254/latest/meta-data",
    "http://0.0.0.0/", "http://[fe80::1]/", "http://[::ffff:127.0.0.1]/", "http://100.64.0.1/",
    "http://198.51.100.7/", "ftp://example.org/", "http://user:pw@example.org/",
    "http://example.org:99999/", "http://exa mple.org/", "http:///nohost", "http://[zz]/",
    "http://" + "a" * 3000 + ".org/", "http://0x7f.1/", "http://2130706433/",
])
def test_webhook_refusals_come_out_chinese(url):
    try:
        check_url(url, resolve=offline)
    except UnsafeURL as err:
        said = messages.webhook_message(err.code, err.fields)
        assert said != messages.WEBHOOK["other"], (err.code, str(err))  # each has its words
        assert not english_outside_code(said), (str(err), said)
        assert any(word in said for word in ACTIONS), said
    else:
        pytest.fail(f"{url!r} was accepted")


def test_a_loopback_webhook_says_what_it_is_in_chinese():
    with pytest.raises(UnsafeURL) as err:
        check_url("http://127.0.0.1:9/hook")
    said = messages.webhook_message(err.value.code, err.value.fields)
    assert "127.0.0.1" in said and "本机" in said and "loopback" not in said


def test_every_refusal_code_and_address_kind_has_its_chinese():
    from tracker.alerts.chat.send import ChatProblem  # noqa: F401 - its codes are CHAT's keys
    from tracker.sources.ssrf import ADDRESS_KINDS, CODES

    assert set(CODES) <= set(messages.WEBHOOK) and set(ADDRESS_KINDS) <= set(messages.KINDS)
    for code in CODES:
        assert not english_outside_code(messages.webhook_message(code, {})), code


def test_the_words_follow_the_code_not_the_english():
    # Rewording the guard's English changes nothing a subscriber reads: no text is parsed.
    reworded = UnsafeURL("Nope: that host is us.", code="loopback", host="localhost")
    said = messages.webhook_message(reworded.code, reworded.fields)
    assert said == messages.WEBHOOK["loopback"].format(host="localhost")
    form = SubscribeError("webhook_url", "Anything at all", code="forbidden_address",
                          fields={"host": "a.example", "address": "10.0.0.8", "kind": "private"})
    from tracker.web.subscribe_form import describe

    assert "a.example 指向 10.0.0.8，是内网地址" in describe(form)


@pytest.mark.parametrize("url", ["json://example.org", "foo", "dingtalk://", "mailto://a@b",
                                 "xml://x", "not a url"])
def test_chat_refusals_come_out_chinese(url):
    problem = check_chat_url(url)
    assert problem
    said = messages.chat_message(problem.code, problem.fields)
    assert said != messages.CHAT["other"] or problem.code == "unsafe", problem
    assert not english_outside_code(said), said


@pytest.mark.parametrize("value, expected", [
    ("2025-04-09T01:02:03.123456+00:00", "2025-04-09 09:02"),
    ("2025-04-09T23:30:00Z", "2025-04-10 07:30"),
    ("2025-04-09T01:02:03", "2025-04-09 09:02"),  # naive: stored UTC
    (None, ""), ("", ""), ("not a time", "not a time"),
])
def test_local_time(value, expected):
    from zoneinfo import ZoneInfo

    assert messages.local_time(value, ZoneInfo("Asia/Shanghai")) == expected


def test_status_words():
    assert messages.zh_status("pending") == "待确认"
    assert messages.zh_status("pending", "delivery") == "待发送"
    assert [messages.zh_status(s) for s in ("sent", "failed", "active", "instant")] == \
        ["已发送", "失败待重试", "接收中", "即时"]
    assert messages.zh_status("something-new") == "something-new"


@pytest.mark.parametrize("code, fields, expected", [
    ("rejected", {"status": 401}, "对方拒收（HTTP 401）"),
    ("server_error", {"status": 503, "retry_after": 60.0}, "对方服务出错（HTTP 503）"),
    ("server_error", {}, "对方服务出错"),  # a field missing: its bracket is left out
    ("timeout", {"seconds": 10.0, "phase": "read"}, "连接超时（10 秒内没有回应）"),
    ("refused", {}, "对方拒绝连接"),
    ("chat_failed", {}, "聊天机器人发送失败"),
    ("smtp_sender", {"status": 550, "stage": "MAIL FROM"}, "邮件服务器不接受发件地址，请检查 MAIL_FROM（SMTP 550）"),
    ("unsafe", {"check": "forbidden_address", "kind": "private", "address": "10.0.0.8"},
     "地址未通过安全检查，已拒绝发送（内网地址）"),
    ("unsafe", {"check": "unresolvable", "host": "x.example"}, "地址未通过安全检查，已拒绝发送（域名解析失败）"),
    ("unsafe", {"check": "port", "port": 0}, "地址未通过安全检查，已拒绝发送"),
    ("connection_lost", {"stage": "DATA", "sent": True}, "与邮件服务器的连接中断，对方可能已收到"),
    ("no-such-code", {}, "发送失败"),
])
def test_delivery_errors_in_a_word(code, fields, expected):
    assert messages.delivery_message(code, fields).startswith(expected)
    row = {"error_code": code, "error_fields": json.dumps(fields), "last_error": "whatever"}
    assert messages.delivery_error(row) == messages.delivery_message(code, fields)


def test_a_delivery_without_an_error_says_nothing():
    assert messages.delivery_error({"error_code": None, "last_error": None}) == ""


@pytest.mark.parametrize("code, fields, expected", [
    ("unsubscribe_link", {}, "订阅者点了退订链接"),
    ("gone", {}, "对方地址已失效（HTTP 410），已停用"),
    ("failing", {"since": "2025-04-01T08:00:00+00:00", "error_code": "server_error",
                 "error_fields": {"status": 500}},
     "一直发送失败，已停用（自 2025-04-01 08:00 UTC 起）；最后一次：对方服务出错（HTTP 500）"),
    ("failing", {"since": "2025-04-01T08:00"}, "一直发送失败，已停用（自 2025-04-01 08:00 UTC 起）"),
    ("failing", {}, "一直发送失败，已停用"),
    ("other", {}, "其他原因（见详情）"),
    (None, {}, ""),
])
def test_state_reasons(code, fields, expected):
    assert messages.reason_message(code, fields) == expected
    row = {"state_code": code, "state_fields": json.dumps(fields), "state_reason": "anything"}
    assert messages.state_reason(row) == expected


def test_a_state_reasons_time_is_local_in_a_request(app):
    with app.test_request_context():
        said = messages.reason_message("failing", {"since": "2025-04-01T08:00:00+00:00"})
    assert said == "一直发送失败，已停用（自 2025-04-01 16:00 起）"  # Asia/Shanghai
