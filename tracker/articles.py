"""Split one newspaper page's text into articles, using what Chinese newspapers print.

The spans cover the page contiguously (each character in exactly one), so every keyword hit on the
page lands in exactly one article. The rules, in the order they apply:

1. `_intrinsic` labels each line from its own text: CREDIT (…摄, …供图), FURN (masthead, dates,
   责任编辑, page numbers, column names, （扫描二维码…）), DATELINE (本报讯, 科学导报讯, 本报太原4月8日讯,
   新华社北京2月17日电, （记者…）, 本报记者…报道), SUB (——…), BYLINE (本报记者 X, 通讯员 …, …/文),
   HEADISH (short, no 。！？；，, brackets balanced), else BODY.
2. `_mark_ads`: short lines close together with ad cues of two kinds (有限公司, phone, www., 地址,
   电话, CAPITALS) are an ad, from the first cue line to the last.
3. `_in_context`: a headline-like block (run of non-blank lines; one line each where lines are
   paragraphs; a dateline starts one) is a headline when the text before it ended a sentence or a
   dateline follows; otherwise it is body text broken by the column layout. A lone 2–3 character
   name is a byline. `_mark_captions`: a caption line with its credit, or a short credit plus the
   block above it. `_tokens`: headline lines form groups of units, each a main line with its
   subtitles (——…, or a deck listing with 、).
4. `_assemble`: a dateline always starts an article; a body line starts one after a headline group,
   a byline, an ad, a closing inline byline (……。（李涛）) or at the page start. Captions between body
   lines stay inside, and so does a lone one-line group (a subheading) unless the article opened
   with a dateline and has no headline yet: then that line is its headline.
5. `_close_gap`: a group between articles P and N is N's (printed before its body) unless P has
   none: then P takes it (printed after its body). If both need it, P keeps the first half of its
   units (rounded up); a one-unit group goes to P only if P opened with a dateline or the page
   prints headlines after bodies (somewhere a dateline follows body text). Titles before a body are
   the last two units' main lines (kicker + main); after a body, the first unit's main line.
6. `split_page`: furniture joins the span after it; captions and ads between articles are spans of
   their own (kind "caption" / "ad"); blank lines go with the span before them.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Sequence

from tracker.documents import Document
from tracker.text.html import LINKS, Heading
from tracker.text.normalize import simplified

_CJK = "\u3400-\u9fff\uf900-\ufaff"
_WIDE = _CJK + "\u3000-\u303f\uff00-\uffef\u2014\u2018-\u201f\u2026\u00b7"
_SENTENCE = re.compile(r"[。！？；!?;]")
_TERMINATORS = "。！？；!?;…"  # a line ending in one of these (then closers) ends a sentence
_CLOSERS = "”’」』）)】》\"'"
_CJK_CHAR = re.compile(f"[{_CJK}]")
_ALL_IN_BRACKETS = re.compile(r"[（(][^（）()]*[)）]")
_NOT_HEADLINE = re.compile(r"[，,]|[：:]$|^图为")
_COMMA_ONLY = re.compile(r"[，,]")
_TRAILER = re.compile(r"\s*[（(](?:下转|转第|上接|接第|续)[^（）()]*[)）]$")
_INLINE_BYLINE = re.compile(
    rf"(?<=[。！？”])\s*(?:[（(][^（）()]{{2,12}}[)）]|\s[{_CJK}]{{2,3}}(?:\s[{_CJK}]{{2,3}})*)$")
_CREDIT = re.compile(
    rf"(?:(?:^|(?<=[。！？”」）)\s■]))\s*■?\s*(?:本报|新华社)?(?:特约|实习)?(?:摄影)?(?:记者|通讯员)?"
    rf"\s*[{_CJK}·]{{1,4}}(?:\s+[{_CJK}·]{{1,4}}){{0,3}}\s*摄[)）]?|供图|图片由[^。]*提供|[（(][^（）()]*摄[)）])$")
_FURN = re.compile(
    rf"责任编辑|^(?:编辑|校对|版式|美编|组版|审读|主编|本版编辑)[:：]|星期[一二三四五六日天]"
    rf"|^\d{{4}}年\d{{1,2}}月\d{{1,2}}日$|主管主办|社出版$|统一连续出版物号|邮发代号|新闻网|数字报"
    rf"|^第?[A-Z]?\d{{1,3}}版$|^[A-Z]?\d{{1,3}}$"
    rf"|^[（(][^（）()]*(?:扫描|扫码|二维码|视频|下转|上接|转第|接第)[^（）()]*[)）]$"
    rf"|^[A-Z]?[{_CJK}]{{0,4}}(?:新闻|要闻|专版|专刊|周刊|评论|聚焦|观察|视点|时评|快讯)$"
    rf"|^[^|｜]{{1,8}}(?:[|｜][^|｜]{{1,8}})+$"  # a site's navigation: 首页|往期|第3版
    rf"|^[<《【\[]?(?:查看|阅读|点击|浏览)(?:原文|全文|详情|更多)|^(?:原文链接|返回(?:目录|首页|顶部|列表|上页)"
    rf"|上一篇|下一篇|上一版|下一版|打印本页|关闭窗口|分享到|收藏本页)"  # links of the page, not its text
    rf"|^(?:来源|稿源|信息来源|发布时间|发布日期|时间|作者|字号|浏览次数|点击数|阅读量)[:：]"  # a web page's details
    rf"|^【?字[号体][:：]?[【\[]?大[】\]]?\s*[【\[]?中"
    rf"|\d{{4}}年\d{{1,2}}月\d{{1,2}}日.{{0,12}}第[A-Z]?\d{{1,3}}版")  # masthead: date and page
_PINYIN = re.compile(r"^[a-z]+(?:\s+[a-z]+)+$")
_DATELINE = re.compile(
    rf"^(?:[{_CJK}]{{0,8}}?报讯|[{_CJK}]{{1,8}}?\d{{1,2}}月\d{{1,2}}日[电讯]|新华社[{_CJK}]{{0,6}}电"
    rf"|[（(](?:本报)?(?:特约|实习|见习)?(?:记者|通讯员)|本报(?:特约|实习)?(?:记者|通讯员)[^，。,]{{1,30}}?报道)")
_BYLINE = re.compile(
    rf"^(?:本报|新华社|人民日报|本刊|中新社)?(?:特约|实习|见习|首席)?(?:记者|通讯员|评论员|实习生)[{_CJK}·]{{0,16}}$"
    rf"|/(?:文|图)$|^(?:文|图|文图|图文)[/／]")
_NAME = re.compile(rf"^[{_CJK}]{{2,3}}(?:\s+[{_CJK}]{{2,3}}){{0,2}}$")
# A numbered or bulleted line (一、 （二） 3. ◆) is a subheading inside an article, never a headline.
_NUMBERED = re.compile(r"^(?:[一二三四五六七八九十]{1,3}[、是]|[（(][一二三四五六七八九十\d]{1,3}[)）]|\d{1,2}[.、．]"
                       r"|[◆■●▲★☆◇□○])")
_SUB = ("——", "—", "一一", "──", "--", "－－")
_PAIRS = ("“”", "《》", "（）", "()", "【】", "「」")  # a headline closes what it opens
_AD_CUES = {"company": re.compile(r"有限(?:责任)?公司|股份公司|集团公司"),
            "web": re.compile(r"www\.|https?://|\.com|\.cn$"),
            "phone": re.compile(r"(?<!\d)(?:0\d{2,3}-?\d{7,8}|1[3-9]\d{9})(?!\d)|电话|热线|联系人"),
            "address": re.compile(r"地址|邮编"),
            "latin": re.compile(r"^[A-Z][A-Z0-9&.,'()\- ]*[A-Z]\s+[A-Z][A-Z0-9&.,'()\- ]{3,}$")}
BLANK, FURN, CREDIT, CAPTION, AD, DATELINE, SUB, BYLINE, HEADISH, HEAD, BODY = (
    "blank", "furn", "credit", "caption", "ad", "dateline", "sub", "byline", "headish", "head", "body")
_TOKEN_KIND = {FURN: "F", AD: "A", CAPTION: "C", BYLINE: "Y", DATELINE: "D", HEAD: "H"}
_Units = list[tuple[list[int], list[int]]]  # a headline group: (main lines, subtitle lines) per unit


@dataclass(frozen=True)
class Article:
    """One span of a page: an article (its headline, body, byline), an ad block or a caption."""

    start: int  # offset of its first line (headline or not); the first span starts at 0
    end: int  # offset just past its last character; equals the next span's start
    title: str | None  # the headline as people write it, None when none is printed
    title_start: int | None = None  # the headline's lines in the page: text[title_start:title_end]
    title_end: int | None = None
    kind: str = "article"  # "article" | "ad" | "caption"
    # Page furniture inside the span (masthead, navigation, links such as 查看原文, bylines):
    # (start, end) of each such line. Never part of a title or a snippet; a hit there is no hit.
    furniture: tuple[tuple[int, int], ...] = ()


@dataclass(slots=True)
class _Line:
    start: int  # offset of its first non-space character
    end: int  # offset just past its last non-space character
    text: str
    block: int = -1  # index of its block (see `_blocks`); -1 for a blank line
    label: str = BLANK
    finished: bool = True  # ends a sentence (after notes like （下转第4版） and an inline byline)
    closes: bool = False  # ends with an inline byline such as （李涛）: its article is over
    cues: frozenset[str] = frozenset()  # kinds of ad cue on the line
    caption: int = -1  # the credit line of the caption it belongs to


@dataclass(slots=True)
class _Tok:
    kind: str  # F furniture, A ad, C caption, Y byline, D dateline, B body, H headline group
    lines: list[int]
    units: _Units = field(default_factory=list)
    closes: bool = False


@dataclass(slots=True)
class _Start:
    line: int  # index of the span's first line
    kind: str = "article"
    dateline: bool = False  # the article opened with a dateline
    title: list[int] | None = None  # the headline's lines


def split_page(text: str, headings: Sequence[Heading] = (),
               simplified_text: str | None = None) -> list[Article]:
    """The articles of one page in page order, as contiguous spans covering all of `text`.
    `headings` are what an HTML page marks up (see tracker.text.html.page_layout): where they
    name articles, they decide; otherwise the text's own cues do. `simplified_text` is
    `simplified(text)` when the caller has it (Document.simplified_text)."""
    if not text:
        return []
    # The cues are written in simplified characters: read a traditional page through its
    # simplified twin (same length, so every offset holds), cut titles from the page itself.
    lines = _split_lines(simplified(text) if simplified_text is None else simplified_text)
    for line in lines:
        _intrinsic(line)
    if headings:
        _mark_link_lists(lines, headings)
    marked = _by_headings(text, lines, headings)
    if marked is not None:
        return marked
    if not any(x.label == DATELINE for x in lines):
        _comma_headlines(lines)
    _mark_ads(lines)
    _mark_captions(lines, _in_context(lines))
    starts = _assemble(_tokens(lines), lines) or [_Start(0)]
    out = []
    furniture = _furniture(lines)
    for k, s in enumerate(starts):
        begin = 0 if k == 0 else lines[s.line].start
        end = len(text) if k + 1 == len(starts) else lines[starts[k + 1].line].start
        inside = tuple(span for span in furniture if begin <= span[0] < end)
        if s.title:
            title = " ".join(_clean(text[lines[i].start:lines[i].end]) for i in s.title)  # kicker, main
            out.append(Article(begin, end, title, lines[s.title[0]].start, lines[s.title[-1]].end,
                               s.kind, inside))
        else:
            out.append(Article(begin, end, None, kind=s.kind, furniture=inside))
    return out


def _furniture(lines: list[_Line]) -> list[tuple[int, int]]:
    """Spans of furniture lines and of bylines (a lone name could be a word broken off: kept)."""
    return [(x.start, x.end) for x in lines if x.label == FURN or (
        x.label == BYLINE and _BYLINE.search("".join(x.text.split())))]


def _by_headings(text: str, lines: list[_Line], headings: Sequence[Heading]) -> list[Article] | None:
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
    furniture = _furniture(lines)
    if not starts or any(x.text and x.label != FURN for x in lines[:starts[0][0]]):
        starts.insert(0, (0, None))
    out = []
    for k, (i, h) in enumerate(starts):
        begin = 0 if k == 0 else lines[i].start
        end = len(text) if k + 1 == len(starts) else lines[starts[k + 1][0]].start
        inside = tuple(span for span in furniture if begin <= span[0] < end and
                       not (h and h.start <= span[0] < h.end))
        if h is None:
            out.append(Article(begin, end, None, furniture=inside))
        else:
            title = " ".join(_clean(line) for line in text[h.start:h.end].split("\n"))
            out.append(Article(begin, end, title or None, h.start if title else None,
                               h.end if title else None, furniture=inside))
    return out


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
        body = article_body(text, a)
        if body or a.title:
            meta = {k: v for k, v in document.meta.items() if k != "headings"}
            article = replace(document, kind="article", title=a.title, text=body,
                              meta={**meta, "span": (a.start, a.end)})
            article.simplified = article_body(twin, a)
            out.append(article)
    return out


def furniture_lines(text: str, simplified_text: str | None = None) -> tuple[tuple[int, int], ...]:
    """The furniture lines of one article's text (a byline, 查看原文, 来源：…), as in `split_page`."""
    lines = _split_lines(simplified(text) if simplified_text is None else simplified_text)
    for line in lines:
        _intrinsic(line)
        if line.label == FURN and _PINYIN.match(line.text):
            line.label = BODY  # lower-case words: English text here, not a column's pinyin
    return tuple(_furniture(lines))


