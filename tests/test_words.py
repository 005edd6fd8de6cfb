"""Word edges: an occurrence counts unless it straddles a word boundary. The cases the issue
names, a table of our own, and Python jieba as the oracle for the segmentation."""

import pytest

from tracker.documents import Document
from tracker.matching import Matcher
from tracker.matching.words import KEYWORD_FREQ, WordSegmenter, is_whole
from tracker.rules import Rule

KEYWORDS = ["专业镇", "标准地", "绿电", "和服", "营商环境", "招商引资", "乡村振兴", "整村授信", "绿证"]

# (sentence, keyword, does it count there?)
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

# Our own table, matched end to end by a `match: word` rule per keyword:
# (sentence, keyword, hits expected).
ROWS = [
    # A keyword that is a morpheme of a longer word counts.
    ("屋顶上安装了光伏板", "光伏", 1),
    ("园区新建储能站两座", "储能", 1),
    ("招商局集团前来考察", "招商", 1),
    ("乡政府门前的广场", "政府", 1),
    ("大力发展新能源汽车", "能源", 1),
    ("加快城市化进程", "城市", 1),
    ("迎接数字经济时代", "经济", 1),
    ("认定高新技术企业", "技术", 1),
    ("开发区管委会主任", "管委", 1),
    ("小区里装了电动汽车充电桩", "充电", 1),
    ("山顶的风电场", "风电", 1),
    ("水电站发电量", "水电", 1),
    ("市知识产权局发布", "产权", 1),
    ("建设大数据中心", "数据", 1),
    ("农业农村部印发通知", "农村", 1),
    ("国务院办公厅印发", "国务院", 1),
    ("帮助发展中国家", "中国", 1),
    ("北京大学生志愿者", "学生", 1),
    ("专业镇内的企业", "专业镇", 1),
    ("营商环境优化年", "营商", 1),
    # A keyword across a word boundary (it starts or ends inside a word) does not.
    ("执行国家标准地方标准", "标准地", 0),
    ("按标准地区分", "标准地", 0),
    ("一张标准地图", "标准地", 0),
    ("加强管理和服务", "和服", 0),
    ("化妆和服装", "和服", 0),
    ("不是绿电视", "绿电", 0),
    ("乒乓球拍卖完了", "球拍", 0),
    ("结婚的和尚未结婚的", "和尚", 0),
    ("他说的确实在理", "的确", 0),
    ("中国产品质量", "国产", 0),
    ("南京市长江大桥", "市长", 0),
    ("提高人民生活水平", "民生", 0),
    ("坚持以人民为中心", "民为", 0),
    ("马上下来", "上下", 0),
    ("举办人才市场招聘会", "才市", 0),
    ("企业主管部门", "业主", 0),
    ("美国会晤伊朗", "国会", 0),
    # Run-on compounds: the keyword with the words around it.
    ("推动专业镇上规模", "专业镇", 1),
    ("今年标准地出让12宗", "标准地", 1),
    ("营商环境持续优化", "营商环境", 1),
    ("实施乡村振兴战略", "乡村振兴", 1),
    ("开展整村授信工作", "整村授信", 1),
    ("绿电产业园开工", "绿电", 1),
    ("招商引资项目签约", "招商引资", 1),
    ("实现碳达峰碳中和", "碳中和", 1),
    ("光伏储能一体化项目", "储能", 1),
    ("发展新质生产力", "新质生产力", 1),
    ("培育专精特新企业", "专精特新", 1),
    ("深化放管服改革", "放管服", 1),
    ("助力双碳目标", "双碳", 1),
    ("政务服务一网通办", "一网通办", 1),
    ("专业镇专业镇专业镇", "专业镇", 3),
    # Scripts written with spaces: a run of letters, digits and marks is one word.
    ("le café est ouvert", "café", 1),
    ("deux cafés noirs", "café", 0),
    ("du décaféiné", "café", 0),
    ("привет, мир", "привет", 1),
    ("приветствие", "привет", 0),
    ("price in euro € only", "euro €", 1),
    ("neuro € fund", "euro €", 0),
    ("η Ελλάδα σήμερα", "ελλάδα", 1),
    ("a naïve approach", "naïve", 1),
    ("Straße in Berlin", "straße", 1),
    ("Ökologie", "öko", 0),
    ("öko-strom", "öko", 1),
    ("fair play", "ai", 0),
    ("发展ai产业", "ai", 1),
    ("aid", "ai", 0),
    ("建设5g基站", "5g", 1),
    ("15g基站", "5g", 0),
    ("新开的café品牌", "café", 1),
    ("東京タワーに行く", "タワー", 1),
]


