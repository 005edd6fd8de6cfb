"""A page into its articles: by an HTML page's headings first, else by the text's own cues; a
page into article documents for the store."""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from dataclasses import replace
from typing import Sequence

from tracker.documents import Document
from tracker.splitter.layout import assemble, headline_tokens, in_context, mark_captions
from tracker.splitter.lines import (
    BODY, BYLINE, DATELINE, FURN, HEADISH, SENTENCE_PATTERN, SUB, Line, Span, Start, clean,
    comma_headlines, furniture_ranges, intrinsic, mark_ads, split_lines)
from tracker.text.html import LINKS, TITLE_LINE, Heading
from tracker.text.normalize import simplified


def split_page(text: str, headings: Sequence[Heading] = (),
               simplified_text: str | None = None) -> list[Span]:
    """The articles of one page in page order, as contiguous spans covering all of `text`.
    `headings` are what an HTML page marks up (see tracker.text.html.page_layout): where they
    name articles, they decide; otherwise the text's own cues do. `simplified_text` is
    `simplified(text)` when the caller has it (Document.simplified_text)."""
    if not text:
        return []
    # The cues are written in simplified characters: read a traditional page through its
    # simplified twin (same length, so every offset holds), cut titles from the page itself.
    lines = split_lines(simplified(text) if simplified_text is None else simplified_text)
    for line in lines:
        intrinsic(line)
    if headings:
        _mark_link_lists(lines, headings)
    marked = _by_headings(text, lines, [h for h in headings if h.level != TITLE_LINE])
    if marked is not None:
        return marked
    out = _by_cues(text, lines)
    for h in headings:
        if h.level == TITLE_LINE:
            out = _title_line_names(text, out, h)
    return out


def _title_line_names(text: str, out: list[Span], h: Heading) -> list[Span]:
    """The line the <title> repeats names its article if nothing else did; standing alone as a
    span of its own, it heads the untitled article after it."""
    a = span_at(out, h.start)
    if a is None or a.kind != "article" or (a.title is not None and a.title_start != h.start):
        return out
    k = out.index(a)
    alone = not text[a.start:h.start].strip() and not text[h.end:a.end].strip()
    if alone and k + 1 < len(out) and out[k + 1].title is None and out[k + 1].kind == "article":
        nxt = out[k + 1]
        a = replace(nxt, start=a.start, furniture=a.furniture + nxt.furniture)
        out = out[:k] + [a] + out[k + 2:]
    elif a.title is not None:
        return out
    out[k] = replace(a, title=clean(text[h.start:h.end]), title_start=h.start, title_end=h.end)
    return out


def _by_cues(text: str, lines: list[Line]) -> list[Span]:
    """Articles from the text's own cues (see tracker.splitter, steps 2–6)."""
    if not any(x.label == DATELINE for x in lines):
        comma_headlines(lines)
    mark_ads(lines)
    mark_captions(lines, in_context(lines))
    starts = assemble(headline_tokens(lines), lines) or [Start(0)]
    out = []
    furniture = furniture_ranges(lines)
    for k, s in enumerate(starts):
        begin = 0 if k == 0 else lines[s.line].start
        end = len(text) if k + 1 == len(starts) else lines[starts[k + 1].line].start
        inside = tuple(span for span in furniture if begin <= span[0] < end)
        if s.title:
            title = " ".join(clean(text[lines[i].start:lines[i].end]) for i in s.title)  # kicker, main
            out.append(Span(begin, end, title, lines[s.title[0]].start, lines[s.title[-1]].end,
                               s.kind, inside))
        else:
            out.append(Span(begin, end, None, kind=s.kind, furniture=inside))
    return out