def _mark_link_lists(lines: list[_Line], headings: Sequence[Heading]) -> None:
    """Lines of a list of links (navigation, related articles: see tracker.text.html) are
    furniture."""
    starts = {x.start: x for x in lines}
    for h in headings:
        if h.level == LINKS and h.start in starts:
            starts[h.start].label = FURN


def _opens_with_dateline(lines: list[_Line], i: int) -> bool:
    """Is the first line of text from line `i` on (past furniture and bylines) a dateline?"""
    for x in lines[i:]:
        if x.text and x.label not in (FURN, BYLINE):
            return x.label == DATELINE
    return False


def _with_text(lines: list[_Line], line_starts: list[int], headings: list[Heading]) -> set[int]:
    """Levels of the headings followed by text of their own before the next heading: a body
    line or a line ending a sentence, not furniture."""
    firsts = [bisect_right(line_starts, h.start) - 1 for h in headings]
    lasts = [bisect_right(line_starts, h.end - 1) for h in headings]
    levels = set()
    for k, h in enumerate(headings):
        stop = firsts[k + 1] if k + 1 < len(headings) else len(lines)
        if any(x.label in (BODY, DATELINE) or (x.text and x.label != FURN and _SENTENCE.search(x.text))
               for x in lines[lasts[k]:stop]):
            levels.add(h.level)
    return levels


