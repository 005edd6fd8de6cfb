"""The matcher: rule logic on texts we write, and the seed pages' counts."""

import pytest

from tracker.documents import Document
from tracker.matching import Matcher
from tracker.rules import Near, Rule

THEMES = {"专业镇": 94, "标准地": 6, "绿电": 14, "营商环境": 32, "招商引资": 18, "乡村振兴": 8,
          "整村授信": 3}


def rule(**kw) -> Rule:
    kw.setdefault("id", "r")
    kw.setdefault("name", "R")
    kw["keywords"] = tuple(kw.get("keywords", ()))
    for key in ("all", "exclude", "sources", "fields", "near"):
        if key in kw:
            kw[key] = tuple(kw[key])
    return Rule(**kw)


def hits(rules, text, title=None, source=None):
    found = Matcher(rules).match(Document("t", text, "text", title=title, source=source))
    return [(f.rule.id, [h.keyword for h in f.occurrences]) for f in found]


# (rule, text, expected keywords hit; [] when the rule must not fire)
CASES = [
    (rule(keywords=["标准地"]), "今年出让标准地12宗。", ["标准地"]),
    (rule(keywords=["标准地"]), "执行国家标准地方标准。", []),
    (rule(keywords=["标准地"], match="substring"), "执行国家标准地方标准。", ["标准地"]),
    (rule(keywords=["专业镇"]), "推动专\n业镇上规模。", ["专业镇"]),
    (rule(keywords=["专业镇"]), "推動專業鎮發展。", ["专业镇"]),
    (rule(keywords=["绿电", "绿电交易"]), "开展绿电交易。", ["绿电交易"]),
    (rule(keywords=["标准地"], all=["出让"]), "标准地改革。", []),
    (rule(keywords=["标准地"], all=["出让"]), "标准地改革，出让3宗。", ["标准地"]),
    (rule(keywords=["标准地"], exclude=["试点"]), "标准地试点。", []),
    (rule(keywords=["营商环境"], fields=["title"]), "优化营商环境。", []),
    (rule(keywords=["风光"], near=[Near(("风光",), ("光伏", "风电"), 10)]),
     "此地风光秀丽，游人如织。", []),
    (rule(keywords=["风光"], near=[Near(("风光",), ("光伏", "风电"), 10)]),
     "建设风光储一体化项目，光伏装机100万千瓦。", ["风光"]),
    (rule(keywords=["风光"], near=[Near(("风光",), ("光伏",), 3)]),
     "风光无限好。又一段话，这里讲光伏。", []),
    (rule(keywords=["新能源"], near=[Near(("风光",), ("基地",), 5)]),
     "新能源发展。风光大基地开工。", ["新能源"]),
    (rule(keywords=["新能源"], near=[Near(("风光",), ("基地",), 5)]),
     "新能源发展。风光好，远处的远处的远处才是基地。", []),
    (rule(keywords=["AI"]), "发展AI产业", ["AI"]),
    (rule(keywords=["AI"]), "FAIR play", []),
    (rule(keywords=["ai"]), "ＡＩ赋能", ["ai"]),
    (rule(keywords=["5G"]), "建设5G基站", ["5G"]),
    (rule(keywords=["5G"]), "建设15G基站", []),
]


@pytest.mark.parametrize("r,text,expected", CASES)
def test_rule_logic(r, text, expected):
    got = hits([r], text)
    assert got == ([("r", expected)] if expected else [])


def test_fields_and_titles():
    r = rule(keywords=["营商环境"], fields=["title"])
    assert hits([r], "正文没有。", title="优化营商环境") == [("r", ["营商环境"])]
    found = Matcher([rule(keywords=["营商环境"])]).match(
        Document("t", "正文讲营商环境。", "text", title="标题营商环境"))
    assert [h.field for h in found[0].occurrences] == ["title", "body"]
    assert found[0].title == "标题营商环境"


def test_title_and_body_are_not_joined_into_one_word():
    assert hits([rule(keywords=["专业镇"])], "镇上很热闹。", title="发展专业") == []


