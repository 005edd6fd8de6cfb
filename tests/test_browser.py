"""End to end in a real browser (Debian's chromium driven by Playwright, headless): subscribe,
confirm, receive the alert from a real SMTP server, leave with one click; log in as admin, break
a rule and see the error, preview and save it. Screenshots go to tests/screenshots/ (ignored by
git; the README's pictures come from here)."""

from __future__ import annotations

import email
import time
import re
import shutil
from email import policy
from pathlib import Path

import pytest

from conftest import REPO_RULES, SCREENSHOTS
from tracker.alerts.deliver import deliver
from tracker.store import transaction
from builders import add_article
from tracker.store.articles import NewArticle
from tracker.store.hits import add_hits
from tracker.store.outbox import add_outbox_for, rule_subscribers
from tracker.web import create_app

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def app(tmp_path, smtp):
    """An app whose mail goes to the loopback SMTP server and whose rules are a copy."""
    rules = tmp_path / "rules"
    shutil.copytree(REPO_RULES, rules)
    return create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"),
                       "RULES": str(rules), "ADMIN_PASSWORD": "correct horse",
                       "SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp.port, "SMTP_SECURITY": "none",
                       "SUBSCRIBE_LIMIT": "1000 per hour"})


@pytest.fixture
def page(browser, live_server, app):
    app.config["BASE_URL"] = live_server  # links in mail lead back to this server
    context = browser.new_context(locale="zh-CN", viewport={"width": 1100, "height": 900})
    yield context.new_page()
    context.close()


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def mails(smtp, address: str) -> list[email.message.EmailMessage]:
    """The mail `address` got, once some arrived (the confirmation is sent apart from the
    request): a bounded wait."""
    deadline = time.monotonic() + 30
    while not smtp.recorder.received(address) and time.monotonic() < deadline:
        time.sleep(0.05)
    return [email.message_from_bytes(m.data, policy=policy.default)
            for m in smtp.recorder.received(address)]


def test_subscribe_confirm_receive_an_alert_and_leave_with_one_click(page, live_server, app, smtp):
    page.goto(f"{live_server}/subscribe")
    assert "专业镇" in page.content()
    page.check('input[name="channel"][value="email"]')
    page.fill('input[name="email"]', "li@example.org")
    page.check('input[name="rules"][value="zhuanyezhen"]')
    shot(page, "subscribe")
    page.click('form button[type="submit"]')
    page.wait_for_load_state()
    assert "li@example.org" not in page.url

    (confirmation,) = mails(smtp, "li@example.org")
    link = re.search(r"https?://\S+/confirm/\S+", confirmation.get_body(("plain",)).get_content())
    assert link, "the confirmation mail carries the link"
    page.goto(link.group(0).rstrip("。）)"))
    page.click('form button[type="submit"]')  # no state change until this button
    page.wait_for_load_state()

    with app.app_context():
        from tracker.web.db import get_db

        db = get_db()
        state = db.execute("SELECT id, state FROM subscriptions").fetchone()
        assert state[1] == "active"
        with transaction(db):
            db["sources"].insert({"id": "demo", "name": "演示日报", "type": "folder",
                                  "location": "-"}, ignore=True)
            article_id, _ = add_article(db, NewArticle(
                source_id="demo", title="我省新认定一批特色专业镇", issue_date="2025-04-09",
                text="本报讯 今年全省新认定特色专业镇12个，专业镇企业获贷款支持。"))
            from tracker.documents import Document
            from tracker.matching import Matcher
            from tracker.rules import load_rules

            found = Matcher(load_rules(app.config["RULES"])).match(
                Document("a", "本报讯 今年全省新认定特色专业镇12个，专业镇企业获贷款支持。", "article",
                         title="我省新认定一批特色专业镇"))
            add_outbox_for(db, article_id, add_hits(db, article_id, found), rule_subscribers(db))
        assert deliver(db, app.config) == {"sent": 1}

    alert = mails(smtp, "li@example.org")[-1]
    assert "专业镇" in alert["Subject"]
    page.goto("about:blank")  # not under this site's CSP, which blocks the mail's inline styles
    page.set_content(alert.get_body(("html",)).get_content())  # the mail as a reader sees it
    shot(page, "alert-mail")
    assert page.locator("mark").first.inner_text() == "专业镇"
    # Every article links to its archive page (this one has no original), with paper and date.
    assert page.locator(f'a[href="{live_server}/articles/{article_id}"]').count() == 2
    assert "演示日报 · 2025年4月9日 · 版次不详" in page.inner_text("body")

    unsubscribe = re.search(r"<(https?://[^>]+/unsubscribe/[^>]+)>", alert["List-Unsubscribe"]).group(1)
    answer = page.request.post(unsubscribe, form={"List-Unsubscribe": "One-Click"})  # RFC 8058
    assert answer.ok
    with app.app_context():
        from tracker.web.db import get_db

        assert get_db().execute("SELECT state FROM subscriptions").fetchone() == ("unsubscribed",)

    page.goto(f"{live_server}/articles?rule=zhuanyezhen")
    assert page.locator("mark").first.inner_text() == "专业镇"
    shot(page, "articles-one-rule")
    page.goto(f"{live_server}/trends")
    assert page.locator("svg").count() >= 1
    shot(page, "trends-one-article")


def test_admin_breaks_a_rule_sees_the_error_then_previews_and_saves(page, live_server, app):
    page.goto(f"{live_server}/admin")
    page.fill('input[name="password"]', "correct horse")
    page.click('form button[type="submit"]')
    page.wait_for_load_state()
    shot(page, "admin")

    rule_file = Path(app.config["RULES"]) / "lvdian.yaml"
    before = rule_file.read_bytes()
    page.goto(f"{live_server}/admin/rules/lvdian")
    page.fill('textarea[name="yaml"]', "id: lvdian\nname: 绿电\nkeywords:\n\t- 绿电\n")
    page.click('button[name="action"][value="save"]')
    page.wait_for_load_state()
    assert "第 4 行" in page.content()  # the line and column of the tab
    shot(page, "rule-error")
    assert rule_file.read_bytes() == before  # the file on disk is untouched

    fixed = before.decode("utf-8").replace("keywords: [绿电,", "keywords: [绿电, 绿色能源,")
    page.fill('textarea[name="yaml"]', fixed)
    page.click('button[name="action"][value="preview"]')
    page.wait_for_load_state()
    assert rule_file.read_bytes() == before  # a preview writes nothing
    shot(page, "rule-preview")
    page.click('button[name="action"][value="save"]')
    page.wait_for_load_state()
    assert "绿色能源" in rule_file.read_text(encoding="utf-8")