def article_body(text: str, article: Article) -> str:
    """The text of an article without its title and its furniture lines (masthead, navigation,
    links, bylines), stripped: what is stored and matched as its body."""
    cuts = sorted([*article.furniture, *([(article.title_start, article.title_end)]
                                          if article.title_start is not None else [])])
    pieces, pos = [], article.start
    for a, b in cuts:
        pieces.append(text[pos:a].strip())
        pos = max(pos, b)
    pieces.append(text[pos:article.end].strip())
    return "\n".join(p for p in pieces if p)


def article_at(articles: list[Article], offset: int) -> Article | None:
    """The article whose span contains `offset`, or None (bisect over the starts)."""
    i = bisect_right(articles, offset, key=lambda a: a.start) - 1
    return articles[i] if i >= 0 and articles[i].start <= offset < articles[i].end else None


def _clean(line: str) -> str:
    """Spaces next to Chinese characters within a line are layout, not words: drop them."""
    return re.sub(rf"\s+(?=[{_WIDE}])|(?<=[{_WIDE}])\s+", "", line).strip()


def _split_lines(text: str) -> list[_Line]:
    lines, pos = [], 0
    for raw in text.split("\n"):
        stripped = raw.strip()
        lead = pos + len(raw) - len(raw.lstrip())
        lines.append(_Line(lead, lead + len(stripped), stripped))
        pos += len(raw) + 1
    return lines


