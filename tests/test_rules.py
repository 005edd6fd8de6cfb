"""Rule files: the format, every problem reported as file:line, and the schema agreeing."""

import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml

from tracker.rules import Near, RulesError, check_rules, load_rules, parse_rules_text

REPO = Path(__file__).resolve().parents[1]
SCHEMA = json.loads(resources.files("tracker.rules").joinpath("rule.schema.json").read_text())

ONE_RULE = """\
id: biaozhundi
name: 标准地
keywords: [标准地]
"""

GOOD = [
    ONE_RULE,
    "rules:\n  - {id: a, name: A, keywords: [x]}\n  - {id: b, name: B, keywords: y}\n",
    "id: c\nname: C\nkeywords: [2024]\nall: [出让]\nexclude: 国家标准\nfields: title\nmatch: substring\n",
    "id: d\nname: D\nkeywords: [风光]\nnear:\n  - {term: 风光, with: [光伏, 风电], within: 30}\n"
    "sources: [sxrb, jzrb]\n",
    "id: e\nname: E\nkeywords: [风光]\nnear: {term: [风光], with: 基地, within: 5}\n",
]

# (text, line of the first problem, words the message must contain)
BAD = [
    ("id: a\nname: A\nkeywords: []\n", 3, "`keywords` is empty"),
    ("id: a\nname: A\nkeywords: [x]\nkeywrods: [y]\n", 4, "did you mean `keywords`"),
    ("id: a\nname: A\n", 1, "lacks `keywords`"),
    ("id: Not A Slug\nname: A\nkeywords: [x]\n", 1, "must be a slug"),
    ("rules:\n  - id: a\n    name: A\n\tkeywords: [x]\n", 4, "tab"),
    ("id: a\nname: A\nkeywords: [x\n", 4, "bad YAML"),
    ("id: a\nname: A\nkeywords: [x]\nmatch: fuzzy\n", 4, "word or substring"),
    ("id: a\nname: A\nkeywords: [x]\nfields: [title, boddy]\n", 4, "not boddy"),
    ("id: a\nname: A\nkeywords: [x]\nnear: [{term: x, with: [y]}]\n", 4, "lacks `within`"),
    ("id: a\nname: A\nkeywords: [x]\nnear: [{term: x, with: [y], within: 0}]\n", 4, "from 1 to"),
    ("id: a\nname: A\nkeywords: ['  ']\n", 3, "empty entry"),
    ("id: a\nid: b\nname: A\nkeywords: [x]\n", 2, "given twice"),
    ("- id: a\n", 1, "must be a mapping"),
    ("rules: []\n", 1, "empty list"),
    ("", 1, "holds no rule"),
]


@pytest.mark.parametrize("text", GOOD)
def test_good_files_load_and_agree_with_the_schema(text):
    rules, problems = parse_rules_text(text, "r.yaml")
    assert problems == [] and rules
    jsonschema.validate(yaml.safe_load(text), SCHEMA)


@pytest.mark.parametrize("text,line,words", BAD)
def test_bad_files_say_where_and_what(text, line, words):
    rules, problems = parse_rules_text(text, "r.yaml")
    assert rules == []
    assert problems, "a bad file must report a problem"
    assert problems[0].line == line, problems
    assert words in problems[0].message
    assert str(problems[0]).startswith(f"r.yaml:{line}: ")


@pytest.mark.parametrize("text,line,words", [b for b in BAD if "bad YAML" not in b[2]
                                             and "tab" not in b[2] and "twice" not in b[2]])
def test_the_schema_rejects_what_the_checker_rejects(text, line, words):
    data = yaml.safe_load(text)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, SCHEMA)


def test_rule_fields_are_read():
    text = GOOD[3]
    (rule,), _ = parse_rules_text(text, "r.yaml")
    assert rule.id == "d" and rule.keywords == ("风光",)
    assert rule.near == (Near(("风光",), ("光伏", "风电"), 30),)
    assert rule.sources == ("sxrb", "jzrb") and rule.match == "word"
    assert rule.fields == ("title", "body")
    (rule,), _ = parse_rules_text(GOOD[2], "r.yaml")
    assert rule.keywords == ("2024",) and rule.exclude == ("国家标准",) and rule.fields == ("title",)


