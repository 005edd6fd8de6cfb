"""HTML to visible text.

Peer bugs turned into cases here:
- EmilStenstrom/justhtml#43: a text separator put around inline elements too (专业<b>镇</b> must
  stay 专业镇, or the keyword is lost).
- rushter/selectolax#59: <br> ignored, lines run together.
- zytedata/html-text#7, fhightower/html-to-json#65: recursion over the tree crashed on deep pages.
"""

from __future__ import annotations

import html

import pytest

from tracker.text.html import TooDeep, visible_text


@pytest.mark.parametrize("tag", ["b", "i", "span", "a", "font", "strong", "em", "u", "small", "sup",
                                 "x-custom"])
def test_inline_elements_do_not_break_words(tag):
    assert visible_text(f"<p>专业<{tag}>镇</{tag}>建设</p>")[1] == "专业镇建设"


@pytest.mark.parametrize("markup, expected", [
    ("<p>专业</p><p>镇</p>", "专业\n镇"),
    ("<div>专业</div><div>镇</div>", "专业\n镇"),
    ("专业<br>镇", "专业\n镇"),
    ("<h1>专业</h1>镇", "专业\n镇"),
    ("<ul><li>专业</li><li>镇</li></ul>", "专业\n镇"),
    ("<table><tr><td>专业</td><td>镇</td></tr></table>", "专业\n镇"),  # cells never run together
    ("<table><tr><th>专业</th></tr><tr><td>镇</td></tr></table>", "专业\n镇"),
    ("<section>专业</section><article>镇</article>", "专业\n镇"),
    ("<blockquote>专业</blockquote>镇", "专业\n镇"),
])
def test_block_elements_break_lines(markup, expected):
    assert visible_text(markup)[1] == expected


@pytest.mark.parametrize("markup", [
    "<script>var a = '隐藏';</script>",
    "<style>p::after { content: '隐藏' }</style>",
    "<noscript>隐藏</noscript>",
    "<template><p>隐藏</p></template>",
    "<!-- 隐藏 -->",
    "<div hidden>隐藏</div>",
    "<iframe>隐藏</iframe>",
])
def test_invisible_content_is_dropped(markup):
    page = f"<html><head><meta name=k content=隐藏></head><body>可见{markup}文字</body></html>"
    assert visible_text(page)[1] == "可见文字"


@pytest.mark.parametrize("markup, expected", [
    ("A &amp; B &lt;c&gt;", "A & B <c>"),
    ("&#x4E13;&#19994;&#x9547;", "专业镇"),
    ("专业&nbsp;&nbsp;镇", "专业 镇"),
    ("&quot;标准地&quot;", '"标准地"'),
])
def test_entities_are_decoded(markup, expected):
    assert visible_text(f"<p>{markup}</p>")[1] == expected


@pytest.mark.parametrize("markup, expected", [
    ("<p>  a   b \t c  </p>", "a b c"),
    ("<div>\n  <p>a</p>\n  <p>b</p>\n</div>", "a\nb"),  # indentation is not a blank line
    ("a<br><br>b", "a\n\nb"),  # one blank line kept
    ("a<br><br><br><br><br>b", "a\n\nb"),  # but no more than one
    ("<p>a</p><p></p><p> </p><p>b</p>", "a\nb"),
    ("<pre>a\n  b</pre>", "a\nb"),
    ("<p>第一行\n第二行</p>", "第一行 第二行"),  # a source newline is a space, as in a browser
])
def test_spaces_and_line_breaks(markup, expected):
    assert visible_text(markup)[1] == expected


@pytest.mark.parametrize("markup, title", [
    ("<html><head><title> 山西日报 \n 数字报 </title></head><body>x</body></html>", "山西日报 数字报"),
    ("<title>A &amp; B</title><p>x</p>", "A & B"),
    ("<html><head><title>  </title></head><body>x</body></html>", None),
    ("<p>no title</p>", None),
])
def test_title(markup, title):
    assert visible_text(markup) == (title, "x" if "x" in markup else "no title")


@pytest.mark.parametrize("tag", ["span", "b", "font"])
def test_hostile_deep_nesting_does_not_hit_the_recursion_limit(tag):
    depth = 100_000
    page = f"<{tag}>" * depth + "专业镇" + f"</{tag}>" * depth
    assert visible_text(page) == (None, "专业镇")