def _intrinsic(line: _Line) -> None:
    """Label a line from its own text. (Cheap substring checks guard the costly patterns: this
    runs for every line of every page.)"""
    t = line.text
    if not t:
        return
    compact = "".join(t.split())
    tail = _TRAILER.sub("", t) if t[-1] in ")）" else t
    bylined = tail[-1:] in (")", "）") or tail[-3:-2].isspace() or tail[-4:-3].isspace()
    line.closes = bylined and bool(_INLINE_BYLINE.search(tail))
    body = _INLINE_BYLINE.sub("", tail) if line.closes else tail
    body = body.rstrip(_CLOSERS)
    line.finished = body[-1:] in _TERMINATORS if body else False
    short = len(compact) <= 64 and not _SENTENCE.search(compact)
    if len(compact) <= 60 and "，" not in compact:
        line.cues = frozenset(k for k, cue in _AD_CUES.items() if cue.search(compact if k != "latin" else t))
    if ("摄" in t or "供图" in t or "提供" in t) and _CREDIT.search(t):
        line.label = CREDIT
    elif short and len(compact) <= 40 and (_FURN.search(compact) or _PINYIN.match(t)):
        line.label = FURN
    elif _DATELINE.match(compact) and not _ALL_IN_BRACKETS.fullmatch(compact):
        line.label = DATELINE
    elif short and t.startswith(_SUB):
        line.label = SUB
    elif short and len(compact) <= 30 and _BYLINE.search(compact):
        line.label = BYLINE
    elif short and not _NOT_HEADLINE.search(compact) and len(_CJK_CHAR.findall(compact)) >= 2 \
            and all(compact.count(a) == compact.count(b) for a, b in _PAIRS):  # brackets closed
        line.label = HEADISH
    else:
        line.label = BODY


