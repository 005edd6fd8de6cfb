"""Errors carry codes and fields; the Chinese is chosen by code (issue #24). Every code has its
sentence, rewording the English keeps the Chinese, the senders say which code, and m016 gives
the rows of earlier versions (English only) their codes, so an old archive shows Chinese too."""

from __future__ import annotations

import json
import smtplib
import socket
import ssl
from dataclasses import replace
from datetime import timedelta

import pytest
import sqlite_utils

from tracker.alerts import subscribe as subscribing
from tracker.alerts.chat.send import apprise_failure
from tracker.alerts.deliver import RETRY_DELAYS, record
from tracker.alerts.model import SendResult, network_code
from tracker.alerts.subscribe import SubscribeError
from tracker.store import connect, migrate, transaction
from tracker.store.deliveries import ERROR_CODES, failing_deliveries
from tracker.store.schema import migrations
from tracker.store.subscriptions import (STATE_CODES, get_subscription, list_subscriptions,
                                         set_state, subscriptions_with_last_sent)
from tracker.web import messages
from test_deliveries import T0, due_for, sub
from test_web_messages import english_outside_code


@pytest.fixture
def db(tmp_path):
    """An archive with the source test_deliveries' helpers write their articles under."""
    database = connect(tmp_path / "tracker.db")
    with transaction(database):
        database["sources"].insert({"id": "s", "name": "山西日报", "type": "feed", "location": "x"})
    return database


# Fields a code is given by its sender (so that every bracket of its sentence is filled).
FIELDS = {
    "timeout": {"seconds": 10.0, "phase": "connect"}, "unresolvable": {"host": "x.example"},
    "redirect": {"status": 302, "location": "https://elsewhere.example/"},
    "rejected": {"status": 404}, "server_error": {"status": 502}, "gone": {"status": 410},
    "smtp": {"status": 550, "stage": "RCPT TO"}, "smtp_sender": {"status": 553, "stage": "MAIL FROM"},
    "smtp_login": {"status": 535}, "connection_lost": {"stage": "DATA", "sent": True},
    "unsafe": {"check": "forbidden_address", "host": "h.example", "address": "10.0.0.8",
               "kind": "private"},
    "failing": {"since": "2025-04-01T08:00:00+00:00", "error_code": "timeout",
                "error_fields": {"seconds": 10.0}},
    "unknown_rules": {"rules": ["nope"]},
}


# ---- every code has its Chinese -----------------------------------------------------------------

@pytest.mark.parametrize("codes, table", [
    (ERROR_CODES, messages.DELIVERY), (STATE_CODES, messages.REASON),
    (subscribing.CODES, messages.SUBSCRIBE),
])
def test_every_code_has_a_chinese_sentence_and_every_sentence_a_code(codes, table):
    assert set(codes) == set(table)
    assert len(set(codes)) == len(codes)


@pytest.mark.parametrize("code", ERROR_CODES)
def test_each_delivery_error_reads_as_chinese_with_or_without_its_fields(code):
    for fields in ({}, FIELDS.get(code, {})):
        said = messages.delivery_message(code, fields)
        assert said and "{" not in said and "}" not in said, (code, said)
        assert not english_outside_code(said), (code, said)


@pytest.mark.parametrize("code", STATE_CODES)
def test_each_state_reason_reads_as_chinese_with_or_without_its_fields(code):
    for fields in ({}, FIELDS.get(code, {})):
        said = messages.reason_message(code, fields)
        assert said and "{" not in said and not english_outside_code(said), (code, said)


@pytest.mark.parametrize("code", subscribing.CODES)
def test_each_subscribe_refusal_reads_as_chinese(code):
    said = messages.describe(SubscribeError("x", "an English sentence here", code=code,
                                            fields=FIELDS.get(code, {})))
    assert said and "{" not in said and not english_outside_code(said), (code, said)


def test_the_failing_reason_names_the_last_error_by_its_code():
    said = messages.reason_message("failing", FIELDS["failing"])
    assert said == "一直发送失败，已停用（自 2025-04-01 08:00 UTC 起）；最后一次：连接超时（10 秒内没有回应）"


