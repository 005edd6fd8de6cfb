"""HTML to the text a reader sees: block elements break lines, inline elements do not.

`专业<b>镇</b>` must stay `专业镇` (a newline there would split a keyword), while two table cells or
paragraphs must not run together (that could invent a keyword across them). The tree is walked
with an explicit stack, so hostile nesting depth cannot exhaust Python's recursion limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
HTML_TYPES = ("text/html", "application/xhtml+xml")  # the Content-Types that are HTML

BREAK = "\n"  # a forced line break (<br>)
SOFT = None  # a block boundary: a line break unless the line is already empty

SPACES = re.compile(r"[^\S\n]+")  # whitespace other than newlines, \xa0 and \u3000 included
LEADING = re.compile(r"^[^\S\n]+")
ENDS_LINE = re.compile(r"\n[^\S\n]*\Z")

# Headings and article containers, marked in the laid-out text with private-use characters that
# are taken out again (with their line numbers) before the text is returned.
HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6, "founder-title": 3}
CONTAINERS = frozenset({"article", "founder-content"})
_OPEN = 0xE000  # + level: a heading starts (level 0: an article container starts)
_CLOSE = "\ue00f"
_LINK, _UNLINK = "\ue010", "\ue011"  # around the text of an <a>
HEAD_MARKS = re.compile("[\ue000-\ue00f]")
MARKS = re.compile("[\ue000-\ue011]")
LEAD_MARKS = re.compile("[\\s\ue000-\ue011]*")
_LINKED = re.compile("\ue010[^\ue011]*\ue011")
_SEPARATORS = re.compile(r"[\s|｜·/、,，<>«»\-–—\[\]【】]+")
LINKS = -1  # Heading.level of a line in a list of links (navigation, related articles)
TITLE_LINE = 7  # Heading.level of the line the <title> repeats, on a page without h1–h4
# A <title> is the site name and the headline joined by one of these: 标题_报名, 报名 - 标题.
TITLE_PARTS = re.compile(r"\s*[_|｜—–-]+\s*|\s+")


@dataclass(frozen=True)
class Heading:
    """A heading of the page (or, level 0, the start of an article container) in its text."""

    start: int
    end: int
    level: int  # 1–6 for h1–h6; 0 for an <article> container; LINKS, TITLE_LINE (see above)


class TooDeep(ValueError):
    """A page nesting block elements so deeply that parsing it would take minutes."""


def visible_text(html: str) -> tuple[str | None, str]:
    """(the <title> text or None, the visible text with one `\\n` between block lines).

    Raises TooDeep for hostile nesting of block elements (see SCOPE_CHECKED).
    """
    title, text, _ = page_layout(html)
    return title, text


def page_layout(html: str) -> tuple[str | None, str, list[Heading]]:
    """`visible_text` and where the page's headings are in that text: h1–h6, <founder-title>,
    the starts of <article> containers, and, on a page with no h1–h4, the line that the <title>
    repeats as its headline (标题_报名). The splitter reads articles from them first."""
    check_nesting(html)
    tree = LexborHTMLParser(MARKS.sub("", html))
    title_node = tree.css_first("head > title") or tree.css_first("title")
    title = _collapse(title_node.text(deep=True)) if title_node is not None else ""
    root = tree.root
    parts = _walk(root) if root is not None else []
    text, headings = _layout(parts)
    if title and not any(1 <= h.level <= 4 for h in headings):
        headings = sorted(headings + _title_line(text, title), key=lambda h: h.start)
    return title or None, text, headings


def _title_line(text: str, title: str) -> list[Heading]:
    """The line that is the <title> or its longest part found (the rest names the site)."""
    parts = {p for p in TITLE_PARTS.split(title) if len(p) >= 4} | {title}
    best, pos = None, 0
    for line in text.split("\n"):
        if line in parts and (best is None or len(line) > best.end - best.start):
            best = Heading(pos, pos + len(line), TITLE_LINE)
        pos += len(line) + 1
    return [best] if best else []


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
        if closing and tag == "a":
            parts.append(_UNLINK)
            continue
        if closing:
            if tag in HEADINGS:
                parts.append(_CLOSE)
            parts.append(SOFT)
            if tag == "pre":
                pre_depth -= 1
            continue
        if node.is_text_node:
            text = node.text_content or ""
            parts.append(text if pre_depth else SPACES.sub(" ", text.replace("\n", " ")))
            continue
        if tag in SKIP and not (tag == "title" and _in_svg(node)) or "hidden" in (node.attributes or {}):
            continue  # an SVG's <title> is text on the page (a chart's, a map's caption)
        if tag == "br":
            parts.append(BREAK)
            continue
        if tag == "a":
            parts.append(_LINK)
            stack.append((node, True))
        level = HEADINGS.get(tag, 0 if tag in CONTAINERS else -1)
        if level >= 0:
            parts.append(SOFT)
            parts.append(chr(_OPEN + level))
            stack.append((node, True))
        elif tag in BLOCK:
            parts.append(SOFT)
            stack.append((node, True))
            if tag == "pre":
                pre_depth += 1
        children = list(node.iter(include_text=True))
        stack.extend((child, False) for child in reversed(children))
    return parts


def _in_svg(node: LexborNode) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.tag == "svg":
            return True
        parent = parent.parent
    return False


def _layout(parts: list[str | None]) -> tuple[str, list[Heading]]:
    """Join pieces into lines: spaces collapsed and trimmed, at most one blank line in a row;
    the heading marks taken out and returned as Headings."""
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
        elif len(part) == 1 and MARKS.match(part):
            out.append(part)  # a heading mark takes no room on its line
        else:
            if at_line_start:
                part = LEADING.sub("", part)
            if part:
                out.append(part)
                at_line_start = ENDS_LINE.search(part) is not None
    return _marked_lines("".join(out).split("\n"))


def _marked_lines(raw: list[str]) -> tuple[str, list[Heading]]:
    """Trim the lines, keep at most one blank line in a row, and turn the marks into Headings
    (a heading's marks around its text: opening ones before it, closing ones after)."""
    lines: list[str] = []
    linked: set[int] = set()  # lines made of links only
    found: list[list[int]] = []  # [first line, last line, level]
    pending: list[int] = []  # levels of headings opened with no text yet
    open_: list[int] = []  # indexes in `found` of headings not closed yet
    last_text = -1

    def mark(m: str) -> None:
        if m != _CLOSE:
            pending.append(ord(m) - _OPEN)
        elif pending:
            pending.pop()  # an empty heading
        elif open_:
            found[open_.pop()][1] = last_text

    for line in raw:
        lead, trail = (), ()
        if MARKS.search(line):
            head = LEAD_MARKS.match(line).end()
            lead, trail = HEAD_MARKS.findall(line[:head]), HEAD_MARKS.findall(line[head:])
        for m in lead:
            mark(m)
        text = SPACES.sub(" ", MARKS.sub("", line)).strip()
        if text:
            lines.append(text)
            last_text = len(lines) - 1
            if _LINK in line and not _SEPARATORS.sub("", MARKS.sub("", _LINKED.sub("", line))):
                linked.add(last_text)
            for level in pending:
                found.append([last_text, last_text, level])
                if level:
                    open_.append(len(found) - 1)
            pending.clear()
        elif lines and lines[-1]:
            lines.append("")
        for m in trail:
            mark(m)
    while lines and not lines[-1]:
        lines.pop()
    starts, pos = [], 0
    for line in lines:
        starts.append(pos)
        pos += len(line) + 1
    headings = [Heading(starts[first], starts[last] + len(lines[last]), level)
                for first, last, level in found if first <= last < len(lines)]
    # Two or more link lines in a row are a list of links, not the page's text.
    lists = [i for i in sorted(linked) if i - 1 in linked or i + 1 in linked]
    headings += [Heading(starts[i], starts[i] + len(lines[i]), LINKS) for i in lists]
    return "\n".join(lines), sorted(headings, key=lambda h: (h.start, h.level))


def _collapse(text: str) -> str:
    return SPACES.sub(" ", text.replace("\n", " ")).strip()
