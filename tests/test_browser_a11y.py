"""Accessibility as someone with a screen reader or only a keyboard meets the site: axe-core
(WCAG 2.1 A and AA) run in a real browser on every public and admin page at desktop and phone
width, the alert mail as a mail client shows it; a keyboard walk; the focus and the title after
a failed submit; and the tables whose numbers a phone must show without scrolling.

axe-core is the npm package's one file: `make test` fetches it into .venv/axe-core (or set
TRACKER_AXE to an axe.min.js); without it, or without chromium, these tests skip and say why.
It is put into the page with Playwright's add_script_tag, in a context that bypasses the CSP for
that one script: the pages themselves still run no inline script.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from test_browser_pages import ADMIN, DESKTOP, PHONE, PUBLIC, demo, links  # noqa: F401 (demo: a fixture)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

DESKTOP = {**DESKTOP, "width": 1280}  # noqa: F811
AXE = Path(os.environ.get("TRACKER_AXE") or Path(__file__).resolve().parents[1] / ".venv" / "axe-core" / "axe.min.js")
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SERIOUS = ("critical", "serious")


@pytest.fixture(scope="module")
def axe() -> Path:
    if not AXE.is_file():
        pytest.skip(f"no axe-core at {AXE} (make axe: npm pack axe-core; or set TRACKER_AXE)")
    return AXE


def audit(page, axe: Path) -> list[tuple[str, str, list[str]]]:
    """The critical and serious violations on the page: (rule, impact, its elements)."""
    page.add_script_tag(path=str(axe))
    result = page.evaluate("""async (tags) => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
        return r.violations.map(v => [v.id, v.impact, v.nodes.map(n => n.target.join(' '))]); }""", TAGS)
    return [(rule, impact, nodes) for rule, impact, nodes in result if impact in SERIOUS]


def login(page, base: str) -> None:
    page.goto(f"{base}/admin")
    page.fill('input[name="password"]', "correct horse")
    page.click('form button[type="submit"]')
    page.wait_for_load_state()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_no_serious_violation_on_any_page(browser, demo, axe, viewport):  # noqa: F811
    app, base = demo
    signed = links(app)
    context = browser.new_context(locale="zh-CN", viewport=viewport, bypass_csp=True)
    page = context.new_page()
    found = {}
    for name, path in PUBLIC:
        url = path.format(**signed)
        page.goto(url if url.startswith("http") else base + url)
        page.wait_for_load_state()
        if violations := audit(page, axe):
            found[name] = violations
    page.goto(f"{base}/mailbox/")
    page.click("a:has-text('篇')")  # the welcome alert, as the mailbox shows it
    page.wait_for_load_state()
    if violations := audit(page, axe):
        found["mailbox-message"] = violations
    page.goto(base + page.locator("iframe.mail").get_attribute("src"))  # the mail itself
    if violations := audit(page, axe):
        found["alert-mail"] = violations
    login(page, base)
    for name, path in ADMIN:
        page.goto(base + path)
        page.wait_for_load_state()
        if violations := audit(page, axe):
            found[name] = violations
    context.close()
    assert not found, report(found)


def report(found: dict) -> str:
    lines = [f"{name}: {rule} ({impact}) on {len(nodes)}: {', '.join(nodes)}"
             for name, violations in found.items() for rule, impact, nodes in violations]
    return f"{sum(len(n) for v in found.values() for _, _, n in v)} elements:\n" + "\n".join(lines)


def visible_right_overflow(page, headers: list[str]) -> list:
    """Cells under `headers` that stick out past what their table's box (and the screen) shows."""
    return page.evaluate("""(headers) => {
        const out = [];
        for (const table of document.querySelectorAll('main table')) {
            const ths = [...table.querySelectorAll('thead th')];
            const cols = ths.map((th, i) => headers.includes(th.innerText.trim()) ? i : -1).filter(i => i >= 0);
            if (!table.getClientRects().length) continue;
            const box = (table.closest('.table-scroll') || table).getBoundingClientRect();
            const right = Math.min(box.right, window.innerWidth);
            for (const tr of table.querySelectorAll('tr')) for (const i of cols) {
                const cell = tr.children[i];
                if (cell && cell.getBoundingClientRect().right > right + 0.5)
                    out.push([ths[i].innerText, cell.innerText, Math.round(cell.getBoundingClientRect().right - right)]);
            }
        }
        return out; }""", headers)


