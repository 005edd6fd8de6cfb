"""Email alerts: what compose() writes, and what a real SMTP server on 127.0.0.1 receives from
send_emails() (aiosmtpd, started and stopped per test; every wait bounded, loopback only).

Alert content here is made up for the tests. Bugs other projects had, kept as cases here:
cpython#121650 (an encoded newline or a trailing newline in a header value makes a header),
odoo/odoo#289182 (a long List-Unsubscribe URL RFC 2047-encoded: one-click gone),
cpython#79986 (a Message-ID folded into encoded words), castlamp/zenbership#59 (an invalid
Message-ID), yetone/cumora#242 and codefuturist/email-mcp#62 (a new Message-ID per retry: the
recipient gets duplicates), knadh/listmonk#1161 and #1685 (List-Unsubscribe without a working
one-click: RFC 8058 wants List-Unsubscribe-Post and an HTTPS URI), zammad/zammad#2953 and
thunderbird/thunderbird-android#2499 (a Chinese subject cut inside a character between encoded
words), mjl-/mox#398 (a CJK subject's spaces lost between encoded words), python/cpython#75235 / pallets-eco/flask-mail#29 (Bcc: only the envelope decides who gets
it), getsentry/sentry#95407 and kootenpv/yagmail#118 (one connection for a batch; a server that
drops it after some messages).
"""

from __future__ import annotations

import dataclasses
import email
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
from datetime import datetime, timezone
from email import policy
from email.header import decode_header
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Callable, Iterator

import pytest

from tracker.alerts.email.mailbox import mailbox_messages
from tracker.alerts.email.send import send_emails
from tracker.alerts.email.compose import compose, parse_address, subject
from tracker.alerts.model import Alert, AlertItem

MANAGE = "https://tracker.example.org/s/manage/tok-m"
UNSUBSCRIBE = "https://tracker.example.org/s/unsubscribe/tok-u"
MAILTO = "mailto:unsubscribe@tracker.example.org?subject=unsubscribe%20tok-u"


def item(article_id: int = 1, rule_id: str = "zyz", rule_name: str = "专业镇", **changes) -> AlertItem:
    values = dict(article_id=article_id, rule_id=rule_id, rule_name=rule_name,
                  title="示例县推进特色产业集群建设", url=f"https://news.example.cn/a/{article_id}.html",
                  source_id="demo-daily", source_name="示例日报", date="2025-04-08", page="第2版 经济",
                  snippets=("……全县围绕【专业镇】培育，新建标准化厂房三处……",))
    values.update(changes)
    return AlertItem(**values)


def alert(delivery_id: int = 1, items: tuple[AlertItem, ...] | None = None, **changes) -> Alert:
    values = dict(delivery_id=delivery_id, subscription_id=40 + delivery_id, frequency="instant",
                  created_at="2025-04-09T01:00:00Z", message_id=f"<delivery-{delivery_id}.abc@tracker.example.org>",
                  webhook_id=f"msg_{delivery_id}", items=(item(),) if items is None else items, manage_url=MANAGE,
                  unsubscribe_url=UNSUBSCRIBE, unsubscribe_mailto=MAILTO)
    values.update(changes)
    return Alert(**values)


def parse(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data, policy=policy.default)


def raw_headers(data: bytes) -> str:
    return data.split(b"\r\n\r\n", 1)[0].decode("ascii")


def header_names(data: bytes) -> list[str]:
    return [name.lower() for name in parse(data).keys()]


def parts(msg: email.message.EmailMessage) -> tuple[str, str]:
    return msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content()


class RawServer:
    """A bare TCP server on loopback that greets with `greeting` (or says nothing), holding each
    connection until the test ends: for what aiosmtpd will not do (421 at the greeting, silence)."""

    def __init__(self, greeting: bytes | None):
        self.greeting, self.release = greeting, threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.release.is_set():
            try:
                conn, _ = self.listener.accept()
            except (socket.timeout, OSError):
                continue
            with conn:
                if self.greeting:
                    conn.sendall(self.greeting)
                self.release.wait(10)

    def close(self) -> None:
        self.release.set()
        self.thread.join(timeout=5)
        self.listener.close()


@pytest.fixture
def smtp_server(smtp_server):
    """Most tests here are about one connection's life (reconnecting, 421, a lost connection):
    a pool of one. The pool's own tests ask for more."""
    def start(**kwargs):
        server = smtp_server(**kwargs)
        server.config["SMTP_CONNECTIONS"] = 1
        return server
    return start