# ---- the English may change; the Chinese follows the code ----------------------------------------

@pytest.mark.parametrize("code", ERROR_CODES)
def test_a_recorded_delivery_error_is_said_by_its_code_whatever_its_english(db, code):
    due = due_for(db, f"{code}@example.org")
    fields = FIELDS.get(code, {})
    misleading = "HTTP 503 timed out: Connection refused by SMTP (apprise)"  # every old pattern
    with transaction(db):
        record(db, due, SendResult(due.id, False, misleading, code=code, fields=fields), T0,
               RETRY_DELAYS, timedelta(days=5))
    (row,) = failing_deliveries(db)
    assert row["error_code"] == code and json.loads(row["error_fields"]) == fields
    assert row["last_error"] == misleading  # the raw text, for the admin
    assert messages.delivery_error(row) == messages.delivery_message(code, fields)


def test_a_failure_without_a_code_is_recorded_as_internal_and_success_clears_it(db):
    due = due_for(db)
    with transaction(db):
        record(db, due, SendResult(due.id, False, "something"), T0, RETRY_DELAYS, timedelta(days=5))
    assert failing_deliveries(db)[0]["error_code"] == "internal"
    with transaction(db):
        record(db, replace(due, attempts=1), SendResult(due.id, True, status=250), T0,
               RETRY_DELAYS, timedelta(days=5))
    row = db["deliveries"].get(due.id)
    assert (row["error_code"], row["error_fields"], row["last_error"]) == (None, None, None)


def test_a_code_outside_the_list_is_refused_where_it_is_made():
    with pytest.raises(AssertionError):
        SendResult(1, False, "x", code="no_such_code")


def test_gone_and_failing_disable_with_a_code_and_fields(db):
    gone = due_for(db, "https://hooks.example.org/gone", channel="webhook")
    with transaction(db):
        record(db, gone, SendResult(gone.id, False, "whatever it says", gone=True, permanent=True,
                                    code="gone", fields={"status": 410}), T0, RETRY_DELAYS,
               timedelta(days=5))
    failing = due_for(db, "https://hooks.example.org/failing", channel="webhook")
    with transaction(db):
        record(db, failing, SendResult(failing.id, False, "x", code="refused"), T0, RETRY_DELAYS,
               timedelta(days=5))
        record(db, replace(failing, attempts=1),
               SendResult(failing.id, False, "HTTP 502 Bad Gateway", code="server_error",
                          fields={"status": 502}),
               T0 + timedelta(days=5, seconds=1), RETRY_DELAYS, timedelta(days=5))
    s = get_subscription(db, gone.subscription_id)
    assert (s.state, s.state_code, s.state_fields) == ("disabled", "gone", {})
    assert messages.state_reason(s) == "对方地址已失效（HTTP 410），已停用"
    s = get_subscription(db, failing.subscription_id)
    assert s.state == "disabled" and s.state_code == "failing"
    assert s.state_fields == {"since": T0.isoformat(timespec="microseconds"),
                              "error_code": "server_error", "error_fields": {"status": 502}}
    assert "last error: HTTP 502" in s.state_reason  # the English, for the admin
    assert messages.state_reason(s).endswith("；最后一次：对方服务出错（HTTP 502）")


def test_a_state_is_said_by_its_code_and_cleared_when_the_owner_moves_it(db):
    sid = sub(db, "a@example.org")
    with transaction(db):
        set_state(db, sid, "unsubscribed", "unsubscribe_link", detail="Reworded: left by the link")
    (row,) = subscriptions_with_last_sent(db)
    assert messages.state_reason(row) == "订阅者点了退订链接"
    assert row["state_reason"] == "Reworded: left by the link"
    with transaction(db):
        set_state(db, sid, "active")
    (s,) = list_subscriptions(db)
    assert (s.state_code, s.state_fields, s.state_reason) == (None, {}, None)
    assert messages.state_reason(s) == ""
    with pytest.raises(ValueError):
        set_state(db, sid, "disabled", "the endpoint answered 410 Gone")  # text is not a code