def test_sources_limit_a_rule():
    r = rule(keywords=["绿电"], sources=["sxrb"])
    assert hits([r], "使用绿电。", source="jzrb") == []
    assert hits([r], "使用绿电。", source="sxrb") == [("r", ["绿电"])]


def test_only_rules_with_a_candidate_are_reported_and_in_order():
    rules = [rule(id=f"r{i}", keywords=[k]) for i, k in enumerate(["绿电", "专业镇", "标准地"])]
    assert hits(rules, "专业镇用绿电。") == [("r0", ["绿电"]), ("r1", ["专业镇"])]


def test_no_rules_and_empty_text():
    assert Matcher([]).match(Document("t", "专业镇", "text")) == []
    assert Matcher([rule(keywords=["专业镇"])]).match(Document("t", "", "text")) == []


def test_snippet_comes_from_the_page_with_the_hit_marked():
    found = Matcher([rule(keywords=["乡村振兴"])]).match(
        Document("t", "第一句。全面推进乡村振\n兴，加快农业现代化。", "text"))
    (hit,) = found[0].occurrences
    assert hit.snippet.marked() == "全面推进【乡村振兴】，加快农业现代化。"
    assert found[0].text[hit.start:hit.end] == "乡村振\n兴"


def test_seed_texts_reproduce_the_readme_counts(seed_texts):
    rules = [rule(id=f"s{i}", name=k, keywords=[k]) for i, k in enumerate(THEMES)]
    matcher = Matcher(rules)
    counts = dict.fromkeys(THEMES, 0)
    for name, text in seed_texts.items():
        for found in matcher.match(Document(name, text, "text")):
            counts[found.rule.name] += len(found.occurrences)
    assert counts == THEMES


def test_a_body_snippet_does_not_run_into_the_headline():
    text = ("全省首批绿电产业园获批\n本报讯 日前，某高新区获批绿电产业园试点。"
            "园区将建设分布式光伏，企业用上更便宜的电，带动一批新项目落地投产。\n")
    found = Matcher([rule(keywords=["绿电"])]).match(Document("t", text, "text"))
    snippets = {h.field: h.snippet.marked() for f in found for h in f.occurrences}
    assert found[0].title == "全省首批绿电产业园获批"
    assert snippets == {"title": "全省首批【绿电】产业园获批",
                        "body": "本报讯日前，某高新区获批【绿电】产业园试点。"}
    assert found[0].occurrences[1].snippet.after == "产业园试点。"


def test_a_snippet_cut_does_not_fall_inside_a_word_broken_by_the_layout():
    """The passage may start 40 characters before the hit: there 乡村振兴 is broken across a line
    (乡村振 / 兴); the cut moves to a word boundary, never right after the line break."""
    from tracker.documents import Document

    head = "开头一句。我们正在大力推进乡村振\n"
    tail = "兴工作并且" + "持续建设新型的农村基础设施以及配套的公共服务体系同时还要再进一步地" + "加快光伏发电"
    text = head + tail
    start = text.index("光伏")
    assert start - 40 == text.index("兴")
    matcher = Matcher([Rule(id="r", name="r", keywords=("光伏",))])
    (found,) = matcher.match(Document("d", text, "article"))
    (hit,) = found.occurrences
    before = hit.snippet.before
    assert before.startswith("…") and not before.startswith("…兴") and not before.startswith("…振")


def test_furniture_inside_one_article_is_no_hit_and_no_snippet():
    """A feed entry or e-paper article: its byline and its 查看原文 link are not its text."""
    text = "本报记者 光伏\n今年全市新建光伏电站三座。\n阅读原文：光伏新闻网"
    matcher = Matcher([Rule(id="r", name="r", keywords=("光伏",))])
    (found,) = matcher.match(Document("d", text, "feed-entry", title="光伏电站建成"))
    assert [(h.field, h.snippet.marked()) for h in found.occurrences] == [
        ("title", "【光伏】电站建成"), ("body", "今年全市新建【光伏】电站三座。")]
