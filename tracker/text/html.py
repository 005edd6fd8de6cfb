"""HTML to the text a reader sees: block elements break lines, inline elements do not.

`专业<b>镇</b>` must stay `专业镇` (a newline there would split a keyword), while two table cells or
paragraphs must not run together (that could invent a keyword across them). The tree is walked
with an explicit stack, so hostile nesting depth cannot exhaust Python's recursion limit.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

# Never rendered as text.
SKIP = frozenset({
    "head", "title", "script", "style", "noscript", "template", "iframe", "object", "embed",
    "canvas", "select", "datalist", "-comment", "!doctype",
})

# Elements that start and end a line (everything else, unknown tags included, is inline).
BLOCK = frozenset({
    "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details",
    "dialog", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form",
    "frameset", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "html", "legend",
    "li", "main", "menu", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "td",
    "textarea", "tfoot", "th", "thead", "tr", "ul",
})

# Start tags that make lexbor search the open-element stack ("close a p element in button scope"):
# nesting them costs time quadratic in the depth (100,000 nested <div> take ~15 s to parse).
SCOPE_CHECKED = re.compile(
    r"<(/?)(?:address|article|aside|blockquote|center|details|dialog|dir|div|dl|fieldset|"
    r"figcaption|figure|footer|header|hgroup|listing|main|menu|nav|ol|pre|search|section|"
    r"summary|ul)[\s/>]", re.I)
# Sum of depths at those start tags allowed (10,000 nested <div> cost ~5e7 and parse in ~0.1 s;
# real pages stay below 1e6).
MAX_NESTING_WORK = 50_000_000

BREAK = "\n"  # a forced line break (<br>)
SOFT = None  # a block boundary: a line break unless the line is already empty

SPACES = re.compile(r"[^\S\n]+")  # whitespace other than newlines, \xa0 and \u3000 included
LEADING = re.compile(r"^[^\S\n]+")
ENDS_LINE = re.compile(r"\n[^\S\n]*\Z")
BLANK_LINES = re.compile(r"\n{3,}")


class TooDeep(ValueError):
    """A page nesting block elements so deeply that parsing it would take minutes."""


def visible_text(html: str) -> tuple[str | None, str]:
    """(the <title> text or None, the visible text with one `\\n` between block lines).

    Raises TooDeep for hostile nesting of block elements (see SCOPE_CHECKED).
    """
    check_nesting(html)
    tree = LexborHTMLParser(html)
    title_node = tree.css_first("title")
    title = _collapse(title_node.text(deep=True)) if title_node is not None else ""
    root = tree.root
    parts = _walk(root) if root is not None else []
    return title or None, _layout(parts)


def check_nesting(html: str) -> None:
    """Refuse, in linear time, markup whose block nesting would make the parser quadratic."""
    depth = work = 0
    for match in SCOPE_CHECKED.finditer(html):
        if match.group(1):
            depth = max(0, depth - 1)
            continue
        work += depth
        depth += 1
        if work > MAX_NESTING_WORK:
            raise TooDeep("HTML nests block elements too deeply to parse safely")


def _walk(root: LexborNode) -> list[str | None]:
    """Text pieces and line breaks of the tree in document order, iteratively."""
    parts: list[str | None] = []
    pre_depth = 0
    # (node, closing): a block element is pushed again as closing to emit its trailing break.
    stack: list[tuple[LexborNode, bool]] = [(root, False)]
    while stack:
        node, closing = stack.pop()
        tag = node.tag or ""
        if closing:
            parts.append(SOFT)
            if tag == "pre":
                pre_depth -= 1
            continue
        if node.is_text_node:
            text = node.text_content or ""
            parts.append(text if pre_depth else SPACES.sub(" ", text.replace("\n", " ")))
            continue
        if tag in SKIP or "hidden" in (node.attributes or {}):
            continue
        if tag == "br":
            parts.append(BREAK)
            continue
        if tag in BLOCK:
            parts.append(SOFT)
            stack.append((node, True))
            if tag == "pre":
                pre_depth += 1
        children = list(node.iter(include_text=True))
        stack.extend((child, False) for child in reversed(children))
    return parts


def _layout(parts: list[str | None]) -> str:
    """Join pieces into lines: spaces collapsed and trimmed, at most one blank line in a row."""
    out: list[str] = []
    at_line_start = True  # nothing but spaces on the current line yet
    for part in parts:
        if part is SOFT:
            if not at_line_start:
                out.append("\n")
                at_line_start = True
        elif part == BREAK:
            out.append("\n")
            at_line_start = True
        else:
            if at_line_start:
                part = LEADING.sub("", part)
            if part:
                out.append(part)
                at_line_start = ENDS_LINE.search(part) is not None
    lines = (SPACES.sub(" ", line).strip() for line in "".join(out).split("\n"))
    return BLANK_LINES.sub("\n\n", "\n".join(lines)).strip("\n")


def _collapse(text: str) -> str:
    return SPACES.sub(" ", text.replace("\n", " ")).strip()