@pytest.mark.parametrize("check, code, fields", [
    (lambda: subscribing.check_chosen_rules([" "], ["zyz"]), "no_rules", {}),
    (lambda: subscribing.check_chosen_rules(["zyz", "nope"], ["zyz"]), "unknown_rules",
     {"rules": ["nope"]}),
    (lambda: subscribing.check_frequency("hourly"), "frequency", {}),
    (lambda: subscribing.normalize_email("a@example.org\nBcc: b@example.org"), "not_email", {}),
    (lambda: subscribing.normalize_email("李四@example.org"), "non_ascii_local", {}),
    (lambda: subscribing.normalize_email("li@"), "email_invalid", {}),
    (lambda: subscribing.subscribe(None, {}, "fax", "123", ["zyz"], ["zyz"]), "channel", {}),
])
def test_subscribe_refusals_carry_their_code_and_the_form_says_it_by_code(check, code, fields):
    with pytest.raises(SubscribeError) as caught:
        check()
    err = caught.value
    assert (err.code, err.fields) == (code, fields)
    said = messages.describe(err)
    if code != "email_invalid":  # email-validator's English is a third party's: read by pattern
        reworded = SubscribeError(err.field, "Reworded entirely.", code=code, fields=fields)
        assert messages.describe(reworded) == said == messages.SUBSCRIBE[code]


# ---- the senders say which code -------------------------------------------------------------------

@pytest.mark.parametrize("error, code", [
    (TimeoutError("timed out"), "timeout"), (socket.timeout(), "timeout"),
    (ConnectionRefusedError(111, "refused"), "refused"),
    (socket.gaierror(-2, "Name or service not known"), "unresolvable"),
    (ssl.SSLCertVerificationError("certificate verify failed"), "tls"),
    (ConnectionResetError(104, "reset"), "network"), (smtplib.SMTPServerDisconnected("x"), "network"),
    (None, "network"),
])
def test_a_network_error_is_told_by_its_type(error, code):
    assert network_code(error) == code


@pytest.mark.parametrize("said, code, fields", [
    ("Failed to send DingTalk notification: Unauthorized, error=401.", "rejected", {"status": 401}),
    ("Sent Telegram notification failed: 401 Unauthorized", "rejected", {"status": 401}),
    ("Failed to send Slack notification: Bad Gateway, error=502.", "server_error", {"status": 502}),
    ("Failed to send Feishu notification:error=302.", "redirect", {"status": 302}),
    ("A Connection error occurred sending WeCom Bot notification.", "network", {}),
    ("", "chat_failed", {}), ("Failed to send Bark notification.", "chat_failed", {}),
])
def test_apprises_own_words_are_read_once_into_a_code(said, code, fields):
    assert apprise_failure(said) == (code, fields)


# ---- m016: the rows of earlier versions get their codes --------------------------------------------

