"""The public pages through Flask's test client, on a real SQLite file under tmp: the subscribe
form, double opt-in with a real SMTP server on loopback (aiosmtpd), the one-time webhook secret,
own keywords as a rule file, manage, unsubscribe (RFC 8058 one-click), CSRF, rate limits,
escaping. The rules folder is a copy per test: the form writes personal rules into it."""

from __future__ import annotations

import email
import re
import time
from email import policy
from pathlib import Path

import pytest
from markupsafe import escape

from conftest import csrf_token
import public_app
from public_app import db_of, keywords_of
from tracker.alerts.links import CONFIRM, MANAGE, UNSUBSCRIBE, make_token
from tracker.rules import load_rules
from tracker.store.subscriptions import find_subscription, get_subscription, list_subscriptions

PUBLIC_RULES = ["biaozhundi", "lvdian", "xinnengyuan", "yingshang-huanjing", "zhuanyezhen"]
app, mail_app = public_app.app, public_app.mail_app  # the shared fixtures, by name


def subscribe_form(client, **fields) -> dict:
    data = {"csrf_token": csrf_token(client, "/subscribe"), "channel": "email",
            "email": "reader@example.com", "rules": ["zhuanyezhen"], "frequency": "daily"}
    data.update(fields)
    return data


def post_subscribe(client, **fields):
    return client.post("/subscribe", data=subscribe_form(client, **fields))


def text(response) -> str:
    return response.get_data(as_text=True)


def error_after(page: str, field: str, before: str) -> str:
    """The error message shown for `field`: after its input, before the next field's."""
    start = page.index(f'name="{field}"')
    end = page.index(f'name="{before}"', start) if before else len(page)
    match = re.search(rf'<p class="error" id="{field}-error"[^>]*>(.*?)</p>', page[start:end], re.S)
    assert match, f"no error next to {field}"
    return match.group(1)


def received(smtp, count: int = 1) -> list[email.message.EmailMessage]:
    """The mail the server got, once at least `count` arrived (the confirmation is sent apart
    from the request, by a background sender): a bounded wait."""
    deadline = time.monotonic() + 30
    while len(smtp.recorder.messages) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return [email.message_from_bytes(m.data, policy=policy.default) for m in smtp.recorder.messages]


def confirm_link(message) -> str:
    body = message.get_content()
    match = re.search(r"https://tracker\.example\.org(/confirm/\S+)", body)
    assert match, body
    return match.group(1)


# ---- the form -----------------------------------------------------------------------------------

def test_form_shows_public_rules_with_descriptions(app, client):
    (Path(app.config["RULES"]) / "personal-9.yaml").write_text(
        "id: personal-9\nname: 自定义：秘密词\nkeywords: [秘密词]\n", encoding="utf-8")
    page = text(client.get("/subscribe"))
    for rule in load_rules(app.config["RULES"]):
        if rule.id.startswith("personal-"):
            assert rule.id not in page and "秘密词" not in page
        else:
            assert f'name="rules" value="{rule.id}"' in page
            assert str(escape(rule.name)) in page and str(escape(rule.description)) in page
    for field in ("channel", "email", "webhook_url", "chat_url", "rules", "frequency", "keywords",
                  "csrf_token"):
        assert f'name="{field}"' in page
    assert client.get("/").headers["Location"].endswith("/subscribe")


def test_missing_and_invalid_fields_show_errors_next_to_them(app, client):
    response = post_subscribe(client, email="", rules=[], frequency="daily")
    page = text(response)
    assert response.status_code == 400
    assert "邮箱地址" in error_after(page, "email", "webhook_url")
    assert "至少选择一个主题" in error_after(page, "rules", "keywords")

    page = text(post_subscribe(client, email="not an address", frequency="hourly"))
    assert "邮箱地址" in error_after(page, "email", "webhook_url")
    assert "提醒频率" in error_after(page, "frequency", "")
    assert 'id="rules-error"' not in page
    assert 'value="not an address"' in page  # what was typed stays

    page = text(post_subscribe(client, channel="fax"))
    assert "接收方式" in error_after(page, "channel", "email")
    page = text(post_subscribe(client, rules=["zhuanyezhen", "personal-1"]))
    assert "主题不存在" in error_after(page, "rules", "keywords")
    page = text(post_subscribe(client, channel="chat", chat_url="not a url"))
    assert "聊天机器人" in error_after(page, "chat_url", "rules")
    assert list_subscriptions(db_of(app)) == []