def _comma_headlines(lines: list[_Line]) -> None:
    """On a page without datelines (a bulletin, a transcript), a short line with a comma inside
    but no punctuation at its end may be a headline too (稳中求进，开创新局): whether it is, the
    context decides as for any headline-like line."""
    for x in lines:
        if x.label == BODY and not x.finished and 4 <= len(x.text) <= 30 and x.text[-1] not in "，,、：:" \
                and not _SENTENCE.search(x.text) and len(_CJK_CHAR.findall(x.text)) >= 2 \
                and _COMMA_ONLY.sub("", x.text) == _NOT_HEADLINE.sub("", x.text) \
                and all(x.text.count(a) == x.text.count(b) for a, b in _PAIRS):
            x.label = HEADISH


def _mark_ads(lines: list[_Line]) -> None:
    """Short cue lines at most four lines apart, with cues of two kinds, make an ad."""
    content = [i for i, x in enumerate(lines) if x.label != BLANK]
    cluster: list[int] = []  # positions in `content` of the cue lines seen so far
    for n, i in enumerate(content + [-1]):
        line = lines[i] if i >= 0 else None
        adlike = line is not None and (line.label not in (DATELINE, BODY) or (
            len(line.text) <= 60 and not _SENTENCE.search(line.text) and "，" not in line.text))
        if cluster and (not adlike or (line.cues and n - cluster[-1] > 4)):
            kinds = frozenset().union(*(lines[content[c]].cues for c in cluster))
            if len(cluster) >= 2 and len(kinds) >= 2:
                for x in lines[content[cluster[0]]:content[cluster[-1]] + 1]:
                    x.label = AD if x.text else BLANK
            cluster = []
        if adlike and line.cues:
            cluster.append(n)