OLD_REASONS = [
    ("unsubscribe link", "unsubscribe_link", {}),
    ("the endpoint answered 410 Gone", "gone", {}),
    ("failing since 2025-04-01T08:00; last error: HTTP 500 Internal Server Error", "failing",
     {"since": "2025-04-01T08:00", "error_code": "server_error", "error_fields": {"status": 500}}),
    ("failing since 2025-04-01T08:00; last error: cannot connect ([Errno 111] Connection "
     "refused) [203.0.113.9]", "failing",
     {"since": "2025-04-01T08:00", "error_code": "refused", "error_fields": {}}),
    ("paused by the admin", "other", {}),
]
OLD_ERRORS = [
    # ours, as the versions before m016 wrote them
    ("no complete answer within 30 s (WEBHOOK_TIMEOUT)", "timeout", {"seconds": 30.0}),
    ("timed out after 10 s connecting [203.0.113.9]", "timeout", {"seconds": 10.0}),
    ("cannot connect ([Errno 111] Connection refused) [203.0.113.9]", "refused", {}),
    ("HTTP request failed (ServerDisconnectedError: Server disconnected) [203.0.113.9]",
     "network", {}),
    ("HTTP 500 Internal Server Error", "server_error", {"status": 500}),
    ("HTTP 503 Service Unavailable, retry after 120 s", "server_error", {"status": 503}),
    ("HTTP 404 Not Found", "rejected", {"status": 404}),
    ("HTTP 410 Gone: the receiver says this endpoint is gone", "gone", {"status": 410}),
    ("HTTP 302 Found: redirects are not followed (to https://x.example/); the webhook URL must "
     "point at the receiver itself", "redirect", {"status": 302}),
    ("webhook URL refused: hooks.example resolves to 127.0.0.1, which is loopback: webhooks only "
     "go to public addresses", "unsafe", {"check": "forbidden_address", "kind": "loopback"}),
    ("webhook URL refused: 10.0.0.8, which is private (RFC 1918): webhooks only go to public "
     "addresses", "unsafe", {"check": "forbidden_address", "kind": "private"}),
    ("chat URL refused: cannot resolve nowhere.invalid ([Errno -2] Name or service not known)",
     "unsafe", {"check": "unresolvable", "host": "nowhere.invalid"}),
    ("chat URL refused: localhost is this machine (loopback)", "unsafe", {"check": "loopback"}),
    ("webhook URL refused: only http and https URLs are accepted, not ftp:", "unsafe",
     {"check": "other"}),
    ("cannot sign: the secret is not base64", "bad_secret", {}),
    ("internal error: KeyError: 'x'", "internal", {}),
    ("the sender gave no result", "internal", {}),
    ("no sender for fax", "internal", {}),
    ("RuntimeError: a bug after the first message", "internal", {}),
    ("550 at RCPT TO: 5.1.1 no such user", "smtp", {"status": 550, "stage": "RCPT TO"}),
    ("451 at end of data: try later", "smtp", {"status": 451, "stage": "end of data"}),
    ("553 at MAIL FROM: not yours (sender refused: check MAIL_FROM and the relay)", "smtp_sender",
     {"status": 553, "stage": "MAIL FROM"}),
    ("smtp.example.org:587 login refused: 535 5.7.8 bad credentials", "smtp_login", {"status": 535}),
    ("smtp.example.org:587 refused: 554 go away", "smtp", {"status": 554}),
    ("smtp.example.org:587 does not offer STARTTLS (SMTP_SECURITY is starttls)", "no_starttls", {}),
    ("cannot connect to smtp.example.org:587: [Errno 111] Connection refused", "refused", {}),
    ("cannot connect to smtp.example.org:587: timed out", "timeout", {}),
    ("cannot connect to smtp.example.org:587: [Errno -2] Name or service not known",
     "unresolvable", {}),
    ("cannot connect to smtp.example.org:465: [SSL: CERTIFICATE_VERIFY_FAILED] certificate "
     "verify failed", "tls", {}),
    ("connection lost at DATA: Connection unexpectedly closed; the server may have accepted the "
     "message (a retry keeps its Message-ID)", "connection_lost", {"stage": "DATA"}),
    ("cannot make the email: the address has a line break", "compose", {}),
    ("configuration: SMTP_PORT 'x', SMTP_TIMEOUT or SMTP_CONNECTIONS is not a number", "config", {}),
    ("cannot write to the mailbox /srv/mailbox: [Errno 28] No space left on device", "mailbox", {}),
    ("not a URL Apprise understands", "not_apprise", {}),
    ("the chat service did not take the message", "chat_failed", {}),
    ("not sent", "internal", {}),
    # a library's or a receiver's words (Apprise), as the pages matched them before
    ("Sent Telegram notification failed: 401 Unauthorized", "rejected", {"status": 401}),
    ("Failed to send DingTalk notification: Bad Gateway, error=502.", "server_error",
     {"status": 502}),
    ("Failed to send Feishu notification: error=301.", "redirect", {"status": 301}),
    ("A Connection error occurred sending WeCom Bot notification.", "network", {}),
    ("2025-04-09 WARNING - apprise - Failed to send", "chat_failed", {}),
    ("something nobody wrote before", "other", {}),
]