def test_csrf_is_required_on_every_form(app, client):
    response = client.post("/subscribe", data={"channel": "email", "email": "a@example.com",
                                               "rules": ["zhuanyezhen"], "frequency": "daily"})
    assert response.status_code == 400 and "CSRF" in text(response)
    response = client.post("/subscribe", data=subscribe_form(client, csrf_token="forged"))
    assert response.status_code == 400
    assert list_subscriptions(db_of(app)) == []

    sub = _active(app, "csrf@example.com")
    token_m = make_token(app.config, MANAGE, sub.id)
    token_u = make_token(app.config, UNSUBSCRIBE, sub.id)
    assert client.post(f"/manage/{token_m}", data={"action": "unsubscribe"}).status_code == 400
    assert client.post(f"/unsubscribe/{token_u}", data={"go": "1"}).status_code == 400
    pending = _pending(app, "later@example.com")
    token_c = make_token(app.config, CONFIRM, pending.id)
    assert client.post(f"/confirm/{token_c}").status_code == 400
    db = db_of(app)
    assert get_subscription(db, sub.id).state == "active"
    assert get_subscription(db, pending.id).state == "pending"


# ---- email: double opt-in -----------------------------------------------------------------------

def test_email_double_opt_in(mail_app, client, smtp):
    app = mail_app
    response = post_subscribe(client, email="Reader@Example.com")
    assert response.status_code == 200 and "请查收确认邮件" in text(response)
    sub = find_subscription(db_of(app), "email", "reader@example.com")  # one spelling
    assert sub.state == "pending" and sub.rules == ("zhuanyezhen",) and sub.frequency == "daily"

    [message] = received(smtp)
    assert smtp.recorder.messages[0].rcpt_tos == ["reader@example.com"]
    assert "请确认订阅" in message["Subject"]
    assert message.get_content().startswith("您好")
    path = confirm_link(message)

    page = client.get(path)  # a mail scanner following the link changes nothing
    assert page.status_code == 200 and "确认订阅" in text(page)
    assert get_subscription(db_of(app), sub.id).state == "pending"
    response = client.post(path, data={"csrf_token": csrf_token(client, path)})
    assert response.status_code == 200 and "订阅已确认" in text(response)
    confirmed = get_subscription(db_of(app), sub.id)
    assert confirmed.state == "active" and confirmed.confirmed_at
    # the link again: still confirmed, nothing else
    assert "订阅已确认" in text(client.get(path))


def test_confirmation_goes_to_the_mailbox_without_smtp(app, client):
    from tracker.alerts.email.mailbox import mailbox_messages

    post_subscribe(client, email="box@example.com")
    deadline = time.monotonic() + 30  # sent apart from the request: a bounded wait
    while not mailbox_messages(app.config["INSTANCE_PATH"]) and time.monotonic() < deadline:
        time.sleep(0.02)
    [path] = mailbox_messages(app.config["INSTANCE_PATH"])
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert message["To"] == "box@example.com"
    assert confirm_link(message).startswith("/confirm/")


def test_a_mail_that_cannot_be_sent_gives_the_same_page(app, client):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    def main(page: str) -> str:  # the answer itself (the navigation follows the mail setup)
        return page[page.index("<main"):page.index("</main>")]

    reference = main(text(post_subscribe(client, email="down@example.com")))  # to the mailbox
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_SECURITY="none", SMTP_TIMEOUT=2)
    response = post_subscribe(client, email="down@example.com")
    assert response.status_code == 200 and main(text(response)) == reference
    assert find_subscription(db_of(app), "email", "down@example.com").state == "pending"


def test_forged_expired_and_misused_confirm_tokens(app, client, monkeypatch):
    sub = _pending(app, "wait@example.com")
    good = make_token(app.config, CONFIRM, sub.id)
    forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    other_key = make_token({**app.config, "SECRET_KEY": "someone else's"}, CONFIRM, sub.id)
    wrong_purpose = make_token(app.config, MANAGE, sub.id)
    monkeypatch.setattr("itsdangerous.timed.TimestampSigner.get_timestamp",
                        lambda self: int(time.time()) - 8 * 24 * 3600)
    expired = make_token(app.config, CONFIRM, sub.id)
    monkeypatch.undo()
    csrf = csrf_token(client, "/subscribe")
    for token in (forged, other_key, wrong_purpose, expired, "nonsense"):
        response = client.get(f"/confirm/{token}")
        assert response.status_code == 400 and "确认链接无效" in text(response), token
        assert client.post(f"/confirm/{token}", data={"csrf_token": csrf}).status_code == 400
    assert get_subscription(db_of(app), sub.id).state == "pending"
    app.config["CONFIRM_MAX_AGE"] = 30 * 24 * 3600  # the same old token within a longer limit
    assert client.get(f"/confirm/{expired}").status_code == 200


