"""Is a keyword a word of its sentence? The cases the issue names, and our own."""

import pytest

from tracker.matching.words import KEYWORD_FREQ, WordSegmenter, latin_edges_ok

KEYWORDS = ["专业镇", "标准地", "绿电", "和服", "营商环境", "招商引资", "乡村振兴", "整村授信", "绿证"]

# (sentence, keyword, is it a word there?)
CASES = [
    ("出让标准地12宗", "标准地", True),
    ("标准地+承诺制", "标准地", True),
    ("供应标准地", "标准地", True),
    ("工业用地按标准地出让", "标准地", True),
    ("国家标准地方标准", "标准地", False),
    ("执行国家标准地方标准和行业标准", "标准地", False),
    ("按标准地区分", "标准地", False),
    ("标准地图", "标准地", False),
    ("标准地址", "标准地", False),
    ("穿和服的人", "和服", True),
    ("和服务", "和服", False),
    ("和服装", "和服", False),
    ("专业镇内的企业", "专业镇", True),
    ("推动专业镇上规模", "专业镇", True),
    ("专业镇是", "专业镇", True),
    ("打造特色专业镇", "专业镇", True),
    ("绿电产业园", "绿电", True),
    ("使用绿电", "绿电", True),
    ("绿电交易", "绿电", True),
    ("不是绿电视", "绿电", False),
    ("绿证交易", "绿证", True),
    ("优化营商环境", "营商环境", True),
    ("加大招商引资力度", "招商引资", True),
    ("全面推进乡村振兴", "乡村振兴", True),
    ("开展整村授信", "整村授信", True),
]


@pytest.fixture(scope="module")
def segmenter():
    return WordSegmenter(KEYWORDS)


def is_word(segmenter, sentence, keyword):
    cuts = segmenter.boundaries(sentence)
    start = sentence.index(keyword)
    return start in cuts and start + len(keyword) in cuts


@pytest.mark.parametrize("sentence,keyword,expected", CASES)
def test_keyword_is_a_word_of_the_sentence(segmenter, sentence, keyword, expected):
    assert is_word(segmenter, sentence, keyword) is expected, segmenter.cut(sentence)


@pytest.mark.parametrize("freq", [40, 150])
def test_the_answers_hold_across_the_documented_range(freq):
    segmenter = WordSegmenter(KEYWORDS, keyword_freq=freq)
    assert [is_word(segmenter, s, k) for s, k, _ in CASES] == [e for _, _, e in CASES]


def test_jiebas_minimal_weight_is_too_weak_and_a_huge_one_too_strong():
    weak = WordSegmenter(KEYWORDS, keyword_freq=1)
    assert not is_word(weak, "推动专业镇上规模", "专业镇")
    strong = WordSegmenter(KEYWORDS, keyword_freq=100_000)
    assert is_word(strong, "按标准地区分", "标准地")
    assert 40 <= KEYWORD_FREQ <= 150


@pytest.mark.parametrize("text,start,end,expected", [
    ("fair play", 1, 3, False),
    ("ai产业", 0, 2, True),
    ("发展ai", 2, 4, True),
    ("aid", 0, 2, False),
    ("5g基站", 0, 2, True),
    ("15g基站", 1, 3, False),
])
def test_latin_words_are_not_cut(text, start, end, expected):
    assert latin_edges_ok(text, start, end) is expected


def test_boundaries_cover_the_text(segmenter):
    text = "推动专业镇上规模, AI产业2024年"
    cuts = segmenter.boundaries(text)
    assert 0 in cuts and len(text) in cuts
    assert "".join(segmenter.cut(text)) == text


def test_same_cut_as_python_jieba_with_the_same_dictionary():
    """rjieba stands in for jieba: on the same words it must cut the same way."""
    jieba = pytest.importorskip("jieba")
    tokenizer = jieba.Tokenizer()
    segmenter = WordSegmenter(KEYWORDS)
    for word in KEYWORDS:
        tokenizer.add_word(word, max(tokenizer.suggest_freq(word), KEYWORD_FREQ))
    for sentence, _, _ in CASES:
        assert list(tokenizer.cut(sentence, HMM=False)) == segmenter.cut(sentence)


def test_cutting_only_the_blocks_near_candidates_gives_the_same_words(segmenter, seed_texts):
    from tracker.matching.words import _BLOCK
    from tracker.text.normalize import normalize

    for text in seed_texts.values():
        key = normalize(text).key
        everywhere = segmenter.boundaries(key)
        offsets = list(range(0, len(key), 7))
        near = segmenter.boundaries_near(key, offsets)
        checked = 0
        for block in _BLOCK.finditer(key):
            a, b = block.span()
            if any(a <= o < b for o in offsets):
                inside = {c for c in everywhere if a <= c <= b}
                assert inside == {c for c in near if a <= c <= b}, key[a:b]
                checked += 1
        assert checked > 10
