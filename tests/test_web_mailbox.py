"""The development mailbox page: mail written to instance/mailbox/ when no SMTP host is set."""

from pathlib import Path

import pytest

from tracker.alerts.email.send import send_emails
from tracker.alerts.model import Alert, AlertItem


def alert(title: str) -> Alert:
    item = AlertItem(1, "zhuanyezhen", "专业镇", title, "http://example.cn/a/1", "demo", "演示日报",
                     "2025-04-09", "第1版 要闻", ("推动【专业镇】发展。",))
    return Alert(1, 7, "instant", "2025-04-09T00:00:00+00:00", "<t.1@tracker.local>", "msg_1",
                 (item,), "https://tracker.example.org/manage/tok",
                 "https://tracker.example.org/unsubscribe/tok")


@pytest.fixture
def mailed(app) -> str:
    app.config["DEMO"] = True  # the mailbox exists in demo mode only
    (result,) = send_emails([(alert("<script>alert(1)</script>专业镇新闻"), "li@example.org")],
                            app.config)
    assert result.ok
    return Path(result.extra["path"]).name


def test_the_mailbox_lists_and_shows_mail_with_clickable_links(client, mailed):
    listing = client.get("/mailbox/")
    assert listing.status_code == 200
    page = listing.get_data(as_text=True)
    assert mailed in page and "li@example.org" in page
    shown = client.get(f"/mailbox/{mailed}?part=text").get_data(as_text=True)
    assert '<a href="https://tracker.example.org/manage/tok">' in shown
    assert "<script>alert(1)</script>" not in shown and "&lt;script&gt;" in shown


def test_the_html_part_shows_in_a_sandboxed_frame(client, mailed):
    """As a mail client would show it; the markup is the sender's, so it runs in a sandbox with
    an opaque origin and no script, and only this site may frame it."""
    page = client.get(f"/mailbox/{mailed}").get_data(as_text=True)
    assert f'src="/mailbox/{mailed}/html"' in page and 'sandbox="allow-popups' in page
    assert "allow-scripts" not in page and "allow-same-origin" not in page
    assert 'href="/mailbox/' in page and "纯文本" in page  # the text part is one tab away
    part = client.get(f"/mailbox/{mailed}/html")
    assert part.status_code == 200 and part.mimetype == "text/html"
    csp = part.headers["Content-Security-Policy"]
    assert csp.startswith("sandbox ") and "allow-scripts" not in csp and "allow-same-origin" not in csp
    assert "frame-ancestors 'self'" in csp and "script-src" not in csp and "default-src 'none'" in csp
    assert part.headers["X-Frame-Options"] == "SAMEORIGIN"
    body = part.get_data(as_text=True)
    assert "<mark>专业镇</mark>" in body and "<script>alert(1)</script>" not in body
    assert '<base target="_blank">' in body
    assert client.get("/mailbox/../secret_key/html").status_code == 404


def test_the_mailbox_is_for_this_machine_only(client, mailed):
    answer = client.get("/mailbox/", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert answer.status_code == 403


def test_no_mailbox_when_a_mail_server_is_configured(app, client, mailed):
    app.config["SMTP_HOST"] = "smtp.example.org"
    assert client.get("/mailbox/").status_code == 404


@pytest.mark.parametrize("name", ["../secret_key", "nope.eml", "x.txt"])
def test_only_mailbox_files_are_shown(client, mailed, name):
    assert client.get(f"/mailbox/{name}").status_code == 404


def test_no_mailbox_outside_demo_mode(app, client, mailed):
    app.config["DEMO"] = False
    assert client.get("/mailbox/").status_code == 404
    assert client.get(f"/mailbox/{mailed}").status_code == 404


def test_a_request_relayed_by_a_proxy_is_not_from_this_machine(client, mailed):
    relayed = client.get("/mailbox/", headers={"X-Forwarded-For": "203.0.113.9"})
    assert relayed.status_code == 403