def test_resubmitting_a_confirmed_address_changes_nothing_and_says_the_same(mail_app, client, smtp):
    app = mail_app
    first = post_subscribe(client, email="same@example.com")
    [message] = received(smtp)
    path = confirm_link(message)
    client.post(path, data={"csrf_token": csrf_token(client, path)})
    before = find_subscription(db_of(app), "email", "same@example.com")
    assert before.state == "active"

    again = post_subscribe(client, email="Same@Example.com", rules=["lvdian", "biaozhundi"],
                           frequency="weekly", keywords="光伏 储能")
    assert again.status_code == first.status_code == 200
    assert text(again) == text(first)
    assert find_subscription(db_of(app), "email", "same@example.com") == before
    assert len(list_subscriptions(db_of(app))) == 1
    # the owner, not the visitor, is told where to manage it
    reminder = received(smtp, 2)[-1]
    assert len(smtp.recorder.messages) == 2 and "管理链接" in reminder["Subject"]
    assert f"/manage/{make_token(app.config, MANAGE, before.id)}" in reminder.get_content()


def test_resubmitting_a_pending_address_sends_a_fresh_confirmation(mail_app, client, smtp):
    app = mail_app
    post_subscribe(client, email="slow@example.com")
    post_subscribe(client, email="slow@example.com", rules=["lvdian"], frequency="instant")
    assert len(received(smtp, 2)) == 2
    sub = find_subscription(db_of(app), "email", "slow@example.com")
    # the first submission's choices stay: the second may have been anybody's
    assert sub.state == "pending" and sub.rules == ("zhuanyezhen",) and sub.frequency == "daily"
    path = confirm_link(received(smtp)[-1])
    client.post(path, data={"csrf_token": csrf_token(client, path)})
    assert get_subscription(db_of(app), sub.id).state == "active"


# ---- webhooks and chat --------------------------------------------------------------------------

def test_webhook_to_this_machine_is_refused(app, client):
    response = post_subscribe(client, channel="webhook", webhook_url="http://127.0.0.1:9/hook")
    assert response.status_code == 400
    assert "Webhook" in error_after(text(response), "webhook_url", "chat_url")
    assert list_subscriptions(db_of(app)) == []


def test_webhook_secret_is_shown_once(app, client):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    url = "http://127.0.0.1:9/hook"
    response = post_subscribe(client, channel="webhook", webhook_url=url)
    sub = find_subscription(db_of(app), "webhook", url)
    assert response.status_code == 200 and sub.state == "active"
    assert sub.secret.startswith("whsec_") and sub.secret in text(response)
    assert response.headers["Cache-Control"] == "no-store"
    assert "webhook-signature" in text(response) and "hmac.compare_digest" in text(response)

    manage = f"/manage/{make_token(app.config, MANAGE, sub.id)}"
    for later in (client.get("/subscribe"), client.get(manage),
                  post_subscribe(client, channel="webhook", webhook_url=url)):
        assert sub.secret not in text(later) and "whsec_" not in text(later)
    assert "已有订阅" in text(later)

    # After leaving, the form resets nothing: the state and the secret stay (a stranger who
    # knows the URL learns no secret); the owner resumes on the manage page.
    client.post(f"/unsubscribe/{make_token(app.config, UNSUBSCRIBE, sub.id)}",
                data={"List-Unsubscribe": "One-Click"})
    response = post_subscribe(client, channel="webhook", webhook_url=url)
    after = get_subscription(db_of(app), sub.id)
    assert after.state == "unsubscribed" and after.secret == sub.secret
    assert "whsec_" not in text(response)


def test_chat_urls(app, client):
    response = post_subscribe(client, channel="chat", chat_url="json://example.com/hook")
    assert response.status_code == 400
    assert "json://" in error_after(text(response), "chat_url", "rules")
    assert list_subscriptions(db_of(app)) == []
    response = post_subscribe(client, channel="chat", chat_url="dingtalk://abcdef0123456789abcdef")
    assert response.status_code == 200 and "订阅成功" in text(response)
    sub = find_subscription(db_of(app), "chat", "dingtalk://abcdef0123456789abcdef")
    assert sub.state == "active"
    manage = text(client.get(f"/manage/{make_token(app.config, MANAGE, sub.id)}"))
    assert "abcdef0123456789" not in manage and "dingtalk://" in manage  # the token stays hidden