def _in_context(lines: list[_Line]) -> list[list[int]]:
    """Tell headline blocks from body text broken by the column layout; return the blocks."""
    reach = [False] * (len(lines) + 1)  # a dateline follows, across headline-like lines only
    upcoming: _Line | None = None
    for i in range(len(lines) - 1, -1, -1):
        line = lines[i]
        passable = line.label in (BLANK, FURN, HEADISH, SUB, BYLINE, CREDIT)
        reach[i] = line.label == DATELINE or (passable and reach[i + 1])
        if line.label == HEADISH and upcoming is not None and _PINYIN.match(upcoming.text):
            line.label = FURN  # a column name above its pinyin: 开发区评论 / kai fa qu ping lun
        upcoming = line if line.text else upcoming
    finished, blocks = True, _blocks(lines, reach)
    for members in blocks:
        block = [lines[k] for k in members]
        kinds = [x.label for x in block]
        if kinds and kinds[0] in (HEADISH, SUB) and set(kinds) <= {HEADISH, SUB, BYLINE} \
                and kinds.count(HEADISH) <= 3 and (finished or reach[members[-1] + 1]):
            for x in block:
                if x.label == HEADISH:
                    x.label = BYLINE if len(block) == 1 and _NAME.match(x.text) else HEAD
        else:
            for x in block:  # a byline pattern inside running text is running text
                if x.label in (HEADISH, SUB) or (x.label == BYLINE and not set(kinds) <= {BYLINE, CREDIT}):
                    x.label = BODY
        if block:
            finished = block[-1].label not in (BODY, DATELINE) or block[-1].finished
    return blocks


def _blocks(lines: list[_Line], reach: list[bool]) -> list[list[int]]:
    """Runs of non-blank lines (numbered in `_Line.block`; furniture and ads left out). A dateline
    starts one, and so does a headline-like line leading to one; where body lines mostly end a
    sentence (a paragraph a line, as e-papers give), every line is a block."""
    body = [x.finished for x in lines if x.label in (BODY, DATELINE)]
    per_line = sum(body) * 2 >= len(body) > 0
    out: list[list[int]] = []
    for i, line in enumerate(lines):
        if not line.text:
            continue
        prev = lines[i - 1] if i else _Line(0, 0, "")
        leads = line.label in (HEADISH, SUB) and reach[i] and prev.label in (BODY, DATELINE) and prev.finished
        if not prev.text or per_line or line.label == DATELINE or leads:
            out.append([])
        line.block = len(out) - 1
        if line.label not in (FURN, AD):
            out[-1].append(i)
    return out


def _mark_captions(lines: list[_Line], blocks: list[list[int]]) -> None:
    """A credit with caption text on its line, or a short credit with the block above it."""
    for i, line in enumerate(lines):
        match = _CREDIT.search(line.text) if line.label == CREDIT else None
        if match is None:
            continue
        members, own = [i], blocks[line.block]
        if len(line.text) - len(match.group()) <= 8 and all(lines[k].label in (CREDIT, BYLINE) for k in own):
            members = own
            above = blocks[line.block - 1] if line.block else []
            if above and all(lines[k].label in (BODY, HEAD) for k in above):
                members = above + members
        for k in members:
            lines[k].label, lines[k].caption = CAPTION, i


def _tokens(lines: list[_Line]) -> list[_Tok]:
    """Group labelled lines into tokens, headline lines into groups of units."""
    toks: list[_Tok] = []
    for i, line in enumerate(lines):
        kind, last = _TOKEN_KIND.get(line.label, "B"), toks[-1] if toks else None
        if line.label == BLANK:
            continue
        if last and kind in "AC" and last.kind == kind and lines[last.lines[-1]].caption == line.caption:
            last.lines.append(i)
        elif last and last.kind == "H" and line.label in (HEAD, SUB):
            main, subs = last.units[-1]
            if line.label == SUB or ("、" in line.text and not subs):
                subs.append(i)  # ——a subtitle, or a deck listing things under the main line
            elif lines[main[-1]].block == line.block and not subs:
                main.append(i)  # one headline wrapped over two lines
            else:
                last.units.append(([i], []))
            last.lines.append(i)
        else:
            toks.append(_Tok(kind, [i], [([i], [])] if kind == "H" else [], line.closes))
    return toks


