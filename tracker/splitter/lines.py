"""Lines of a page and what each says about itself: the labels and patterns of `split_page`
(see tracker.splitter for the rules), ads, and the spans of furniture."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tracker.text.normalize import simplified

_CJK = "\u3400-\u9fff\uf900-\ufaff"
_WIDE = _CJK + "\u3000-\u303f\uff00-\uffef\u2014\u2018-\u201f\u2026\u00b7"
SENTENCE_PATTERN = re.compile(r"[。！？；!?;]")
_TERMINATORS = "。！？；!?;…"  # a line ending in one of these (then closers) ends a sentence
_CLOSERS = "”’」』）)】》\"'"
_CJK_CHAR = re.compile(f"[{_CJK}]")
_ALL_IN_BRACKETS = re.compile(r"[（(][^（）()]*[)）]")
_NOT_HEADLINE = re.compile(r"[，,]|[：:]$|^图为")
_COMMA_ONLY = re.compile(r"[，,]")
_TRAILER = re.compile(r"\s*[（(](?:下转|转第|上接|接第|续)[^（）()]*[)）]$")
_INLINE_BYLINE = re.compile(
    rf"(?<=[。！？”])\s*(?:[（(][^（）()]{{2,12}}[)）]|\s[{_CJK}]{{2,3}}(?:\s[{_CJK}]{{2,3}})*)$")
CREDIT_PATTERN = re.compile(
    rf"(?:(?:^|(?<=[。！？”」）)\s■]))\s*■?\s*(?:本报|新华社)?(?:特约|实习)?(?:摄影)?(?:记者|通讯员)?"
    rf"\s*[{_CJK}·]{{1,4}}(?:\s+[{_CJK}·]{{1,4}}){{0,3}}\s*摄[)）]?|供图|图片由[^。]*提供|[（(][^（）()]*摄[)）])$")
_FURN = re.compile(
    rf"责任编辑|^(?:编辑|校对|版式|美编|组版|审读|主编|本版编辑)[:：]|星期[一二三四五六日天]"
    rf"|^\d{{4}}年\d{{1,2}}月\d{{1,2}}日$|主管主办|社出版$|统一连续出版物号|邮发代号|新闻网|数字报"
    rf"|^第?[A-Z]?\d{{1,3}}版$|^[A-Z]?\d{{1,3}}$"
    rf"|^[（(][^（）()]*(?:扫描|扫码|二维码|视频|下转|上接|转第|接第)[^（）()]*[)）]$"
    rf"|^[A-Z]?[{_CJK}]{{0,4}}(?:新闻|要闻|专版|专刊|周刊|评论|聚焦|观察|视点|时评|快讯|简讯|短讯|速递|速览)$"
    rf"|^[^|｜]{{1,8}}(?:[|｜][^|｜]{{1,8}})+$"  # a site's navigation: 首页|往期|第3版
    rf"|^[<《【\[]?(?:查看|阅读|点击|浏览)(?:原文|全文|详情|更多)|^(?:原文链接|返回(?:目录|首页|顶部|列表|上页)"
    rf"|上一篇|下一篇|上一版|下一版|打印本页|关闭窗口|分享到|收藏本页)"  # links of the page, not its text
    rf"|^(?:来源|稿源|信息来源|发布时间|发布日期|时间|作者|字号|浏览次数|点击数|阅读量)[:：]"  # a web page's details
    rf"|^【?字[号体][:：]?[【\[]?大[】\]]?\s*[【\[]?中"
    rf"|\d{{4}}年\d{{1,2}}月\d{{1,2}}日.{{0,12}}第[A-Z]?\d{{1,3}}版")  # masthead: date and page
PINYIN_PATTERN = re.compile(r"^[a-z]+(?:\s+[a-z]+)+$")
# The name of a column of short items (快讯, 本地简讯, 要闻速览): furniture that opens a roundup.
ROUNDUP_PATTERN = re.compile(rf"^[A-Z]?[{_CJK}]{{0,4}}(?:快讯|简讯|短讯|速递|速览)$")
_DATELINE = re.compile(
    rf"^(?:[{_CJK}]{{0,8}}?报讯|[{_CJK}]{{1,8}}?\d{{1,2}}月\d{{1,2}}日[电讯]|新华社[{_CJK}]{{0,6}}电"
    rf"|[（(](?:本报)?(?:特约|实习|见习)?(?:记者|通讯员)|本报(?:特约|实习)?(?:记者|通讯员)[^，。,]{{1,30}}?报道"
    rf"|[{_CJK}]{{2,8}}?(?:网|台|社)消息(?:[（(][^（）()]{{1,12}}[)）])?[:：])")  # 央视网消息（新闻联播）：
_BYLINE = re.compile(
    rf"^(?:本报|新华社|人民日报|本刊|中新社)?(?:特约|实习|见习|首席)?(?:记者|通讯员|评论员|实习生)[{_CJK}·]{{0,16}}$"
    rf"|/(?:文|图)$|^(?:文|图|文图|图文)[/／]")
NAME_PATTERN = re.compile(rf"^[{_CJK}]{{2,3}}(?:\s+[{_CJK}]{{2,3}}){{0,2}}$")
# A numbered or bulleted line (一、 （二） 3. ◆) is a subheading inside an article, never a headline.
NUMBERED_PATTERN = re.compile(r"^(?:[一二三四五六七八九十]{1,3}[、是]|[（(][一二三四五六七八九十\d]{1,3}[)）]|\d{1,2}[.、．]"
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
TOKEN_KIND = {FURN: "F", AD: "A", CAPTION: "C", BYLINE: "Y", DATELINE: "D", HEAD: "H"}
Units = list[tuple[list[int], list[int]]]  # a headline group: (main lines, subtitle lines) per unit


@dataclass(frozen=True)
class Span:
    """One stretch of a page's text: an article's (its headline, body, byline), an ad block or a
    caption. The splitter's output; `page_articles` makes article documents of it."""

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
class Line:
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
class Tok:
    kind: str  # F furniture, A ad, C caption, Y byline, D dateline, B body, H headline group
    lines: list[int]
    units: Units = field(default_factory=list)
    closes: bool = False