def test_duplicate_ids_across_files(tmp_path):
    (tmp_path / "a.yaml").write_text(ONE_RULE, encoding="utf-8")
    (tmp_path / "b.yaml").write_text("rules:\n  - id: other\n    name: O\n    keywords: [o]\n"
                                     "  - id: biaozhundi\n    name: B\n    keywords: [b]\n",
                                     encoding="utf-8")
    rules, problems = check_rules(tmp_path)
    assert [r.id for r in rules] == ["biaozhundi", "other"]
    assert [str(p) for p in problems] == [
        f"{tmp_path / 'b.yaml'}:5: duplicate id `biaozhundi` (first at {tmp_path / 'a.yaml'}:1)"]
    with pytest.raises(RulesError):
        load_rules(tmp_path)


def test_one_bad_file_does_not_hide_the_good_ones(tmp_path):
    (tmp_path / "a.yaml").write_text(ONE_RULE, encoding="utf-8")
    (tmp_path / "b.yml").write_text("id: b\nname: B\nkeywords: []\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a rule file", encoding="utf-8")
    rules, problems = check_rules(tmp_path)
    assert [r.id for r in rules] == ["biaozhundi"]
    assert len(problems) == 1 and problems[0].file.endswith("b.yml")


def test_a_sound_rule_in_a_file_with_a_stray_field_still_loads_but_is_reported():
    rules, problems = parse_rules_text("rules:\n  - {id: a, name: A, keywords: [x]}\nextra: 1\n")
    assert [r.id for r in rules] == ["a"]
    assert problems[0].line == 1 and "nothing else" in problems[0].message


def test_missing_path_and_empty_folder(tmp_path):
    assert "no such file" in check_rules(tmp_path / "nope")[1][0].message
    assert "holds no .yaml" in check_rules(tmp_path)[1][0].message


def test_starter_rules_are_valid_and_described():
    rules = load_rules(REPO / "rules")
    assert {r.id for r in rules} >= {"zhuanyezhen", "biaozhundi", "lvdian", "yingshang-huanjing",
                                     "xinnengyuan"}
    for rule in rules:
        assert len(rule.description) > 20, rule.id
        jsonschema.validate(yaml.safe_load(Path(rule.file).read_text("utf-8")), SCHEMA)
    lvdian = next(r for r in rules if r.id == "lvdian")
    assert {"绿色电力", "绿证"} <= set(lvdian.keywords)


def test_a_folded_description_has_no_stray_spaces_in_chinese():
    text = "id: a\nname: A\nkeywords: [x]\ndescription: >-\n  先定好指标再出让土地，\n  常与承诺制一起出现。 Green\n  Power\n"
    (rule,), _ = parse_rules_text(text)
    assert rule.description == "先定好指标再出让土地，常与承诺制一起出现。Green Power"


# Every place libyaml takes an anchor or alias: the quick look for one before the event scan
# (a text with `&` or `*` only inside words skips the scan) must not miss any of them.
@pytest.mark.parametrize("text", [
    "id: x\nname: &n 名\nkeywords: [a]\n",
    "id: x\nname: 名\nkeywords: [&k a, *k]\n",
    "id: x\nname: 名\nkeywords: [ a,&k b, *k ]\n",
    "{id: x, name: &n 名, keywords: [*n]}\n",
    '{"id": "x", "name":&n "名", "keywords": [*n]}\n',
    "id: x\nname: 名\nkeywords:\n- &k a\n- *k\n",
    "&r\nid: x\nname: 名\nkeywords: [a]\n",
    "--- &r\nid: x\nname: 名\nkeywords: [a]\n",
    "id: x\nname: !!str &n 名\nkeywords: [*n]\n",
    "id: x\nname: 名\nkeywords:\n  -\n    &k a\n",
    "\ufeff&r {id: x, name: 名, keywords: [a]}\n",
])
def test_anchors_are_refused_wherever_yaml_takes_them(text):
    rules, problems = parse_rules_text(text, "r.yaml")
    assert not rules
    assert problems and "anchors and aliases are not accepted" in str(problems[0])


def test_ampersands_and_stars_inside_words_load_as_text():
    rules, problems = parse_rules_text("rules:\n  - {id: a, name: AT&T, keywords: [AT&T, a*b]}\n"
                                       "  - {id: b, name: 乘, keywords: ['*乘', \"&与\"]}\n")
    assert not problems
    assert [r.keywords for r in rules] == [("AT&T", "a*b"), ("*乘", "&与")]
