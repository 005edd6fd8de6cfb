"""Every page as a Chinese-speaking user meets it, in a real browser (Debian's chromium, driven
by Playwright) at desktop width and at a 390 px phone width, on a demo instance made the way
`tracker demo` makes it (the demo paper dated from today, `tracker worker --once`, a confirmed
subscriber and `tracker deliver`, all run as the installed command).

On each page: no English sentence in the rendered text of public pages (URLs, e-mail addresses,
code and single product words such as Webhook may stay), no horizontal overflow at 390 px, and
a screenshot in tests/screenshots/ (the README's pictures come from there: `make screenshots`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from conftest import REPO_RULES, SCREENSHOTS

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1200, "height": 900}
# Three English words in a row: a sentence, or most of one.
ENGLISH = re.compile(r"[A-Za-z][A-Za-z'’-]+(?:[ ,:;]+[A-Za-z][A-Za-z'’-]*){2,}")
# What the check leaves out: elements that show code, addresses typed by people, raw errors
# kept for admins (details), and the brand of a service.
HIDE = "code, pre, kbd, details, textarea"


def tracker(instance: Path, rules: Path, *args: str) -> str:
    env = {**os.environ, "TRACKER_INSTANCE": str(instance), "TRACKER_RULES": str(rules),
           "TRACKER_FOLDER_SETTLE_SECONDS": "0", "TRACKER_SMTP_HOST": "",
           "TRACKER_BASE_URL": "http://127.0.0.1:5000"}
    done = subprocess.run([sys.executable, "-m", "tracker", *args], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done.stdout


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A demo instance (the demo paper from today back twelve weeks) and the app serving it."""
    from werkzeug.serving import make_server

    from tracker.demo import write_pages
    from tracker.web import create_app

    root = tmp_path_factory.mktemp("demo")
    instance, rules, drop = root / "instance", root / "rules", root / "drop"
    shutil.copytree(REPO_RULES, rules)
    instance.mkdir()
    write_pages(drop, datetime.now(ZoneInfo("Asia/Shanghai")).date())
    (instance / "sources.yaml").write_text(
        f"sources:\n  - id: demo\n    name: 演示日报\n    path: {drop}\n", encoding="utf-8")
    tracker(instance, rules, "worker", "--once")
    tracker(instance, rules, "subscribe", "--email", "li@example.org", "--rules",
            "zhuanyezhen,lvdian", "--confirmed")
    tracker(instance, rules, "deliver")  # the welcome alert, into instance/mailbox
    tracker(instance, rules, "subscribe", "--email", "wang@example.org", "--rules", "lvdian")
    app = create_app({"INSTANCE_PATH": str(instance), "RULES": str(rules), "SMTP_HOST": "", "DEMO": True,
                      "ADMIN_PASSWORD": "correct horse", "API_TOKEN": "t0ken",
                      "SUBSCRIBE_LIMIT": "1000 per hour"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config["BASE_URL"] = base = f"http://127.0.0.1:{server.server_port}"
    yield app, base
    server.shutdown()
    thread.join(timeout=10)


def english_sentences(page) -> list[str]:
    text = page.evaluate("""(hide) => {
        const copy = document.body.cloneNode(true);
        copy.querySelectorAll(hide).forEach(e => e.remove());
        document.body.appendChild(copy); copy.style.display = 'block';
        const text = copy.innerText; copy.remove(); return text; }""", HIDE)
    text = re.sub(r"[\w.+-]+@[\w.-]+|[a-z][a-z0-9+.-]*://\S+", " ", text)
    return ENGLISH.findall(text)


def overflow(page) -> int:
    """How many CSS pixels the page is wider than the viewport (0: none)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def links(app) -> dict[str, str]:
    """Signed links of the pending subscriber (confirm) and of the confirmed one (manage,
    unsubscribe), and an article with a hit."""
    from tracker.alerts.links import CONFIRM, MANAGE, UNSUBSCRIBE, link
    from tracker.store import connect

    db = connect(Path(app.config["INSTANCE_PATH"]) / "tracker.db")
    ids = dict(db.execute("SELECT address, id FROM subscriptions").fetchall())
    article = db.execute("SELECT article_id FROM hits ORDER BY id DESC LIMIT 1").fetchone()[0]
    return {"confirm": link(app.config, CONFIRM, ids["wang@example.org"]),
            "manage": link(app.config, MANAGE, ids["li@example.org"]),
            "unsubscribe": link(app.config, UNSUBSCRIBE, ids["li@example.org"]),
            "article": f"/articles/{article}"}


PUBLIC = [
    ("subscribe", "/subscribe"), ("articles", "/articles"), ("search", "/articles?q=绿电"),
    ("theme", "/articles?rule=zhuanyezhen"), ("article", "{article}"), ("trends", "/trends"),
    ("trends-26", "/trends?weeks=26"), ("confirm", "{confirm}"), ("manage", "{manage}"),
    ("unsubscribe", "{unsubscribe}"), ("not-found", "/no/such/page"),
    ("no-article", "/articles/99999"), ("bad-link", "/manage/not-a-token"),
    ("api-docs", "/api/docs"), ("mailbox", "/mailbox/"),
]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_public_page_is_chinese_and_fits_a_phone(browser, demo, viewport):
    app, base = demo
    signed = links(app)
    context = browser.new_context(locale="zh-CN", viewport=viewport)
    page = context.new_page()
    width = "phone" if viewport is PHONE else "desktop"
    problems = []
    for name, path in PUBLIC:
        url = path.format(**signed)
        page.goto(url if url.startswith("http") else base + url)
        page.wait_for_load_state()
        assert page.locator("header.top").count() == 1, name  # the site's layout, always
        if english := english_sentences(page):
            problems.append((name, english))
        if viewport is PHONE and (wider := overflow(page)) > 0:
            problems.append((name, f"{wider}px wider than the phone"))
        shot(page, f"{name}-{width}")
    context.close()
    assert not problems, problems


def test_error_pages_offer_a_way_back_and_the_api_answers_problems(browser, demo):
    app, base = demo
    context = browser.new_context(locale="zh-CN", viewport=PHONE)
    page = context.new_page()
    answer = page.goto(f"{base}/articles/99999")
    assert answer.status == 404 and "找不到页面" in page.content()
    page.click("text=回到首页")
    page.wait_for_load_state()
    assert page.url.rstrip("/").endswith("/subscribe")
    wrong = page.request.delete(f"{base}/subscribe")
    assert wrong.status == 405 and "不支持这种操作" in wrong.text()
    api = page.request.get(f"{base}/api/nope")
    assert api.status == 404 and api.headers["content-type"].startswith("application/problem+json")
    favicon = page.request.get(f"{base}/favicon.ico")
    assert favicon.ok and favicon.headers["content-type"] in ("image/x-icon", "image/vnd.microsoft.icon")
    context.close()


def test_form_errors_are_chinese_and_say_what_to_do(browser, demo):
    app, base = demo
    context = browser.new_context(locale="zh-CN", viewport=PHONE)
    page = context.new_page()
    cases = [("email", {"email": "li@"}, "@ 后面缺少域名"),
             ("webhook", {"webhook_url": "http://127.0.0.1:9/hook"}, "本机地址"),
             ("webhook", {"webhook_url": "li@example.org"}, "请在“接收方式”里选择“邮件”"),
             ("chat", {"chat_url": "json://example.org/x"}, "不对公众开放")]
    for channel, fields, expected in cases:
        page.goto(f"{base}/subscribe")
        page.check(f'input[name="channel"][value="{channel}"]')
        for field, value in fields.items():
            page.fill(f'input[name="{field}"]', value)
        page.check('input[name="rules"][value="lvdian"]')
        page.click('form button[type="submit"]')
        page.wait_for_load_state()
        assert expected in page.inner_text("main"), (fields, page.inner_text("main"))
        assert not english_sentences(page), (fields, english_sentences(page))
        assert overflow(page) <= 0
    shot(page, "subscribe-error-phone")
    context.close()


def test_a_search_picks_among_many_themes_on_a_phone(browser, demo):
    """More themes than RULES_SHOWN (here 2 of the 5 starter rules): a visitor searches in
    traditional characters, checks a theme found, and after an error it is still checked."""
    app, base = demo
    before = app.config["RULES_SHOWN"]
    app.config["RULES_SHOWN"] = 2
    context = browser.new_context(locale="zh-CN", viewport=PHONE)
    try:
        page = context.new_page()
        page.goto(f"{base}/subscribe")
        assert page.locator('input[type=checkbox][name="rules"]').count() == 2
        assert "共 5 个主题，显示 2 个" in page.inner_text("main")
        page.fill('input[name="q"]', "綠色電力")
        page.press('input[name="q"]', "Enter")
        page.wait_for_url("**/subscribe?q=*")
        assert page.locator('input[type=checkbox][name="rules"]').evaluate_all(
            "boxes => boxes.map(b => b.value)") == ["lvdian"]
        assert not english_sentences(page) and overflow(page) <= 0
        shot(page, "subscribe-search-phone")
        page.check('input[name="rules"][value="lvdian"]')
        page.fill('input[name="email"]', "zhao@")
        page.click('form[method="post"] button[type="submit"]')
        page.wait_for_load_state()
        assert "@ 后面缺少域名" in page.inner_text("main")
        assert "zhao" not in page.url  # the address went in the POST body only
        assert page.locator('input[type=checkbox][value="lvdian"]').is_checked()
        assert overflow(page) <= 0
    finally:
        context.close()
        app.config["RULES_SHOWN"] = before


def test_the_demo_has_a_shape_and_its_alert_reads_like_mail(browser, demo):
    app, base = demo
    context = browser.new_context(locale="zh-CN", viewport=DESKTOP)
    page = context.new_page()
    page.goto(f"{base}/trends")
    assert "近 12 周还没有文章命中任何主题" not in page.content()
    counts = [int(n) for n in page.locator("td.num").all_inner_texts()]
    assert sum(counts) >= 60  # twelve weeks of the demo paper
    shot(page, "trends")
    page.goto(f"{base}/articles")
    assert page.locator(".results article").count() == 20  # the latest, before any search
    shot(page, "articles")

    page.goto(f"{base}/mailbox/")
    page.click("a:has-text('篇')")  # the welcome alert
    page.wait_for_load_state()
    frame = page.frame_locator("iframe.mail")
    # a keyword of the subscribed themes (专业镇, 绿电 and its 绿证, 绿色电力…)
    assert frame.locator("mark").first.inner_text().startswith(("专业镇", "绿电", "绿证", "绿色电力"))
    archive = frame.locator('a[href*="/articles/"]')
    assert archive.count() >= 1  # a drop-folder article still links to its archive page
    assert "版" in frame.locator("body").inner_text()  # paper, date and page for every hit
    shot(page, "mailbox-alert")
    html_url = page.locator("iframe.mail").get_attribute("src")
    page.goto(base + html_url)
    shot(page, "alert-mail-demo")
    page.goto(base + html_url.removesuffix("/html") + "?part=text")
    assert page.locator("pre.mail a").count() >= 1
    page.set_viewport_size(PHONE)
    assert overflow(page) <= 0  # the text part wraps on a phone
    context.close()


ADMIN = [("admin", "/admin"), ("admin-rules", "/admin/rules"),
         ("admin-rule", "/admin/rules/lvdian"), ("admin-new-rule", "/admin/rules/new"),
         ("admin-history", "/admin/rules/lvdian/history"),
         ("admin-subscriptions", "/admin/subscriptions")]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_admin_pages_fit_and_show_local_times_and_chinese_states(browser, demo, viewport):
    app, base = demo
    context = browser.new_context(locale="zh-CN", viewport=viewport)
    page = context.new_page()
    page.goto(f"{base}/admin")
    page.fill('input[name="password"]', "correct horse")
    page.click('form button[type="submit"]')
    page.wait_for_load_state()
    width = "phone" if viewport is PHONE else "desktop"
    for name, path in ADMIN:
        page.goto(base + path)
        page.wait_for_load_state()
        text = page.inner_text("main")
        assert not re.search(r"\d{2}:\d{2}:\d{2}\.\d{6}", text), name  # no raw UTC with µs
        assert not re.search(r"(?<![\w/.-])(?:pending|sent|failed|active|instant)(?![\w/.-])",
                             text), (name, text[:400])
        if viewport is PHONE:
            assert overflow(page) <= 0, name
            # No header squeezed to one character a line.
            narrow = page.evaluate("""() => [...document.querySelectorAll('th')].filter(
                th => th.innerText.trim().length > 1 && th.getClientRects().length &&
                      th.getBoundingClientRect().height > 2.2 * parseFloat(getComputedStyle(th).lineHeight)
            ).map(th => th.innerText)""")
            assert not narrow, (name, narrow)
        shot(page, f"{name}-{width}")
    assert "来源状况" in page.goto(f"{base}/admin").text() and "每天" in page.inner_text("main")
    context.close()


def test_after_unsubscribing_there_is_a_way_back(browser, demo):
    """Last in this file: it unsubscribes the demo's subscriber."""
    app, base = demo
    context = browser.new_context(locale="zh-CN", viewport=PHONE)
    page = context.new_page()
    page.goto(links(app)["unsubscribe"])
    page.click('form button[type="submit"]')
    page.wait_for_load_state()
    assert "已退订" in page.inner_text("main") and not english_sentences(page)
    shot(page, "unsubscribed-phone")
    page.click("text=重新订阅")
    page.wait_for_load_state()
    assert page.url.endswith("/subscribe")
    context.close()