def test_hostile_deep_block_nesting_is_refused_not_parsed_for_minutes():
    page = "<div>" * 100_000 + "专业镇"
    with pytest.raises(TooDeep):
        visible_text(page)


def test_moderate_block_nesting_is_fine():
    page = "<div>" * 2_000 + "专业镇" + "</div>" * 2_000
    assert visible_text(page)[1] == "专业镇"


def _seed_page(text: str, wrap: str = "") -> str:
    """A web edition of a seed page: one <p> per line, every 镇 optionally inside an inline tag."""
    paragraphs = []
    for line in text.splitlines():
        escaped = html.escape(line)
        if wrap:
            escaped = escaped.replace("镇", f"<{wrap}>镇</{wrap}>")
        paragraphs.append(f"<p>{escaped}</p>")
    return (f"<!doctype html><html><head><title>{html.escape(text.strip().splitlines()[0])}</title>"
            f"<script>var 专业镇 = 1;</script></head><body>{''.join(paragraphs)}</body></html>")


def test_seed_pages_round_trip_through_html(seed_texts):
    for name, text in seed_texts.items():
        title, body = visible_text(_seed_page(text))
        expected = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
        assert body.split("\n") == expected, name
        assert title == " ".join(text.strip().splitlines()[0].split())


@pytest.mark.parametrize("wrap", ["b", "span", "font", "a"])
def test_seed_keywords_survive_inline_markup(seed_texts, wrap):
    found = 0
    for name, text in seed_texts.items():
        marked = visible_text(_seed_page(text, wrap))[1]
        assert marked == visible_text(_seed_page(text))[1], name
        assert marked.count("专业镇") == text.count("专业镇"), name
        found += marked.count("专业镇")
    assert found > 50


def test_an_inline_svg_title_is_text_the_page_title_is_not():
    markup = ("<html><head><title>演示日报</title></head><body><p>图表：</p>"
              "<svg viewBox='0 0 10 10'><title>专业镇产值增长</title><rect/></svg></body></html>")
    title, text = visible_text(markup)
    assert title == "演示日报" and text == "图表：\n专业镇产值增长"


def test_headings_are_found_in_the_text():
    from tracker.text.html import page_layout

    markup = ("<h1>演示日报 第1版</h1><nav><a>首页</a>|<a>往期</a></nav>"
              "<h3> 山城推出<b>十项</b>\n新举措 </h3><p>正文一。</p><h3>河谷县<br>新建污水厂</h3><p>正文二。</p>"
              "<h3></h3><article><p>正文三。</p></article><founder-title>青石镇丰收</founder-title>")
    _, text, headings = page_layout(markup)
    assert [(text[h.start:h.end], h.level) for h in headings] == [
        ("演示日报 第1版", 1), ("山城推出十项 新举措", 3), ("河谷县\n新建污水厂", 3), ("正文三。", 0),
        ("青石镇丰收", 3)]
    assert visible_text(markup)[1] == text


def test_the_title_names_the_headline_line_when_no_heading_does():
    from tracker.text.html import TITLE_LINE, page_layout

    markup = ("<html><head><title>山城推出十项便民新举措_演示日报</title></head><body>"
              "<div>演示日报</div><div>山城推出十项便民新举措</div><p>正文。</p></body></html>")
    _, text, headings = page_layout(markup)
    assert [(text[h.start:h.end], h.level) for h in headings] == [("山城推出十项便民新举措", TITLE_LINE)]


def test_private_use_marks_in_the_page_do_not_confuse_the_headings():
    from tracker.text.html import page_layout

    _, text, headings = page_layout("<p>a\ue003b\ue00fc</p><h2>标题</h2>")
    assert text == "abc\n标题" and [(h.start, h.end, h.level) for h in headings] == [(4, 6, 2)]


def test_lists_of_links_are_marked_a_lone_link_in_a_sentence_is_not():
    from tracker.text.html import LINKS, page_layout

    markup = ("<nav><a>首页</a> | <a>往期</a></nav><ul><li><a>光伏板价格</a></li><li><a>储能站</a></li></ul>"
              "<p>正文里有<a>一个链接</a>。</p><p><a>单独一行的链接</a></p><p>又一段正文。</p>")
    _, text, headings = page_layout(markup)
    assert text == "首页 | 往期\n光伏板价格\n储能站\n正文里有一个链接。\n单独一行的链接\n又一段正文。"
    assert [text[h.start:h.end] for h in headings if h.level == LINKS] == ["首页 | 往期", "光伏板价格", "储能站"]