def test_number_columns_and_the_unsubscribe_row_show_whole_on_a_phone(browser, demo):  # noqa: F811
    app, base = demo
    context = browser.new_context(locale="zh-CN", viewport=PHONE)
    page = context.new_page()
    page.goto(f"{base}/trends")
    assert page.locator("td.num").count() and not visible_right_overflow(page, ["12 周合计", "本周"])
    login(page, base)
    page.goto(f"{base}/admin")
    assert "演示日报" in page.inner_text("#runs + .table-scroll")  # the source by its name
    assert not visible_right_overflow(page, ["抓取", "新文章", "命中"])
    page.goto(f"{base}/mailbox/")
    page.click("a:has-text('篇')")
    page.wait_for_load_state()
    row = page.locator("table.mail-headers tr", has_text="退订链接")
    cell = row.locator("td").bounding_box()
    assert cell["x"] + cell["width"] <= PHONE["width"] - 8, cell  # inside the page's margin
    assert page.locator("table.mail-headers").evaluate(
        "t => t.closest('.table-scroll').scrollWidth <= t.closest('.table-scroll').clientWidth")
    context.close()


# What the walk leaves out: regions a keyboard cannot scroll, i.e. boxes shown that scroll and hold
# no element the walk reached (axe's scrollable-region-focusable, from the keyboard's side).
UNREACHED = """() => [...document.querySelectorAll('body *')].filter(e => {
    const s = getComputedStyle(e);
    const scrolls = (e.scrollWidth > e.clientWidth + 1 && ['auto', 'scroll'].includes(s.overflowX)) ||
                    (e.scrollHeight > e.clientHeight + 1 && ['auto', 'scroll'].includes(s.overflowY));
    return scrolls && e.checkVisibility() && !e.matches('[data-walked]') && !e.querySelector('[data-walked]');
}).map(e => e.tagName + '.' + e.className + ' ' + (e.getAttribute('aria-label') || ''))"""


def walk(page, limit: int = 300) -> list[str]:
    """Tab from the top until the focus leaves the page; the elements met, in order."""
    met = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        name = page.evaluate("""() => { const e = document.activeElement;
            if (!e || e === document.body) return null;
            e.setAttribute('data-walked', '');
            return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ' ' + (e.innerText || e.getAttribute('aria-label') || '').trim().slice(0, 20); }""")
        if name is None or (met and name == met[0]):
            break
        met.append(name)
    return met


def test_a_keyboard_skips_to_the_content_and_reaches_every_scrolling_box(browser, demo):  # noqa: F811
    app, base = demo
    context = browser.new_context(locale="zh-CN", viewport=PHONE)
    page = context.new_page()
    login(page, base)
    page.goto(f"{base}/mailbox/")
    message = page.locator("a:has-text('篇')").get_attribute("href")
    for path in ["/subscribe", "/trends", "/api/docs", message, "/admin", "/admin/subscriptions",
                 "/admin/rules/lvdian/history"]:
        page.goto(base + path)
        page.keyboard.press("Tab")
        skip = page.evaluate("() => [document.activeElement.innerText, document.activeElement.getBoundingClientRect().left]")
        assert skip[0] == "跳到正文" and skip[1] >= 0, (path, skip)  # first, and seen when focused
        page.keyboard.press("Enter")
        assert page.evaluate("() => document.activeElement.id") == "content", path
        page.keyboard.press("Tab")
        assert page.evaluate("() => document.activeElement.closest('main') !== null"), path
        page.goto(base + path)
        met = walk(page)
        assert not page.evaluate(UNREACHED), (path, page.evaluate(UNREACHED))
        if path == "/trends":
            assert len(met) <= 40, len(met)  # not a stop per theme and week of each chart
    context.close()


def test_after_a_failed_submit_the_focus_is_on_the_first_wrong_field(browser, demo):  # noqa: F811
    app, base = demo
    context = browser.new_context(locale="zh-CN", viewport=PHONE)
    page = context.new_page()
    page.goto(f"{base}/subscribe")
    assert not page.title().startswith("错误")
    page.check('input[name="channel"][value="email"]')
    page.fill('input[name="email"]', "li@")
    page.fill('input[name="keywords"]', "、".join(["词"] * 40))
    page.check('input[name="rules"][value="lvdian"]')
    page.click('form[method="post"] button[type="submit"]')
    page.wait_for_load_state()
    assert page.title().startswith("错误：订阅政策提醒"), page.title()
    assert page.evaluate("() => document.activeElement.id") == "email"  # the first of the two
    page.goto(f"{base}/subscribe")
    page.check('input[name="channel"][value="email"]')
    page.fill('input[name="email"]', "li@example.org")
    page.click('form[method="post"] button[type="submit"]')  # no theme chosen
    page.wait_for_load_state()
    assert page.title().startswith("错误：")
    focused = page.evaluate("() => [document.activeElement.name, document.activeElement.getAttribute('aria-invalid')]")
    assert focused == ["rules", "true"], focused

    login(page, base)
    page.goto(f"{base}/admin/rules/lvdian")
    assert not page.title().startswith("错误")
    page.fill('textarea[name="yaml"]', "id: lvdian\nname: 绿电\nkeywords:\n\t- 绿电\n")
    page.click('button[name="action"][value="preview"]')
    page.wait_for_load_state()
    assert page.title().startswith("错误：") and page.evaluate("() => document.activeElement.id") == "yaml"
    context.close()
