"""The match key: full-width, traditional, broken lines; offsets back to the page; snippets."""

import pytest

from tracker.text.normalize import normalize, normalize_term, readable, snippet

KEYS = [
    # (page text, match key)
    ("乡村振\n兴", "乡村振兴"),
    ("整\n村授信", "整村授信"),
    ("招\n\n商引资", "招商引资"),
    ("专 业 镇", "专业镇"),
    ("2024 年", "2024年"),
    ("ＡＢＣ１２３", "abc123"),
    ("專業鎮 綠電 營商環境", "专业镇绿电营商环境"),
    ("Green\nPower", "green power"),
    ("标准地 + 承诺制", "标准地+承诺制"),
    ("  leading and trailing  ", "leading and trailing"),
    ("", ""),
    ("㈱ 株式…", "㈱株式…"),  # punctuation and symbols NFKC would spell out stay whole
    ("ﬁnance", "finance"),  # a letter that NFKC makes longer keeps its offsets
    ("专业\u200b镇 标准\u00ad地 绿\ufeff电", "专业镇标准地绿电"),  # invisible, inside words
]


@pytest.mark.parametrize("text,key", KEYS)
def test_key(text, key):
    norm = normalize(text)
    assert norm.key == key


@pytest.mark.parametrize("text", [t for t, _ in KEYS])
def test_offsets_point_at_the_character_each_key_character_came_from(text):
    norm = normalize(text)
    for k, ch in enumerate(norm.key):
        at = norm.offset(k)
        assert ch in normalize(text[at]).key or (ch == " " and text[at].isspace())


def test_source_span_covers_a_word_broken_across_lines():
    text = "推动乡村振\n兴战略"
    norm = normalize(text)
    k = norm.key.index("乡村振兴")
    s, e = norm.source_span(k, k + 4)
    assert text[s:e] == "乡村振\n兴"


def test_terms_fold_like_text():
    assert normalize_term(" 綠色 電力 ") == "绿色电力"
    assert normalize_term("ＧＤＰ") == "gdp"


def test_readable_joins_chinese_and_keeps_latin_spaces():
    assert readable("金融助\n镇 诚意\n\nGreen\nPower") == "金融助镇诚意Green Power"


def test_snippet_marks_the_hit_in_the_page_own_characters():
    text = "開篇一句。推动特色專\n業鎮高质量发展，带动就业。"
    s = text.index("專")
    snip = snippet(text, s, s + 4)
    assert snip.hit == "專業鎮"
    assert snip.marked() == "推动特色【專業鎮】高质量发展，带动就业。"


def test_snippet_stays_inside_its_article_and_says_when_it_is_cut():
    text = "甲" * 100 + "专业镇" + "乙" * 100
    s = text.index("专业镇")
    snip = snippet(text, s, s + 3, lo=90, hi=120, width=40)
    assert (snip.before, snip.after) == ("甲" * 10, "乙" * 17)
    snip = snippet(text, s, s + 3, lo=0, hi=len(text), width=40)
    assert (snip.before, snip.after) == ("…" + "甲" * 40, "乙" * 40 + "…")