def _by_headings(text: str, lines: list[Line], headings: Sequence[Heading]) -> list[Span] | None:
    """Articles from an HTML page's headings: one per heading of the article level, and one per
    <article> container without one. The article level is the highest whose headings have text
    of their own (sentences before the next heading: a page's name is followed by navigation or
    straight by the first headline, a list of links has no sentences); with none, the level most
    headings have. Headings above it are the page's (its name, a section): furniture. Below it
    they are subheadings, part of the text. None when the page marks up no headings."""
    counts = Counter(h.level for h in headings if 1 <= h.level <= 4)
    if not counts and not any(h.level == 0 for h in headings):
        return None
    line_starts = [x.start for x in lines]
    told = _with_text(lines, line_starts, [h for h in headings if 1 <= h.level <= 4])
    level = min(told) if told else max(counts, key=lambda n: (counts[n], n)) if counts else 0
    starts: list[tuple[int, Heading | None]] = []  # (line index, its heading)
    for h in headings:
        i = bisect_right(line_starts, h.start) - 1
        # A lower heading over a dateline is an article of its own too.
        titled = h.level == level or (0 < level < h.level <= 4 and _opens_with_dateline(
            lines, bisect_right(line_starts, h.end - 1)))
        if titled or (h.level == 0 and level):
            if not titled and starts and starts[-1][0] == i:
                continue
            if titled and starts and starts[-1][1] is None and \
                    all(not x.text for x in lines[starts[-1][0] + 1:i]):
                starts.pop()  # an article container opening with its heading
            starts.append((i, h if titled else None))
        elif 1 <= h.level < level:
            for x in lines[i:bisect_right(line_starts, h.end - 1)]:
                x.label = FURN
        elif h.level > level:
            for x in lines[i:bisect_right(line_starts, h.end - 1)]:
                x.label = BODY if x.label in (HEADISH, SUB, BYLINE) else x.label
    furniture = furniture_ranges(lines)
    if not starts or any(x.text and x.label != FURN for x in lines[:starts[0][0]]):
        starts.insert(0, (0, None))
    out = []
    for k, (i, h) in enumerate(starts):
        begin = 0 if k == 0 else lines[i].start
        end = len(text) if k + 1 == len(starts) else lines[starts[k + 1][0]].start
        inside = tuple(span for span in furniture if begin <= span[0] < end and
                       not (h and h.start <= span[0] < h.end))
        if h is None:
            out.append(Span(begin, end, None, furniture=inside))
        else:
            title = " ".join(clean(line) for line in text[h.start:h.end].split("\n"))
            out.append(Span(begin, end, title or None, h.start if title else None,
                               h.end if title else None, furniture=inside))
    return out


def _opens_with_dateline(lines: list[Line], i: int) -> bool:
    """Is the first line of text from line `i` on (past furniture and bylines) a dateline?"""
    for x in lines[i:]:
        if x.text and x.label not in (FURN, BYLINE):
            return x.label == DATELINE
    return False


def _mark_link_lists(lines: list[Line], headings: Sequence[Heading]) -> None:
    """Lines of a list of links (navigation, related articles: see tracker.text.html) are
    furniture."""
    starts = {x.start: x for x in lines}
    for h in headings:
        if h.level == LINKS and h.start in starts:
            starts[h.start].label = FURN


def _with_text(lines: list[Line], line_starts: list[int], headings: list[Heading]) -> set[int]:
    """Levels of the headings followed by text of their own before the next heading: a body
    line or a line ending a sentence, not furniture."""
    firsts = [bisect_right(line_starts, h.start) - 1 for h in headings]
    lasts = [bisect_right(line_starts, h.end - 1) for h in headings]
    levels = set()
    for k, h in enumerate(headings):
        stop = firsts[k + 1] if k + 1 < len(headings) else len(lines)
        if any(x.label in (BODY, DATELINE) or (x.text and x.label != FURN and SENTENCE_PATTERN.search(x.text))
               for x in lines[lasts[k]:stop]):
            levels.add(h.level)
    return levels


def page_articles(document: Document) -> list[Document]:
    """A page split into its articles (kind "article"), each with its body's simplified twin
    taken from the page's, so no text is converted twice; an article stays as it is. Ads go."""
    if document.is_article:
        return [document]
    out = []
    text, twin = document.text, document.simplified_text()
    for a in split_page(text, document.meta.get("headings", ()), twin):
        if a.kind == "ad":
            continue
        body = span_body(text, a)
        if body or a.title:
            meta = {k: v for k, v in document.meta.items() if k != "headings"}
            article = replace(document, kind="article", title=a.title, text=body,
                              meta={**meta, "span": (a.start, a.end)})
            article.simplified = span_body(twin, a)
            out.append(article)
    return out


def span_body(text: str, span: Span) -> str:
    """The text of a span without its title and its furniture lines (masthead, navigation,
    links, bylines), stripped: what is stored and matched as an article's body."""
    cuts = sorted([*span.furniture, *([(span.title_start, span.title_end)]
                                       if span.title_start is not None else [])])
    pieces, pos = [], span.start
    for a, b in cuts:
        pieces.append(text[pos:a].strip())
        pos = max(pos, b)
    pieces.append(text[pos:span.end].strip())
    return "\n".join(p for p in pieces if p)


def span_at(spans: list[Span], offset: int) -> Span | None:
    """The span that contains `offset`, or None (bisect over the starts)."""
    i = bisect_right(spans, offset, key=lambda s: s.start) - 1
    return spans[i] if i >= 0 and spans[i].start <= offset < spans[i].end else None
