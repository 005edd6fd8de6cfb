"""The match key: full-width, traditional, broken lines; offsets back to the page; snippets."""

import pytest

from tracker.text.normalize import normalize, normalize_term, readable
from tracker.text.snippets import sentence_ends, snippet

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
    assert snip.occurrence == "專業鎮"
    assert snip.marked() == "推动特色【專業鎮】高质量发展，带动就业。"


def test_snippet_stays_inside_its_article_and_says_when_it_is_cut():
    text = "甲" * 100 + "专业镇" + "乙" * 100
    s = text.index("专业镇")
    snip = snippet(text, s, s + 3, lo=90, hi=120, width=40)
    assert (snip.before, snip.after) == ("甲" * 10, "乙" * 17)
    snip = snippet(text, s, s + 3, lo=0, hi=len(text), width=40)
    assert (snip.before, snip.after) == ("…" + "甲" * 40, "乙" * 40 + "…")


def test_one_sentence_with_three_hits_reads_the_same_for_each():
    text = "开头一句。光伏板、光伏电站和光伏扶贫项目同步推进。结尾一句。"
    spans = [(m.start(), m.end()) for m in __import__("re").finditer("光伏", text)]
    passages = {snippet(text, a, b, others=spans).marked() for a, b in spans}
    assert passages == {"【光伏】板、【光伏】电站和【光伏】扶贫项目同步推进。"}


def test_hits_in_two_sentences_give_two_passages():
    text = "光伏板装上了屋顶。储能站也建成了。"
    spans = [(0, 2), (9, 11)]
    assert [snippet(text, a, b, others=spans).marked() for a, b in spans] == [
        "【光伏】板装上了屋顶。", "【储能】站也建成了。"]


def test_a_cut_falls_between_words_not_inside_one():
    """The window would start inside 太原: the cut moves to the next word boundary."""
    text = "本报太原4月8日讯" + "记者调查发现全省上下大力发展清洁能源建设了很多新的" + "储能电站"
    start = text.index("储能")
    words = {0, 2, 4, 5, 6, 7, 8, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 28, 29, 31, 33, 35}

    def cutter(a: int, b: int) -> set[int]:
        return {c for c in words if a <= c <= b}

    snip = snippet(text, start, start + 2, width=31, words=cutter)
    assert snip.before.startswith("…") and not snip.before.startswith("…原")
    assert snip.before[1:] == text[4:start]


def test_a_cut_prefers_clause_punctuation():
    text = "甲" * 30 + "，我省大力发展光伏产业，" + "乙" * 50
    start = text.index("光伏")
    snip = snippet(text, start, start + 2, width=20)
    assert snip.marked() == "…我省大力发展【光伏】产业…"


def test_a_passage_never_leaves_its_span():
    text = "第一篇的句子没有句号" + "光伏产业的第二篇文章。"
    start = text.index("光伏")
    snip = snippet(text, start, start + 2, lo=start, hi=len(text))
    assert snip.marked() == "【光伏】产业的第二篇文章。"


def test_a_page_is_converted_and_normalised_once_on_its_way_to_the_store(monkeypatch):
    """Traditional page → articles → matcher: every character goes through t2s once (the page,
    then each title on its own) and each article's text through the fold once; the keys the
    store keeps are the ones the matcher made."""
    import tracker.text.normalize as norm
    from tracker.splitter import page_articles
    from tracker.documents import Document
    from tracker.matching import Matcher
    from tracker.rules import Rule

    page = "\n\n".join(["山城推出十項便民新舉措", "近日，山城市推出十項便民舉措，專業鎮建設提速。",
                        "河谷縣新建三座污水處理廠", "今年以來，河谷縣加快補齊環保短板，專業鎮發展迅速。"]) + "\n"
    matcher = Matcher([Rule(id="r", name="r", keywords=("专业镇",))])
    converted, folded = [], []
    simplify, fold = norm._simplify, norm._fold_chars
    monkeypatch.setattr(norm, "_simplify", lambda text: converted.append(text) or simplify(text))
    monkeypatch.setattr(norm, "_fold_chars", lambda text: folded.append(text) or fold(text))
    articles = page_articles(Document("page.txt", page, "text"))
    fired = matcher.match_many(articles)
    assert [m.title for found in fired for m in found] == ["山城推出十項便民新舉措", "河谷縣新建三座污水處理廠"]
    assert sum(map(len, converted)) == len(page) + sum(len(a.title) for a in articles)
    assert len(folded) == 2 * len(articles)  # each title once, each text once
    for article in articles:  # again: nothing more is worked out
        assert article.text_key() is article.text_key() and article.title_key() is article.title_key()
    assert len(folded) == 2 * len(articles)


def test_the_end_cut_falls_between_words_too():
    text = "光伏，" + "丙" * 38 + "太原市" + "丁" * 20
    words = {0, 2, 3} | set(range(4, 42)) | {44, 45}

    def cutter(a: int, b: int) -> set[int]:
        return {c for c in words if a <= c <= b}

    snip = snippet(text, 0, 2, width=40, words=cutter)
    assert snip.after.endswith("…") and "太原" not in snip.after and not snip.after.endswith("太…")


def test_snippet_with_the_text_sentence_ends_given_cuts_the_same_passages(seed_texts):
    """The matcher hands `snippet` the sentence ends it worked out once per page: every passage
    must come out as if `snippet` had looked for them itself (seed pages, hits all over them,
    fields of all sizes, other hits around, the article edges cutting sentences)."""
    compared = 0
    for text in seed_texts.values():
        ends = sentence_ends(text)
        n = len(text)
        for start in range(0, n - 6, 37):
            end = start + 2 + start % 5
            others = [(start, end), (max(0, start - 11), max(0, start - 9)), (end + 3, end + 5)]
            for lo, hi in ((0, n), (max(0, start - 50), min(n, end + 7)), (start, end)):
                plain = snippet(text, start, end, lo=lo, hi=hi, others=others)
                given = snippet(text, start, end, lo=lo, hi=hi, others=others, sentence_ends=ends)
                assert given == plain, (start, end, lo, hi)
                compared += 1
    assert compared > 1000


def test_the_stored_fold_class_is_what_the_unicode_data_gives():
    """tracker/text/fold_chars.py (read at start instead of working out the class over the whole
    BMP) is what `python -m tracker.text.normalize` makes from this Python's Unicode data."""
    import unicodedata
    from pathlib import Path

    from tracker.text import fold_chars, normalize

    if fold_chars.UNIDATA_VERSION != unicodedata.unidata_version:
        pytest.skip(f"fold_chars.py is for Unicode {fold_chars.UNIDATA_VERSION}, this Python has "
                    f"{unicodedata.unidata_version}: the class is worked out at start instead")
    stored = Path(fold_chars.__file__).read_text(encoding="utf-8")
    assert stored == normalize.fold_chars_module(), \
        "run: python -m tracker.text.normalize > tracker/text/fold_chars.py"
    assert normalize._needs_more_than_lower().pattern == normalize.needs_more_than_lower_class()