@pytest.fixture
def raw_server() -> Iterator[Callable[..., RawServer]]:
    servers = []

    def start(greeting: bytes | None) -> RawServer:
        servers.append(RawServer(greeting))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (the openssl command line), as (cert, key)."""
    if not shutil.which("openssl"):
        pytest.skip("no openssl command to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                    "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


# ---- compose: the subject --------------------------------------------------------------------------

def test_subject_one_rule_counts_articles_and_names_the_latest_date():
    items = (item(1, date="2025-04-07"), item(2, date="2025-04-09"), item(3, date=None))
    assert subject(alert(items=items)) == "【政策追踪】专业镇 3 篇 · 2025-04-09"


def test_subject_many_rules_says_deng_and_counts_distinct_articles():
    items = (item(1, "zyz", "专业镇"), item(1, "bzd", "标准地"), item(2, "bzd", "标准地"),
             item(3, "ld", "绿电", date="2025-04-09"))
    assert subject(alert(items=items)) == "【政策追踪】专业镇 等 3 篇 · 2025-04-09"


def test_subject_of_digests():
    assert subject(alert(frequency="daily")) == "【政策追踪·日报】专业镇 1 篇 · 2025-04-08"
    assert subject(alert(frequency="weekly", items=(item(1), item(2, "ld", "绿电")))) == \
        "【政策追踪·周报】专业镇 等 2 篇 · 2025-04-08"


def test_subject_without_dates_and_with_a_very_long_rule_name():
    name = "县域经济高质量发展与特色专业镇培育重点任务清单之一二三四五六七八九十"
    text = subject(alert(items=(item(rule_name=name, date=None),)))
    assert text.startswith("【政策追踪】县域经济") and "…" in text and text.endswith(" 1 篇")
    assert len(text) < 50


@pytest.mark.parametrize("length", [1, 7, 18, 29, 30, 31])
@pytest.mark.parametrize("base", ["绿色电力直供与源网荷储一体化项目", "a绿b色电c力", "标准地 改革 推进"])
def test_chinese_subject_is_encoded_in_whole_characters_per_word_and_decodes_back(base, length):
    """zammad#2953, thunderbird-android#2499: a character cut between encoded words; mjl-/mox#398:
    a space between two encoded words is dropped by readers (Python's folding put "专业镇 1 篇"'s
    space there); RFC 2047: an encoded word is 75 characters at most (Python's folding wrote 76)."""
    rule_name = (base * 10)[:length]
    data = compose(alert(items=(item(rule_name=rule_name),)), "reader@example.com", {}).as_bytes()
    head = raw_headers(data)
    folded = re.search(r"^Subject:(.*?)\r\n(?=\S)", head, re.S | re.M).group(1)
    words = re.findall(r"=\?utf-8\?[bq]\?[^?]*\?=", folded, re.I)
    assert words and folded.isascii()
    for word in words:
        assert len(word) <= 75
        for chunk, charset in decode_header(word):
            chunk.decode(charset)  # each word whole on its own: no character cut in two
    assert [line for line in head.split("\r\n") if len(line) > 76] == []
    assert parse(data)["Subject"] == subject(alert(items=(item(rule_name=rule_name),)))


# ---- compose: structure, headers, escaping ---------------------------------------------------------

def test_multipart_alternative_text_first_then_html_all_ascii_on_the_wire():
    data = compose(alert(), "reader@example.com", {}).as_bytes()
    assert data.isascii()
    msg = parse(data)
    assert msg.get_content_type() == "multipart/alternative"
    kinds = [part.get_content_type() for part in msg.iter_parts()]
    assert kinds == ["text/plain", "text/html"]
    for part in msg.iter_parts():
        assert part.get_content_charset() == "utf-8"
        assert part["Content-Transfer-Encoding"] == "base64"
        assert part["MIME-Version"] is None
    text, html = parts(msg)
    assert text.startswith("政策追踪：专业镇 共 1 篇文章")
    assert '<html lang="zh-CN">' in html


def test_headers_from_to_date_message_id_lists_and_auto_submitted():
    now = datetime(2025, 4, 9, 1, 2, 3, tzinfo=timezone.utc)
    config = {"MAIL_FROM": "政策追踪 <alerts@tracker.example.org>"}
    msg = parse(compose(alert(), "张三 <zhang@example.com>", config, now=now).as_bytes())
    assert msg["From"].addresses[0].addr_spec == "alerts@tracker.example.org"
    assert msg["From"].addresses[0].display_name == "政策追踪"
    assert msg["To"].addresses[0].addr_spec == "zhang@example.com"
    assert msg["To"].addresses[0].display_name == "张三"
    assert parsedate_to_datetime(msg["Date"]) == now
    assert msg["Date"].endswith("+0800")  # TIMEZONE, default Asia/Shanghai
    assert msg["Message-ID"] == "<delivery-1.abc@tracker.example.org>"
    assert msg["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>, <{MAILTO}>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["List-Id"] == "政策追踪 订阅 41 <subscription-41.tracker.example.org>"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["Content-Language"] == "zh-CN"
    assert msg["Bcc"] is None and msg["Cc"] is None


def test_headers_do_not_follow_the_process_wide_charset_table(monkeypatch):
    """Apprise's email plugin, once imported, sets utf-8 to quoted-printable for the whole process."""
    from email import charset

    monkeypatch.setitem(charset.CHARSETS, "utf-8", (charset.QP, charset.QP, "utf-8"))
    data = compose(alert(subscription_id=123456), "reader@example.com", {}).as_bytes()
    assert [line for line in raw_headers(data).split("\r\n") if len(line) > 76] == []
    assert parse(data)["List-Id"] == "政策追踪 订阅 123456 <subscription-123456.tracker.example.org>"


def test_default_sender():
    msg = parse(compose(alert(), "reader@example.com", {}).as_bytes())
    assert str(msg["From"]) == "政策追踪 <tracker@localhost>"  # the one default (tracker.settings)


def test_list_unsubscribe_without_mailto_and_one_click_only_for_https():
    """RFC 8058 one-click needs an HTTPS URI (knadh/listmonk#1161, #1685)."""
    msg = parse(compose(alert(unsubscribe_mailto=None), "reader@example.com", {}).as_bytes())
    assert msg["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    plain = alert(unsubscribe_url="http://127.0.0.1:5000/s/unsubscribe/tok-u", unsubscribe_mailto=None)
    msg = parse(compose(plain, "reader@example.com", {}).as_bytes())
    assert msg["List-Unsubscribe"] == "<http://127.0.0.1:5000/s/unsubscribe/tok-u>"
    assert msg["List-Unsubscribe-Post"] is None


def test_long_list_unsubscribe_url_stays_a_url_not_encoded_words():
    """odoo/odoo#289182: Python folds a long <https://…> into =?utf-8?q?…?= and the link dies."""
    url = "https://tracker.example.org/s/unsubscribe/" + "Ab1-_" * 40 + "?lang=zh&x=1"
    data = compose(alert(unsubscribe_url=url), "reader@example.com", {}).as_bytes()
    head = raw_headers(data)
    line = re.search(r"^List-Unsubscribe:.*?\r\n(?=\S)", head, re.S | re.M).group(0)
    assert "=?" not in line and f"<{url}>" in line
    assert parse(data)["List-Unsubscribe"] == f"<{url}>, <{MAILTO}>"


def test_long_message_id_is_neither_folded_nor_encoded():
    """cpython#79986: a msg-id folded into encoded words."""
    message_id = "<" + "delivery-7." + "x" * 90 + "@tracker.example.org>"
    data = compose(alert(message_id=message_id), "reader@example.com", {}).as_bytes()
    assert f"\r\nMessage-ID: {message_id}\r\n" in raw_headers(data) + "\r\n"
    assert parse(data)["Message-ID"] == message_id


@pytest.mark.parametrize("bad", ["<delivery 7@tracker.example.org>", "delivery-7@tracker.example.org",
                                 "<delivery-7>", "<a@b>\r\nBcc: evil@example.net", ""])
def test_an_invalid_message_id_is_refused(bad):
    """castlamp/zenbership#59: a Message-ID with spaces is undeliverable."""
    with pytest.raises(ValueError, match="Message-ID"):
        compose(alert(message_id=bad), "reader@example.com", {})


def test_html_is_escaped_hits_are_marked_and_links_are_safe():
    items = (item(1, title="关于<script>alert('x')</script>的通知", url="https://news.example.cn/a?x=1&y=<2>",
                  snippets=("第一句【专业镇】建设<b>加快</b>，第二处【专业镇】", "没有命中标记的<i>片段")),
             item(2, title="不应成为链接", url="javascript:alert(1)", snippets=()),
             item(3, title=None, url=None, page=None, snippets=()))
    text, html = parts(parse(compose(alert(items=items), "reader@example.com", {}).as_bytes()))
    assert "<script" not in html and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert html.count("<mark>专业镇</mark>") == 2
    assert "&lt;b&gt;加快&lt;/b&gt;" in html and "&lt;i&gt;片段" in html and "<b>" not in html
    assert "【专业镇】" not in html
    assert 'href="https://news.example.cn/a?x=1&amp;y=%3C2%3E"' in html or \
        'href="https://news.example.cn/a?x=1&amp;y=&lt;2&gt;"' in html
    assert "javascript:" not in html and "不应成为链接" in html
    assert "（无标题）" in html and "（无标题）" in text
    assert f'href="{MANAGE}"' in html and f'href="{UNSUBSCRIBE}"' in html
    # the text part keeps the 【】 marks and the raw title
    assert "第一句【专业镇】建设<b>加快</b>" in text and "关于<script>alert('x')</script>的通知" in text
    assert f"管理订阅：{MANAGE}" in text and f"退订：{UNSUBSCRIBE}" in text


def test_body_is_grouped_by_rule_with_newspaper_date_page_and_link():
    items = (item(1, "zyz", "专业镇", title="甲文"), item(2, "bzd", "标准地", title="乙文", source_name="另一日报",
                                                          date="2025-04-09", page="第1版 要闻"),
             item(3, "zyz", "专业镇", title="丙文"))
    text, html = parts(parse(compose(alert(items=items), "reader@example.com", {}).as_bytes()))
    assert text.index("■ 专业镇（2 篇）") < text.index("甲文") < text.index("丙文") < \
        text.index("■ 标准地（1 篇）") < text.index("乙文")
    assert "另一日报 · 2025年4月9日 · 第1版 要闻" in text and "原文：https://news.example.cn/a/2.html" in text
    assert html.index(">专业镇 <") < html.index("甲文") < html.index("丙文") < html.index(">标准地 <")
    assert '<a href="https://news.example.cn/a/2.html"' in html


def test_every_article_links_to_the_archive_and_says_paper_date_and_page():
    """A drop-folder article has no original: it still links to its archive page, and the page
    it was on is said even when unknown."""
    archive = "https://tracker.example.org/articles/7"
    items = (item(7, url=None, page=None, archive_url=archive),
             item(8, page="3", archive_url="https://tracker.example.org/articles/8"))
    text, html = parts(parse(compose(alert(items=items), "reader@example.com", {}).as_bytes()))
    assert f"存档：{archive}" in text and "示例日报 · 2025年4月8日 · 版次不详" in text
    assert "示例日报 · 2025年4月8日 · 第3版" in text and "原文：https://news.example.cn/a/8.html" in text
    assert f'<a href="{archive}" style="color:#1a5fb4">示例县推进特色产业集群建设</a>' in html
    assert html.count("在存档中阅读") == 2 and html.count("看原文") == 1


# ---- compose: header injection -----------------------------------------------------------------------

INJECT = "\r\nBcc: evil@example.net"


@pytest.mark.parametrize("to", [
    "reader@example.com" + INJECT,
    "reader@example.com\nBcc: evil@example.net",
    "Reader" + INJECT + " <reader@example.com>",
    "=?UTF-8?Q?=0A?=Bcc: evil@example.net <reader@example.com>",  # cpython#121650
    "reader@example.com, evil@example.net",
    "reader@example.com>evil@example.net",
    "not an address",
    "",
])
def test_a_recipient_that_could_inject_is_refused(to):
    with pytest.raises(ValueError, match="To"):
        compose(alert(), to, {})


def test_a_sender_that_could_inject_is_refused():
    with pytest.raises(ValueError, match="MAIL_FROM"):
        compose(alert(), "reader@example.com", {"MAIL_FROM": "tracker <t@localhost>" + INJECT})


@pytest.mark.parametrize("rule_name", [
    "专业镇" + INJECT,
    "专业镇\nBcc: evil@example.net",
    "专业镇 =?UTF-8?Q?=0A?=Bcc: evil@example.net",  # cpython#121650: decoded into a real newline
    "专业镇\n",  # cpython#121650: a trailing newline ended the header block
    "专业镇\u2028Bcc: evil@example.net",
])
def test_a_rule_name_cannot_become_a_header(rule_name):
    data = compose(alert(items=(item(rule_name=rule_name),)), "reader@example.com", {}).as_bytes()
    names = header_names(data)
    assert "bcc" not in names
    assert names[-4:] == ["auto-submitted", "mime-version", "content-type", "content-language"]
    msg = parse(data)
    assert msg["Subject"].startswith("【政策追踪】专业镇") and "\n" not in msg["Subject"]
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]


def test_a_title_or_date_cannot_become_a_header_or_break_the_body():
    items = (item(title="标题" + INJECT + "\r\n\r\n伪造正文", date="2025-04-09" + INJECT,
                  snippets=("片段\r\n.\r\nMAIL FROM:<x@y>",)),)
    data = compose(alert(items=items), "reader@example.com", {}).as_bytes()
    assert "bcc" not in header_names(data)
    msg = parse(data)
    assert "\n" not in msg["Subject"]
    text, html = parts(msg)
    assert "  ▸ 标题 Bcc: evil@example.net 伪造正文\r\n" in text
    assert "片段 . MAIL FROM:&lt;x@y&gt;" in html


def test_parse_address_accepts_plain_named_quoted_and_idn_addresses():
    assert parse_address("a@example.com", "To").addr_spec == "a@example.com"
    assert parse_address(" 张三 <a@example.com> ", "To").display_name == "张三"
    assert parse_address('"Zhang, San" <a@example.com>', "To").display_name == "Zhang, San"
    assert parse_address("a@例子.中国", "To").addr_spec == "a@xn--fsqu00a.xn--fiqs8s"
    with pytest.raises(ValueError, match="SMTPUTF8"):
        parse_address("张三@example.com", "To")


# ---- send over SMTP ----------------------------------------------------------------------------------

def test_a_batch_goes_over_one_connection_and_arrives_as_sent(smtp):
    batch = [(alert(n), f"reader{n}@example.com") for n in (1, 2, 3)]
    results = send_emails(batch, smtp.config)
    assert [(r.delivery_id, r.ok, r.status) for r in results] == [(1, True, 250), (2, True, 250), (3, True, 250)]
    assert smtp.recorder.connections == 1
    assert len(smtp.recorder.messages) == 3
    for n in (1, 2, 3):
        [received] = smtp.recorder.received(f"reader{n}@example.com")
        assert received.mail_from == "tracker@localhost"
        msg = parse(received.data)
        assert msg["Message-ID"] == f"<delivery-{n}.abc@tracker.example.org>"
        assert msg["To"].addresses[0].addr_spec == f"reader{n}@example.com"
        assert msg["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>, <{MAILTO}>"
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert msg["Subject"] == "【政策追踪】专业镇 1 篇 · 2025-04-08"
        assert "<mark>专业镇</mark>" in parts(msg)[1]


def test_a_resend_keeps_the_message_id(smtp):
    """yetone/cumora#242, codefuturist/email-mcp#62: a fresh id per attempt makes duplicates."""
    first = compose(alert(5), "reader@example.com", {}, now=datetime(2025, 4, 9, tzinfo=timezone.utc))
    again = compose(alert(5), "reader@example.com", {}, now=datetime(2025, 4, 10, tzinfo=timezone.utc))
    assert first["Message-ID"] == again["Message-ID"] == "<delivery-5.abc@tracker.example.org>"
    for _ in range(2):
        assert send_emails([(alert(5), "reader@example.com")], smtp.config)[0].ok
    ids = [parse(m.data)["Message-ID"] for m in smtp.recorder.messages]
    assert ids == ["<delivery-5.abc@tracker.example.org>"] * 2


def test_injected_headers_never_reach_the_envelope(smtp):
    """python/cpython#75235, flask-mail#29: the envelope alone says who receives a message."""
    batch = [(alert(1, items=(item(rule_name="专业镇 =?UTF-8?Q?=0A?=Bcc: evil@example.net"),)), "reader@example.com"),
             (alert(2), "reader@example.com" + INJECT)]
    results = send_emails(batch, smtp.config)
    assert results[0].ok
    assert not results[1].ok and results[1].permanent and "To" in results[1].error
    assert [m.rcpt_tos for m in smtp.recorder.messages] == [["reader@example.com"]]
    assert "bcc" not in header_names(smtp.recorder.messages[0].data)


def test_550_for_one_recipient_is_permanent_for_that_one_only(smtp):
    smtp.recorder.rcpt_replies["gone@example.com"] = "550 5.1.1 No such user"
    batch = [(alert(1), "a@example.com"), (alert(2), "gone@example.com"), (alert(3), "b@example.com")]
    results = send_emails(batch, smtp.config)
    assert [r.ok for r in results] == [True, False, True]
    assert results[1].permanent and results[1].status == 550 and "No such user" in results[1].error
    assert (results[1].code, results[1].fields) == ("smtp", {"status": 550, "stage": "RCPT TO"})
    assert smtp.recorder.connections == 1
    assert [m.rcpt_tos for m in smtp.recorder.messages] == [["a@example.com"], ["b@example.com"]]


@pytest.mark.parametrize("where, reply, code", [
    ("rcpt", "451 4.7.1 Greylisted, try again later", 451),
    ("rcpt", "452 4.2.2 Mailbox full", 452),
    ("data", "451 4.3.0 Temporary local problem", 451),
])
def test_4xx_is_not_permanent_and_carries_the_code(smtp, where, reply, code):
    replies = smtp.recorder.rcpt_replies if where == "rcpt" else smtp.recorder.data_replies
    replies["later@example.com"] = reply
    results = send_emails([(alert(1), "later@example.com"), (alert(2), "b@example.com")], smtp.config)
    assert not results[0].ok and not results[0].permanent and results[0].status == code
    assert results[1].ok and smtp.recorder.connections == 1


def test_5xx_at_end_of_data_is_permanent(smtp):
    smtp.recorder.data_replies["a@example.com"] = "554 5.7.1 Message rejected"
    [result] = send_emails([(alert(1), "a@example.com")], smtp.config)
    assert not result.ok and result.permanent and result.status == 554


def test_sender_refused_is_not_permanent_but_too_big_is(smtp):
    smtp.recorder.mail_reply = "550 5.7.1 Sender not allowed to relay"
    results = send_emails([(alert(1), "a@example.com"), (alert(2), "b@example.com")], smtp.config)
    assert [(r.ok, r.permanent, r.status) for r in results] == [(False, False, 550)] * 2
    assert "MAIL_FROM" in results[0].error and results[0].code == "smtp_sender"
    smtp.recorder.mail_reply = "552 5.3.4 Message too big"
    [result] = send_emails([(alert(3), "a@example.com")], smtp.config)
    assert (result.ok, result.permanent, result.status) == (False, True, 552)


def test_421_at_the_first_message_fails_the_batch_not_permanently(smtp):
    smtp.recorder.rcpt_replies["a@example.com"] = "421 4.3.2 Service shutting down"
    results = send_emails([(alert(1), "a@example.com"), (alert(2), "b@example.com")], smtp.config)
    assert [(r.ok, r.permanent, r.status) for r in results] == [(False, False, 421)] * 2
    assert smtp.recorder.connections == 1 and smtp.recorder.messages == []


def test_a_per_connection_limit_means_reconnecting_and_all_arrive_once(smtp):
    """getsentry/sentry#95407, kootenpv/yagmail#118: servers end connections after N messages."""
    smtp.recorder.per_connection = 2
    batch = [(alert(n), f"r{n}@example.com") for n in range(1, 6)]
    results = send_emails(batch, smtp.config)
    assert [r.ok for r in results] == [True] * 5
    assert smtp.recorder.connections == 3
    assert sorted(m.rcpt_tos[0] for m in smtp.recorder.messages) == [f"r{n}@example.com" for n in range(1, 6)]


def test_a_421_for_one_recipient_after_progress_retries_it_once_more_then_gives_up(smtp):
    smtp.recorder.rcpt_replies["busy@example.com"] = "421 4.4.5 Too busy for you"
    batch = [(alert(1), "a@example.com"), (alert(2), "busy@example.com"), (alert(3), "b@example.com"),
             (alert(4), "c@example.com")]
    results = send_emails(batch, smtp.config)
    assert [r.ok for r in results] == [True, False, True, True]
    assert not results[1].permanent and results[1].status == 421
    assert smtp.recorder.connections == 3  # a; then b, c, busy again; then busy alone (no progress)


def test_a_connection_lost_after_the_data_is_outcome_unknown_and_the_rest_goes_on(smtp):
    smtp.recorder.drop_after_data.add("b@example.com")
    batch = [(alert(1), "a@example.com"), (alert(2), "b@example.com"), (alert(3), "c@example.com")]
    results = send_emails(batch, smtp.config)
    assert [r.ok for r in results] == [True, False, True]
    assert not results[1].permanent and "may have accepted" in results[1].error
    assert results[1].code == "connection_lost" and results[1].fields["sent"] is True
    assert smtp.recorder.connections == 2
    # the server did keep it: the retry later carries the same Message-ID, so it can be recognised
    smtp.recorder.drop_after_data.clear()
    assert send_emails([(alert(2), "b@example.com")], smtp.config)[0].ok
    assert {parse(m.data)["Message-ID"] for m in smtp.recorder.received("b@example.com")} == \
        {"<delivery-2.abc@tracker.example.org>"}


def test_a_connection_dropped_before_any_message_fails_all_without_reconnecting(smtp):
    smtp.recorder.drop_at_mail = True
    results = send_emails([(alert(n), f"r{n}@example.com") for n in (1, 2, 3)], smtp.config)
    assert [(r.ok, r.permanent) for r in results] == [(False, False)] * 3
    assert all("connection lost" in r.error for r in results)
    assert smtp.recorder.connections == 1


def test_server_down_fails_every_message_not_permanently(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]  # closed again when the block ends: nothing listens there
    config = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_SECURITY": "none", "SMTP_TIMEOUT": 5}
    results = send_emails([(alert(1), "a@example.com"), (alert(2), "b@example.com")], config)
    assert [(r.delivery_id, r.ok, r.permanent) for r in results] == [(1, False, False), (2, False, False)]
    assert all("cannot connect" in r.error and r.code == "refused" for r in results)


def test_421_at_the_greeting_fails_every_message_not_permanently(raw_server):
    server = raw_server(b"421 4.3.2 Too many connections, try later\r\n")
    config = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": server.port, "SMTP_SECURITY": "none", "SMTP_TIMEOUT": 5,
              "SMTP_CONNECTIONS": 1}
    results = send_emails([(alert(1), "a@example.com"), (alert(2), "b@example.com")], config)
    assert [(r.ok, r.permanent, r.status) for r in results] == [(False, False, 421)] * 2
    assert "Too many connections" in results[0].error


def test_a_silent_server_times_out_within_smtp_timeout(raw_server):
    """SMTP_TIMEOUT ends the wait for a greeting (the error says it timed out; the server hangs
    up by itself only after 10 s, without that word). How soon: bench/deadline_bench.py."""
    server = raw_server(None)
    config = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": server.port, "SMTP_SECURITY": "none", "SMTP_TIMEOUT": 0.5}
    [result] = send_emails([(alert(1), "a@example.com")], config)
    assert not result.ok and not result.permanent and "cannot connect" in result.error
    assert result.error.endswith("timed out"), result.error


def test_starttls_required_but_not_offered_fails_not_permanently(smtp):
    config = dict(smtp.config, SMTP_SECURITY="starttls")
    [result] = send_emails([(alert(1), "a@example.com")], config)
    assert not result.ok and not result.permanent and "STARTTLS" in result.error
    assert result.code == "no_starttls"
    assert smtp.recorder.messages == []


def test_starttls_and_login(smtp_server, certificate):
    server = smtp_server(tls_context=server_context(certificate), require_starttls=True)
    config = dict(server.config, SMTP_SECURITY="starttls", SMTP_CA_FILE=str(certificate[0]),
                  SMTP_USERNAME="robot", SMTP_PASSWORD="s3cret")
    results = send_emails([(alert(1), "a@example.com"), (alert(2), "b@example.com")], config)
    assert [r.ok for r in results] == [True, True]
    assert server.recorder.logins == [("robot", "s3cret")]
    assert server.recorder.tls_messages == 2 and server.recorder.connections == 1


def test_implicit_tls_and_no_fallback_to_plain(smtp_server, certificate):
    tls_server = smtp_server(auth_require_tls=False, ssl_context=server_context(certificate))
    config = dict(tls_server.config, SMTP_SECURITY="tls", SMTP_CA_FILE=str(certificate[0]))
    [result] = send_emails([(alert(1), "a@example.com")], config)
    assert result.ok and tls_server.recorder.tls_messages == 1
    plain_server = smtp_server(auth_require_tls=False)
    config = dict(plain_server.config, SMTP_SECURITY="tls", SMTP_CA_FILE=str(certificate[0]), SMTP_TIMEOUT=2)
    [result] = send_emails([(alert(1), "a@example.com")], config)
    assert not result.ok and not result.permanent and plain_server.recorder.messages == []


def test_an_untrusted_certificate_is_refused(smtp_server, certificate):
    server = smtp_server(tls_context=server_context(certificate), require_starttls=True)
    [result] = send_emails([(alert(1), "a@example.com")], dict(server.config, SMTP_SECURITY="starttls"))
    assert not result.ok and not result.permanent and "certificate" in result.error.lower()
    assert result.code == "tls"
    assert server.recorder.messages == []


def test_login_refused_is_not_permanent(smtp):
    config = dict(smtp.config, SMTP_USERNAME="robot", SMTP_PASSWORD="wrong")
    results = send_emails([(alert(1), "a@example.com"), (alert(2), "b@example.com")], config)
    assert [(r.ok, r.permanent, r.status) for r in results] == [(False, False, 535)] * 2
    assert "login refused" in results[0].error and results[0].code == "smtp_login"


@pytest.mark.parametrize("settings, port, security", [
    ({}, 587, "starttls"),
    ({"SMTP_PORT": 587}, 587, "starttls"),
    ({"SMTP_PORT": "465"}, 465, "tls"),
    ({"SMTP_PORT": 25}, 25, "none"),
    ({"SMTP_PORT": 2525}, 2525, "none"),
    ({"SMTP_SECURITY": "tls"}, 465, "tls"),
    ({"SMTP_SECURITY": "NONE"}, 25, "none"),
    ({"SMTP_SECURITY": "starttls", "SMTP_PORT": 25}, 25, "starttls"),
])
def test_port_and_security_defaults(settings, port, security):
    from tracker.alerts.email.send import _settings

    got = _settings({"SMTP_HOST": "mail.example.org", **settings})
    assert (got.port, got.security, got.timeout) == (port, security, 30.0)


def test_a_bad_configuration_fails_every_message_not_permanently():
    for config in ({"SMTP_HOST": "127.0.0.1", "SMTP_SECURITY": "ssl3"},
                   {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": "smtp"},
                   {"MAIL_FROM": "tracker <t@localhost>" + INJECT}):
        results = send_emails([(alert(1), "a@example.com"), (alert(2), "b@example.com")], config)
        assert [(r.ok, r.permanent) for r in results] == [(False, False)] * 2
        assert results[0].error.startswith("configuration:") and results[0].code == "config"


# ---- the development mailbox -------------------------------------------------------------------------

def test_without_smtp_host_messages_go_to_the_instance_mailbox(tmp_path):
    config = {"INSTANCE_PATH": str(tmp_path)}
    assert mailbox_messages(tmp_path) == []
    first = send_emails([(alert(1), "a@example.com"), (alert(2), "b@example.com")], config)
    later = send_emails([(alert(1), "a@example.com")], config)  # a resend: a file of its own
    assert all(r.ok and not r.error for r in first + later)
    files = mailbox_messages(tmp_path)
    assert len(files) == 3 and files[0] == Path(later[0].extra["path"])
    assert [p.name for p in files] == sorted((p.name for p in files), reverse=True)
    assert all(p.parent == tmp_path / "mailbox" and re.fullmatch(r"\d{8}T\d{12}Z-delivery-\d+-[0-9a-f]{6}\.eml",
                                                                    p.name) for p in files)
    assert sorted(p.name for p in (tmp_path / "mailbox").iterdir()) == sorted(p.name for p in files)  # no drafts
    with files[-1].open("rb") as handle:
        msg = email.message_from_binary_file(handle, policy=policy.default)
    assert msg["Message-ID"] == "<delivery-1.abc@tracker.example.org>"
    assert msg["Subject"] == "【政策追踪】专业镇 1 篇 · 2025-04-08"
    assert "<mark>专业镇</mark>" in parts(msg)[1]
    assert {parse(p.read_bytes())["Message-ID"] for p in files} == \
        {"<delivery-1.abc@tracker.example.org>", "<delivery-2.abc@tracker.example.org>"}


def test_mailbox_ignores_drafts_and_other_files(tmp_path):
    send_emails([(alert(1), "a@example.com")], {"INSTANCE_PATH": str(tmp_path)})
    (tmp_path / "mailbox" / ".half-written.eml.tmp").write_bytes(b"Subject: x")
    (tmp_path / "mailbox" / "notes.txt").write_text("x")
    assert [p.suffix for p in mailbox_messages(str(tmp_path))] == [".eml"]


def test_an_unwritable_mailbox_fails_not_permanently(tmp_path):
    (tmp_path / "mailbox").write_text("a file where the folder should be")
    [result] = send_emails([(alert(1), "a@example.com")], {"INSTANCE_PATH": str(tmp_path)})
    assert not result.ok and not result.permanent and "mailbox" in result.error
    assert result.code == "mailbox"


def test_an_alert_that_cannot_be_composed_is_permanent_and_the_rest_still_go(tmp_path):
    batch = [(alert(1, message_id="<no id>"), "a@example.com"), (alert(2), "b@example.com"),
             (alert(3, items=()), "c@example.com"),
             (dataclasses.replace(alert(4), unsubscribe_url="javascript:alert(1)"), "d@example.com")]
    results = send_emails(batch, {"INSTANCE_PATH": str(tmp_path)})
    assert [(r.delivery_id, r.ok, r.permanent) for r in results] == \
        [(1, False, True), (2, True, False), (3, False, True), (4, False, True)]
    assert len(mailbox_messages(tmp_path)) == 1


def test_a_pool_of_connections_sends_each_message_once_and_reports_each_as_it_comes(smtp_server):
    server = smtp_server(auth_require_tls=False)
    config = dict(server.config, SMTP_CONNECTIONS=4)
    server.recorder.hold_data.add("r0@example.com")  # one message held until the others are in
    reported: list[int] = []

    def report(result) -> None:
        reported.append(result.delivery_id)
        if len(reported) == 11:
            server.recorder.release.set()

    batch = [(alert(n), f"r{n}@example.com") for n in range(12)]
    results = send_emails(batch, config, report=report)
    assert all(r.ok for r in results) and [r.delivery_id for r in results] == list(range(12))
    assert sorted(reported) == list(range(12)) and reported[-1] == 0  # the held one last
    assert 2 <= server.recorder.connections <= 4
    ids = [parse(m.data)["Message-ID"] for m in server.recorder.messages]
    assert len(ids) == 12 and len(set(ids)) == 12
    assert sorted(m.rcpt_tos[0] for m in server.recorder.messages) == sorted(a for _, a in batch)


def test_a_pool_whose_every_connection_fails_fails_each_message_once(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    config = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_SECURITY": "none",
              "SMTP_TIMEOUT": 5, "SMTP_CONNECTIONS": 3}
    reported: list[int] = []
    results = send_emails([(alert(n), f"r{n}@example.com") for n in range(7)], config,
                          report=lambda r: reported.append(r.delivery_id))
    assert sorted(reported) == list(range(7))
    assert all(not r.ok and not r.permanent and "cannot connect" in r.error for r in results)


def test_smtp_connections_must_be_a_number(smtp):
    [result] = send_emails([(alert(1), "a@example.com")], dict(smtp.config, SMTP_CONNECTIONS="x"))
    assert not result.ok and "SMTP_CONNECTIONS" in result.error


def test_a_relay_that_takes_only_two_connections_still_gets_every_message():
    """Relays limit connections per client (some to a few): the connections refused with 421
    at the greeting leave their messages to the ones that got in."""
    from smtp_loopback import CountingSMTP, LoopbackController, Recorder

    class TwoAtOnce(CountingSMTP):
        def connection_made(self, transport):
            handler = self.event_handler
            self.counted = handler.active < 2
            if not self.counted:
                handler.refused += 1
                transport.write(b"421 4.7.0 Too many connections from your host\r\n")
                transport.close()
                return
            handler.active += 1
            super().connection_made(transport)

        def connection_lost(self, exc):
            if getattr(self, "counted", False):
                self.event_handler.active -= 1
                super().connection_lost(exc)

    class Controller(LoopbackController):
        def factory(self):
            return TwoAtOnce(self.handler, **self.SMTP_kwargs)

    recorder = Recorder()
    recorder.active, recorder.refused = 0, 0
    controller = Controller(recorder, hostname="127.0.0.1", port=0, ready_timeout=10)
    controller.start()
    try:
        recorder.refused = 0
        recorder.hold_data.update({"r0@example.com", "r1@example.com"})  # both slots busy…

        def release_once_refused() -> None:  # …until the pool has met the limit
            deadline = time.monotonic() + 30
            while recorder.refused < 1 and time.monotonic() < deadline:
                time.sleep(0.01)
            recorder.release.set()

        watcher = threading.Thread(target=release_once_refused)
        watcher.start()
        config = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": controller.port, "SMTP_SECURITY": "none",
                  "SMTP_TIMEOUT": 40, "SMTP_CONNECTIONS": 6}
        results = send_emails([(alert(n), f"r{n}@example.com") for n in range(10)], config)
        watcher.join(timeout=40)
    finally:
        recorder.release.set()
        controller.stop()
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    assert recorder.refused >= 1  # the pool did meet the limit
    assert sorted(m.rcpt_tos[0] for m in recorder.messages) == sorted(f"r{n}@example.com"
                                                                      for n in range(10))