# ---- own keywords -------------------------------------------------------------------------------

def test_own_keywords_belong_to_the_subscription(app, client):
    response = post_subscribe(client, email="own@example.com", keywords="光伏、储能, 买药加微信 光伏")
    assert response.status_code == 200
    sub = find_subscription(db_of(app), "email", "own@example.com")
    assert sub.rules == ("zhuanyezhen",)
    assert keywords_of(db_of(app), sub.id) == ["光伏", "储能", "买药加微信"]
    assert not list(Path(app.config["RULES"]).glob("personal*"))  # nothing in the rules folder
    for public in ("/subscribe", "/articles", "/trends"):  # nobody else sees them
        assert "买药加微信" not in text(client.get(public))

    # the subscriber sees and edits them on the manage page
    token = make_token(app.config, MANAGE, sub.id)
    page = client.get(f"/manage/{token}")
    assert "光伏、储能、买药加微信" in text(page) and page.headers["Cache-Control"] == "no-store"
    client.post(f"/manage/{token}", data={"csrf_token": csrf_token(client, f"/manage/{token}"),
                                          "action": "save", "rules": ["lvdian"],
                                          "frequency": "weekly", "keywords": "氢能 绿氨"})
    assert get_subscription(db_of(app), sub.id).rules == ("lvdian",)
    assert keywords_of(db_of(app), sub.id) == ["氢能", "绿氨"]


@pytest.mark.parametrize("keywords, says", [
    ("煤", "2 到"),
    ("、".join(f"词语{i}" for i in range(11)), "最多"),
    ("这是一个非常非常非常非常非常长的关键词啊呀", "2 到"),
])
def test_bad_own_keywords_are_refused(app, client, keywords, says):
    response = post_subscribe(client, keywords=keywords)
    assert response.status_code == 400
    assert says in error_after(text(response), "keywords", "frequency")
    assert list_subscriptions(db_of(app)) == []
    assert not list(Path(app.config["RULES"]).glob("personal-*"))


# ---- manage -------------------------------------------------------------------------------------

def test_manage(app, client):
    sub = _active(app, "manage@example.com", rules=["zhuanyezhen", "lvdian"])
    url = f"/manage/{make_token(app.config, MANAGE, sub.id)}"
    page = text(client.get(url))
    assert 'value="zhuanyezhen" checked' in page and 'value="lvdian" checked' in page
    assert 'value="biaozhundi">' in page.replace(' aria-invalid="true"', "")
    assert 'value="daily" checked' in page
    assert "manage@example.com" not in page and "m***@example.com" in page

    def press(action, **fields):
        return client.post(url, data={"csrf_token": csrf_token(client, url), "action": action,
                                      **fields})

    response = press("save", rules=["biaozhundi"], frequency="weekly")
    assert response.status_code == 302
    now = get_subscription(db_of(app), sub.id)
    assert now.rules == ("biaozhundi",) and now.frequency == "weekly"
    assert "设置已保存" in text(client.get(url))

    response = press("save", frequency="weekly")
    assert response.status_code == 400
    assert "至少选择一个主题" in error_after(text(response), "rules", "frequency")
    response = press("save", rules=["personal-999"], frequency="weekly")  # not this subscriber's
    assert response.status_code == 400
    assert get_subscription(db_of(app), sub.id).rules == ("biaozhundi",)

    assert press("pause").status_code == 302
    assert get_subscription(db_of(app), sub.id).state == "paused"
    assert press("resume").status_code == 302
    assert get_subscription(db_of(app), sub.id).state == "active"
    assert press("unsubscribe").status_code == 302
    assert get_subscription(db_of(app), sub.id).state == "unsubscribed"
    assert press("pause").status_code == 400  # nothing to pause


def test_manage_cannot_skip_the_confirmation(app, client):
    sub = _pending(app, "unconfirmed@example.com")
    url = f"/manage/{make_token(app.config, MANAGE, sub.id)}"
    response = client.post(url, data={"csrf_token": csrf_token(client, url), "action": "resume"})
    assert response.status_code == 400 and "确认" in text(response)
    assert get_subscription(db_of(app), sub.id).state == "pending"


def test_manage_bad_token_is_404(app, client):
    sub = _active(app, "x@example.com")
    csrf = csrf_token(client, "/subscribe")
    for token in ("nonsense", make_token(app.config, UNSUBSCRIBE, sub.id),
                  make_token({**app.config, "SECRET_KEY": "other"}, MANAGE, sub.id),
                  make_token(app.config, MANAGE, 12345)):
        assert client.get(f"/manage/{token}").status_code == 404
        assert client.post(f"/manage/{token}",
                           data={"csrf_token": csrf, "action": "unsubscribe"}).status_code == 404
    assert get_subscription(db_of(app), sub.id).state == "active"