def test_m016_gives_an_old_archives_rows_their_codes(tmp_path):
    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before="m016_error_codes")
    assert "state_code" not in old["subscriptions"].columns_dict
    for n, (text, _, _) in enumerate(OLD_REASONS):
        old["subscriptions"].insert({"channel": "webhook", "address": f"https://h{n}.example/",
                                     "rules": "[]", "frequency": "instant", "state": "disabled",
                                     "created_at": "x", "state_reason": text})
    quiet = old["subscriptions"].insert({"channel": "email", "address": "a@example.org",
                                         "rules": "[]", "frequency": "daily", "state": "active",
                                         "created_at": "x"}).last_pk
    for text, _, _ in OLD_ERRORS:
        old["deliveries"].insert({"subscription_id": quiet, "frequency": "daily", "status": "dead",
                                  "created_at": "x", "attempts": 8, "last_error": text})
    sent = old["deliveries"].insert({"subscription_id": quiet, "frequency": "daily",
                                     "status": "sent", "created_at": "x", "attempts": 1}).last_pk
    old.conn.commit()
    old.conn.close()

    assert migrate(path) == ["m016_error_codes"]
    archive = connect(path, migrate=False)
    rows = {row["state_reason"]: row for row in archive["subscriptions"].rows}
    for text, code, fields in OLD_REASONS:
        row = rows[text]
        assert (row["state_code"], json.loads(row["state_fields"])) == (code, fields), text
        said = messages.state_reason(row)
        assert said and not english_outside_code(said), (text, said)
    assert rows[None]["state_code"] is None and messages.state_reason(rows[None]) == ""
    found = {row["last_error"]: row for row in archive["deliveries"].rows}
    for text, code, fields in OLD_ERRORS:
        row = found[text]
        assert (row["error_code"], json.loads(row["error_fields"])) == (code, fields), text
        said = messages.delivery_error(row)
        assert said and not english_outside_code(said), (text, said)
    assert archive["deliveries"].get(sent)["error_code"] is None
    assert messages.delivery_error(found["HTTP 500 Internal Server Error"]) == "对方服务出错（HTTP 500）"
    assert messages.state_reason(rows[OLD_REASONS[2][0]]) == (
        "一直发送失败，已停用（自 2025-04-01 08:00 UTC 起）；最后一次：对方服务出错（HTTP 500）")
    assert migrate(path) == []


def test_an_old_archive_shows_chinese_reasons_on_the_admin_pages(tmp_path):
    """The dashboard of an archive made before m016: its disabled subscriptions and dead
    deliveries in Chinese, their English under 详情."""
    from html import unescape

    from conftest import REPO_RULES
    from test_web_admin import PASSWORD, login
    from tracker.web import create_app

    instance = tmp_path / "instance"
    instance.mkdir()
    path = instance / "tracker.db"
    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before="m016_error_codes")
    sid = old["subscriptions"].insert({
        "channel": "webhook", "address": "https://h.example/x", "rules": "[]",
        "frequency": "instant", "state": "disabled", "created_at": "2025-04-01T00:00:00+00:00",
        "state_changed_at": "2025-04-06T00:00:00+00:00",
        "state_reason": "failing since 2025-04-01T08:00; last error: HTTP 502 Bad Gateway"}).last_pk
    old["deliveries"].insert({"subscription_id": sid, "frequency": "instant", "status": "dead",
                              "created_at": "2025-04-06T00:00:00+00:00", "attempts": 8,
                              "last_error": "timed out after 10 s waiting for the receiver"})
    old.conn.commit()
    old.conn.close()
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(instance), "RULES": str(REPO_RULES),
                      "ADMIN_PASSWORD": PASSWORD})
    client = app.test_client()
    assert login(client, PASSWORD).status_code == 302
    page = unescape(client.get("/admin").get_data(as_text=True))
    assert "一直发送失败，已停用（自 2025-04-01 16:00 起）；最后一次：对方服务出错（HTTP 502）" in page
    assert "连接超时（10 秒内没有回应）" in page
    assert "last error: HTTP 502 Bad Gateway" in page  # the English under 详情
