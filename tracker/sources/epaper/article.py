"""One e-paper article page: its headline (kicker, title, subtitle) and its body.

Heuristics, in order; the first that yields wins:
    headline  <founder-title>, .font01 / .biaoti (Founder classic), .article-title, #title, the
              first <h1> not in a link, nav or header (a logo); a kicker (引题: <founder-introtitle>,
              .yinti, or an h2-h4 right before) and a subtitle (副题: <founder-subtitle>, .futi,
              or an h2-h4 right after) are joined to it by spaces, in print order. A headline
              keeps its inner spaces ("开放共享 让大型科研仪器“忙”起来"); a <br> in it is one.
    body      the first visible one of <founder-content>, #ozoom, .article-content,
              #articleContent, #content (a hidden duplicate copy is skipped)
"""

from __future__ import annotations

import re
from typing import Iterator

from selectolax.lexbor import LexborHTMLParser, LexborNode

from tracker.sources.epaper.links import parse, squeeze, tidy_title
from tracker.text.html import visible_text

TITLE_SELECTORS = ("founder-title", ".font01", ".biaoti", ".article-title", "#title", "h1")
BODY_SELECTORS = ("founder-content", "#ozoom", ".article-content", "#articleContent", "#content")
KICKERS = {"founder-title": "founder-introtitle", "*": ".yinti"}
SUBTITLES = {"founder-title": "founder-subtitle", "*": ".futi"}
HEADING_TAGS = frozenset({"h2", "h3", "h4"})
NOT_A_HEADLINE = frozenset({"a", "nav", "header"})  # an <h1> in these is a logo or a menu
HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
BREAK = re.compile(r"<br\s*/?>", re.I)


def parse_article(html: str) -> tuple[str | None, str]:
    """(headline or None, body text with one line per paragraph, or "") of an article page."""
    tree = parse(html)
    title = _first_of(tree, TITLE_SELECTORS)
    body = _first_of(tree, BODY_SELECTORS)
    text = visible_text(body.html or "")[1] if body is not None else ""
    headline = _headline(tree, title) if title is not None else ""
    return headline or None, text


def _headline(tree: LexborHTMLParser, node: LexborNode) -> str:
    """Kicker, headline and subtitle, joined by spaces."""
    kind = "founder-title" if node.tag == "founder-title" else "*"
    kicker = _first_visible(tree, KICKERS[kind])
    subtitle = _first_visible(tree, SUBTITLES[kind])
    if kind == "*":
        kicker = kicker or _sibling_heading(node, forward=False)
        subtitle = subtitle or _sibling_heading(node, forward=True)
    parts = (kicker, node, subtitle)
    return " ".join(t for part in parts if part is not None and (t := _title_text(part)))


def _title_text(node: LexborNode) -> str:
    """A headline part's text as printed: a line break in it is a space."""
    html = node.html or ""
    if "<br" in html.lower():
        node = LexborHTMLParser(BREAK.sub(" ", html)).body or node
    return tidy_title(node.text(deep=True))


def _ancestors(node: LexborNode | None) -> Iterator[LexborNode]:
    """`node` and its parents, up to <html>."""
    while node is not None and node.tag not in ("html", "-document"):
        yield node
        node = node.parent


def _hidden(node: LexborNode) -> bool:
    return any("hidden" in (n.attributes or {}) or HIDDEN_STYLE.search((n.attributes or {}).get("style")
                                                                       or "") for n in _ancestors(node))


def _logo_or_menu(node: LexborNode) -> bool:
    """An <h1> in a link, nav or header, or nothing but a link: <h1><a href="/">山西日报</a></h1>."""
    link = node.css_first("a")
    if link is not None and squeeze(link.text(deep=True)) == squeeze(node.text(deep=True)):
        return True
    return any(n.tag in NOT_A_HEADLINE for n in _ancestors(node))


def _first_visible(tree: LexborHTMLParser, selector: str) -> LexborNode | None:
    for node in tree.css(selector):
        if _hidden(node) or not node.text(deep=True).strip():
            continue
        if node.tag == "h1" and _logo_or_menu(node):
            continue
        return node
    return None


def _first_of(tree: LexborHTMLParser, selectors: tuple[str, ...]) -> LexborNode | None:
    """The first visible, non-empty match of the first selector that has one."""
    return next((node for selector in selectors
                 if (node := _first_visible(tree, selector)) is not None), None)


def _sibling_heading(node: LexborNode, forward: bool) -> LexborNode | None:
    """The h2-h4 right before (or after) `node`, with only whitespace between."""
    sibling = node.next if forward else node.prev
    while sibling is not None and sibling.tag in ("-text", "-comment"):
        if sibling.tag == "-text" and (sibling.text_content or "").strip():
            return None
        sibling = sibling.next if forward else sibling.prev
    return sibling if sibling is not None and sibling.tag in HEADING_TAGS else None