# ---- unsubscribe --------------------------------------------------------------------------------

def test_one_click_unsubscribe_needs_no_csrf(app, client):
    sub = _active(app, "leave@example.com")
    url = f"/unsubscribe/{make_token(app.config, UNSUBSCRIBE, sub.id)}"
    fresh = app.test_client()  # no cookie, no session: as a mail provider posts
    response = fresh.post(url, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert get_subscription(db_of(app), sub.id).state == "unsubscribed"
    assert fresh.post(url, data={"List-Unsubscribe": "One-Click"}).status_code == 200  # again


def test_unsubscribe_page(app, client):
    sub = _active(app, "page@example.com")
    url = f"/unsubscribe/{make_token(app.config, UNSUBSCRIBE, sub.id)}"
    response = client.get(url)
    assert response.status_code == 200 and "确认退订" in text(response)
    assert get_subscription(db_of(app), sub.id).state == "active"  # GET changes nothing
    assert client.post(url, data={"List-Unsubscribe": "Something"}).status_code == 400
    assert get_subscription(db_of(app), sub.id).state == "active"
    response = client.post(url, data={"csrf_token": csrf_token(client, url)})
    assert response.status_code == 200 and "已退订" in text(response)
    assert get_subscription(db_of(app), sub.id).state == "unsubscribed"


def test_unsubscribe_bad_token_is_404(app, client):
    sub = _active(app, "stay@example.com")
    for token in ("nonsense", make_token(app.config, MANAGE, sub.id),
                  make_token({**app.config, "SECRET_KEY": "other"}, UNSUBSCRIBE, sub.id)):
        assert client.get(f"/unsubscribe/{token}").status_code == 404
        response = client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
        assert response.status_code == 404
    assert get_subscription(db_of(app), sub.id).state == "active"


# ---- limits, escaping, health -------------------------------------------------------------------

def test_rate_limit_per_client(app, client):
    app.config["SUBSCRIBE_LIMIT"] = "2 per hour"
    for n in range(2):
        assert post_subscribe(client, email=f"r{n}@example.com").status_code == 200
    response = post_subscribe(client, email="r9@example.com")
    assert response.status_code == 429 and "提交太频繁" in text(response)
    assert find_subscription(db_of(app), "email", "r9@example.com") is None
    assert client.get("/subscribe").status_code == 200  # the form itself stays readable


def test_rate_limit_per_address(app, client):
    app.config["SUBSCRIBE_LIMIT"] = "2 per hour"
    statuses = []
    for n in range(3):
        other = app.test_client()
        other.environ_base["REMOTE_ADDR"] = f"198.51.100.{n + 1}"
        statuses.append(post_subscribe(other, email="target@example.com").status_code)
    assert statuses == [200, 200, 429]
    assert post_subscribe(client, email="someone-else@example.com").status_code == 200


def test_everything_is_escaped(app, client):
    (Path(app.config["RULES"]) / "evil.yaml").write_text(
        'id: evil\nname: "<script>alert(1)</script>"\ndescription: "<img src=x onerror=alert(2)>"\n'
        "keywords: [标准地]\n", encoding="utf-8")
    page = text(client.get("/subscribe"))
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(2)&gt;" in page

    page = text(post_subscribe(client, email="", keywords='"><script>alert(3)</script>'))
    assert "<script>alert(3)" not in page and "&lt;script&gt;alert(3)" in page

    sub = _active(app, "esc@example.com", rules=["evil"])
    page = text(client.get(f"/manage/{make_token(app.config, MANAGE, sub.id)}"))
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    assert "script-src 'self'" in client.get("/subscribe").headers["Content-Security-Policy"]


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json()["status"] == "ok"


# ---- helpers ------------------------------------------------------------------------------------

def _add(app, address: str, rules, confirmed: bool):
    from tracker.alerts.subscribe import subscribe

    rule_ids = [r.id for r in load_rules(app.config["RULES"])]
    sub, _ = subscribe(db_of(app), app.config, "email", address, list(rules), rule_ids, "daily",
                       confirmed=confirmed)
    return sub


def _active(app, address: str, rules=("zhuanyezhen",)):
    return _add(app, address, rules, confirmed=True)


def _pending(app, address: str, rules=("zhuanyezhen",)):
    return _add(app, address, rules, confirmed=False)
