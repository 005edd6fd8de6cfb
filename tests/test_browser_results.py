"""Results appear where the eye is (issue "What a new user met", item 7), in a real browser
(Debian's chromium through Playwright; skipped where it is absent) on the demo instance of
test_browser_pages. The rule preview in the admin editor opened at the top of the page, its
results below a 24-line editor, out of sight; a search on a phone showed its first result at the
bottom edge of the screen, under a form of one field a row. The CSP forbids inline script: the
preview's answer opens at its results by a fragment (#preview) in the button's formaction."""

from __future__ import annotations

import pytest

from test_browser_pages import DESKTOP, demo  # noqa: F401 - the module's demo instance

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

# What a phone's browser shows of a page at once: 390 px wide, 844 tall less its address and
# tool bars (Safari on an iPhone 12 to 15 shows 664).
PHONE_SCREEN = {"width": 390, "height": 664}


def box(page, selector: str, text: str = "") -> dict:
    """Where the first element matching `selector` (and holding `text`) is on the screen."""
    return page.evaluate("""([s, text]) => {
        const e = [...document.querySelectorAll(s)].find(e => e.textContent.includes(text));
        const r = e.getBoundingClientRect();
        return {top: r.top, bottom: r.bottom, screen: window.innerHeight}; }""", [selector, text])


def test_the_rule_preview_opens_at_its_results(browser, demo):  # noqa: F811
    _, base = demo
    page = browser.new_context(locale="zh-CN", viewport=DESKTOP).new_page()
    page.goto(f"{base}/admin")
    page.fill('input[name="password"]', "correct horse")
    page.click('form button[type="submit"]')
    page.wait_for_load_state()
    page.goto(f"{base}/admin/rules/lvdian")
    page.click('button[name="action"][value="preview"]')
    page.wait_for_load_state()
    heading = box(page, "main h2", "预览：")
    assert 0 <= heading["top"] and heading["bottom"] <= heading["screen"], heading
    first = box(page, "main section.card", "保存前命中")  # the first rule's changes
    assert first["top"] < first["screen"], first


@pytest.mark.parametrize("q", ["绿电", "专业镇 标准地"])
def test_search_results_start_on_a_phones_first_screen(browser, demo, q):  # noqa: F811
    _, base = demo
    page = browser.new_context(locale="zh-CN", viewport=PHONE_SCREEN, is_mobile=True,
                               has_touch=True, device_scale_factor=3).new_page()
    page.goto(f"{base}/articles")
    page.fill("#q", q)
    page.click('form[role="search"] button[type="submit"]')
    page.wait_for_load_state()
    assert page.locator(".results article").count() > 0, page.url
    title = box(page, ".results article h2")
    passage = box(page, ".results article .snippet")
    # The first result's title and passage are on the first screen, no scrolling needed.
    assert page.evaluate("window.scrollY") == 0
    assert 0 < title["top"] and passage["bottom"] <= passage["screen"], (title, passage)
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
