"""The splitter: one newspaper page's text cut into spans, using what the page shows.

A `Span` is a stretch of the page's text (start, end, title offsets, furniture lines): an
article's, an ad's or a caption's. It is not yet an article: `page_articles` turns the article
spans of a page into article documents (the domain word), which are matched and stored.

The spans cover the page contiguously (each character in exactly one), so every keyword hit on the
page lands in exactly one article. The rules, in the order they apply:

1. `intrinsic` labels each line from its own text: CREDIT (…摄, …供图), FURN (masthead, dates,
   责任编辑, page numbers, column names, （扫描二维码…）), DATELINE (本报讯, 科学导报讯, 本报太原4月8日讯,
   新华社北京2月17日电, （记者…）, 本报记者…报道, 央视网消息（新闻联播）：), SUB (——…), BYLINE (本报记者 X, 通讯员 …, …/文),
   HEADISH (short, no 。！？；，, brackets balanced), else BODY. Furniture also covers links
   (查看原文, 上一篇) and a web page's details (来源：…, 字号). On a page without datelines a short
   line with a comma inside may be HEADISH too (`comma_headlines`).
2. `mark_ads`: short lines close together with ad cues of two kinds (有限公司, phone, www., 地址,
   电话, CAPITALS) are an ad, from the first cue line to the last.
3. `in_context`: a headline-like block (run of non-blank lines; one line each where lines are
   paragraphs; a dateline starts one) is a headline when the text before it ended a sentence or a
   dateline follows; otherwise it is body text broken by the column layout. A lone 2–3 character
   name is a byline. `mark_captions`: a caption line with its credit, or a short credit plus the
   block above it. `headline_tokens`: headline lines form groups of units, each a main line with its
   subtitles (——…, or a deck listing with 、).
4. `assemble`: a dateline always starts an article; a body line starts one after a headline group,
   a byline, an ad, a closing inline byline (……。（李涛）) or at the page start. Captions between body
   lines stay inside, and so does a lone one-line group (a subheading) unless the article opened
   with a dateline and has no headline yet: then that line is its headline. On a page without
   any dateline, nothing tells a subheading from the next headline: a lone group starts an
   article there, unless it is numbered or bulleted (一、 （二） ◆). In a roundup (after a column
   name such as 快讯 or 简讯, up to the next headline over a dateline; or datelines one after
   another with nothing between, 本报讯 …。本报讯 …。) every item is an article of its own: a lone
   group there starts one, and an item never takes the headline printed after it.
5. `_close_gap`: a group between articles P and N is N's (printed before its body) unless P has
   none: then P takes it (printed after its body), unless P is a roundup's item. If both need
   it, P keeps the first half of its units (rounded up); a one-unit group goes to P only if P
   opened with a dateline or the page prints headlines after bodies (somewhere a dateline
   follows body text, not in a roundup). Titles before a body are the last two units' main
   lines (kicker + main); after a body, the first unit's main line.
6. `split_page`: furniture joins the span after it; captions and ads between articles are spans of
   their own (kind "caption" / "ad"); blank lines go with the span before them.
   Furniture and bylines inside a span are listed in `Span.furniture`: never a title, a
   snippet or a hit.

In HTML, headings come first (`pages._by_headings`); `lines` labels lines, `layout` assembles
spans from them, `pages` puts the steps together.

May use text and documents; never rules, matching, store or anything above.
"""

from tracker.splitter.lines import Span, furniture_lines
from tracker.splitter.pages import page_articles, span_at, span_body, split_page

__all__ = ["Span", "furniture_lines", "page_articles", "span_at", "span_body", "split_page"]