@pytest.fixture(scope="module")
def segmenter():
    return WordSegmenter(KEYWORDS)


def is_word(segmenter, sentence, keyword):
    start = sentence.index(keyword)
    return is_whole(sentence, start, start + len(keyword), segmenter.boundaries(sentence))


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


@pytest.fixture(scope="module")
def table_matcher():
    keywords = sorted({k for _, k, _ in ROWS})
    return Matcher([Rule(id=f"w{i}", name=k, keywords=(k,)) for i, k in enumerate(keywords)])


def test_the_table_has_rows_of_every_kind():
    assert len(ROWS) >= 60
    assert sum(e == 0 for _, _, e in ROWS) >= 20 and sum(e > 0 for _, _, e in ROWS) >= 30
    assert sum(not k.isascii() and not any("\u4e00" <= c <= "\u9fff" for c in k) for _, k, _ in ROWS) >= 8


@pytest.mark.parametrize("sentence,keyword,expected", ROWS)
def test_word_edges_table(table_matcher, sentence, keyword, expected):
    fired = table_matcher.match(Document("row", sentence, "article"))
    hits = [h for m in fired if m.rule.name == keyword for h in m.occurrences]
    assert len(hits) == expected, table_matcher._segmenter.cut(sentence)
    assert all(sentence[h.start:h.end].lower() == keyword for h in hits)


def test_substring_mode_finds_every_row():
    """`match: substring` is unchanged: every occurrence counts, straddles too."""
    keywords = sorted({k for _, k, _ in ROWS})
    matcher = Matcher([Rule(id=f"s{i}", name=k, keywords=(k,), match="substring")
                       for i, k in enumerate(keywords)])
    for sentence, keyword, _ in ROWS:
        fired = matcher.match(Document("row", sentence, "article"))
        hits = [h for m in fired if m.rule.name == keyword for h in m.occurrences]
        assert len(hits) == sentence.lower().count(keyword), sentence


def test_python_jieba_agrees_on_every_chinese_row(table_matcher):
    """The oracle: Python jieba with the same keywords in its dictionary cuts each sentence; an
    occurrence straddles when a cut falls inside it while an end lies inside a word."""
    jieba = pytest.importorskip("jieba")
    tokenizer = jieba.Tokenizer()
    keywords = sorted({k for _, k, _ in ROWS})
    for word in keywords:
        if len(word) > 1:
            tokenizer.add_word(word, max(tokenizer.suggest_freq(word), KEYWORD_FREQ))
    checked = 0
    for sentence, keyword, expected in ROWS:
        if not any("\u4e00" <= c <= "\u9fff" for c in keyword):
            continue
        cuts, pos = {0}, 0
        for word in tokenizer.cut(sentence, HMM=False):
            pos += len(word)
            cuts.add(pos)
        start = sentence.index(keyword)
        end = start + len(keyword)
        straddles = any(start < c < end for c in cuts) and not (start in cuts and end in cuts)
        assert straddles is (expected == 0), (sentence, list(tokenizer.cut(sentence, HMM=False)))
        checked += 1
    assert checked >= 45


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


def test_matchers_for_the_same_keywords_share_one_dictionary_and_others_get_their_own():
    """jieba's dictionary is loaded once per set of keywords (tracker.matching.words._jieba):
    a segmenter built again for them reuses it; one for other keywords knows only its own."""
    first, again = WordSegmenter(["标准地", "专业镇"]), WordSegmenter(["专业镇", "标准地", "标"])
    other = WordSegmenter(["按标准"])
    assert first._jieba is again._jieba and other._jieba is not first._jieba
    assert "标准地" in first.cut("出让标准地十二宗") and "标准地" not in other.cut("出让标准地十二宗")
    assert "按标准" in other.cut("按标准执行") and "按标准" not in first.cut("按标准执行")