@dataclass(slots=True)
class Start:
    line: int  # index of the span's first line
    kind: str = "article"
    dateline: bool = False  # the article opened with a dateline
    title: list[int] | None = None  # the headline's lines
    roundup: bool = False  # a short item of a roundup: a headline after it is the next article's


def furniture_ranges(lines: list[Line]) -> list[tuple[int, int]]:
    """Spans of furniture lines and of bylines (a lone name could be a word broken off: kept)."""
    return [(x.start, x.end) for x in lines if x.label == FURN or (
        x.label == BYLINE and _BYLINE.search("".join(x.text.split())))]


def furniture_lines(text: str, simplified_text: str | None = None) -> tuple[tuple[int, int], ...]:
    """The furniture lines of one article's text (a byline, 查看原文, 来源：…), as in `split_page`."""
    lines = split_lines(simplified(text) if simplified_text is None else simplified_text)
    for line in lines:
        intrinsic(line)
        if line.label == FURN and PINYIN_PATTERN.match(line.text):
            line.label = BODY  # lower-case words: English text here, not a column's pinyin
    return tuple(furniture_ranges(lines))


def clean(line: str) -> str:
    """Spaces next to Chinese characters within a line are layout, not words: drop them."""
    return re.sub(rf"\s+(?=[{_WIDE}])|(?<=[{_WIDE}])\s+", "", line).strip()


def split_lines(text: str) -> list[Line]:
    lines, pos = [], 0
    for raw in text.split("\n"):
        stripped = raw.strip()
        lead = pos + len(raw) - len(raw.lstrip())
        lines.append(Line(lead, lead + len(stripped), stripped))
        pos += len(raw) + 1
    return lines


def intrinsic(line: Line) -> None:
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
    short = len(compact) <= 64 and not SENTENCE_PATTERN.search(compact)
    if len(compact) <= 60 and "，" not in compact:
        line.cues = frozenset(k for k, cue in _AD_CUES.items() if cue.search(compact if k != "latin" else t))
    if ("摄" in t or "供图" in t or "提供" in t) and CREDIT_PATTERN.search(t):
        line.label = CREDIT
    elif short and len(compact) <= 40 and (_FURN.search(compact) or PINYIN_PATTERN.match(t)):
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


def comma_headlines(lines: list[Line]) -> None:
    """On a page without datelines (a bulletin, a transcript), a short line with a comma inside
    but no punctuation at its end may be a headline too (稳中求进，开创新局): whether it is, the
    context decides as for any headline-like line."""
    for x in lines:
        if x.label == BODY and not x.finished and 4 <= len(x.text) <= 30 and x.text[-1] not in "，,、：:" \
                and not SENTENCE_PATTERN.search(x.text) and len(_CJK_CHAR.findall(x.text)) >= 2 \
                and _COMMA_ONLY.sub("", x.text) == _NOT_HEADLINE.sub("", x.text) \
                and all(x.text.count(a) == x.text.count(b) for a, b in _PAIRS):
            x.label = HEADISH


def mark_ads(lines: list[Line]) -> None:
    """Short cue lines at most four lines apart, with cues of two kinds, make an ad."""
    content = [i for i, x in enumerate(lines) if x.label != BLANK]
    cluster: list[int] = []  # positions in `content` of the cue lines seen so far
    for n, i in enumerate(content + [-1]):
        line = lines[i] if i >= 0 else None
        adlike = line is not None and (line.label not in (DATELINE, BODY) or (
            len(line.text) <= 60 and not SENTENCE_PATTERN.search(line.text) and "，" not in line.text))
        if cluster and (not adlike or (line.cues and n - cluster[-1] > 4)):
            kinds = frozenset().union(*(lines[content[c]].cues for c in cluster))
            if len(cluster) >= 2 and len(kinds) >= 2:
                for x in lines[content[cluster[0]]:content[cluster[-1]] + 1]:
                    x.label = AD if x.text else BLANK
            cluster = []
        if adlike and line.cues:
            cluster.append(n)