def _assemble(toks: list[_Tok], lines: list[_Line]) -> list[_Start]:
    """Find the articles and hand each gap between two of them to its neighbours."""
    # Headlines follow bodies on this page if a dateline directly follows body text (or its byline).
    after = re.search(r"[BD]Y?D", "".join(t.kind for t in toks).replace("F", "")) is not None
    # Without datelines on the page, nothing tells a subheading from the next article's headline:
    # a headline line followed by body text starts an article (a bulletin, a transcript).
    datelined = any(t.kind == "D" for t in toks)
    starts: list[_Start] = []
    core: _Start | None = None
    last, gap = -1, []
    for k, tok in enumerate(toks):
        if tok.kind in "HYFCA":
            gap.append(k)
        elif tok.kind == "B" and core is not None and _continues(toks, core, toks[last], gap, datelined, lines):
            last, gap = k, []
        else:
            new = _Start(tok.lines[0], dateline=tok.kind == "D")
            _close_gap(toks, starts, core, gap, new, after)
            core, last, gap = new, k, []
    _close_gap(toks, starts, core, gap, None, after)
    return starts


def _continues(toks: list[_Tok], core: _Start, last: _Tok, gap: list[int], datelined: bool,
               lines: list[_Line]) -> bool:
    """Does a body line after `gap` go on with the current article (past captions, a subheading)?"""
    kinds = "".join(toks[g].kind for g in gap)
    if last.closes or "Y" in kinds or "A" in kinds:
        return False
    heads = [toks[g] for g in gap if toks[g].kind == "H"]
    if not heads:
        return True
    subheading = len(heads) == 1 and len(heads[0].units) == 1 and not heads[0].units[0][1]
    numbered = subheading and _NUMBERED.match(lines[heads[0].units[0][0][0]].text) is not None
    return subheading and (datelined or numbered) and not (core.dateline and core.title is None)


def _titled(units: _Units) -> list[int]:
    """A headline printed before its body: the main lines of its last two units (kicker + main)."""
    return [i for main, _ in units[-2:] for i in main]


def _close_gap(toks: list[_Tok], starts: list[_Start], prev: _Start | None, gap: list[int],
               new: _Start | None, after: bool) -> None:
    """Give the tokens between two articles to the one before, the one after, or own spans."""
    kinds = "".join(toks[g].kind for g in gap)
    heads = [p for p, kind in enumerate(kinds) if kind == "H"]
    ad = kinds.rfind("A")
    new_needs = new is not None and bool(heads) and heads[-1] > ad and not kinds[heads[-1] + 1:].strip("FCY")
    claim, rest = -1, []  # last gap position `prev` owns; units of a shared group left to `new`
    if prev is not None and prev.title is None and heads and (ad < 0 or heads[0] < ad):
        units = toks[gap[heads[0]]].units
        shared = new_needs and len(heads) == 1
        if not shared or prev.dateline or after:
            keep = (len(units) + 1) // 2 if shared else len(units)
            prev.title, claim, rest = units[0][0], heads[0], units[keep:]
    while not rest and kinds[claim + 1:claim + 2] == "Y":
        claim += 1  # bylines after an article's body or after its headline
    begin = len(gap)  # first gap position `new` owns
    if new is not None and rest:
        new.title, new.line, begin = _titled(rest), rest[0][0][0], claim + 1
    elif new is not None:
        later = [p for p in heads if p > max(claim, ad)]
        if new_needs and later:
            new.title, begin = _titled(toks[gap[heads[-1]]].units), later[0]
        else:
            begin = max(claim + 1, len(kinds.rstrip("F")))
        while begin - 1 > claim and kinds[begin - 1] == "F":
            begin -= 1  # furniture just before an article belongs to it
        new.line = toks[gap[begin]].lines[0] if begin < len(gap) else new.line
    furniture, lone = None, prev is None and new is None  # a page with headlines but no body
    for p in range(claim + 1, begin):
        tok = toks[gap[p]]
        if tok.kind in "CA" or (tok.kind == "H" and lone):
            first = toks[gap[p if furniture is None else furniture]].lines[0]
            title = _titled(tok.units) if tok.kind == "H" else None
            starts.append(_Start(first, {"C": "caption", "A": "ad"}.get(tok.kind, "article"), title=title))
            lone = lone and tok.kind != "H"
        furniture = (p if furniture is None else furniture) if tok.kind == "F" else None
    if new is not None:
        starts.append(new)
