"""A rule file's or sources.yaml's problem is said in Chinese by its code (tracker.web.problems),
never by reading the readers' English: every code the readers can produce has its sentence,
rewording the English changes nothing, and only third parties' English (PyYAML, RE2,
APScheduler) is matched by pattern."""

from __future__ import annotations

import ast
import dataclasses
import string
from html import unescape
from pathlib import Path

import pytest

from conftest import csrf_token
from test_web_messages import english_outside_code
from tracker.rules import parse_file, parse_rules_text, read_rule_set
from tracker.rules import load, plain, regex
from tracker.sources import catalog
from tracker.sources.catalog import parse_sources_text
from tracker.web import admin_sources, problems
from tracker.yamlcheck import Problem

ROOT = Path(__file__).resolve().parents[1] / "tracker"
RULE_CODES = load.CODES
SOURCE_CODES = {**catalog.CODES, **admin_sources.CODES}
# The files whose calls make problems, and the codes they may use.
PRODUCERS = {
    "rules": (("yamlcheck.py", "rules/load.py", "rules/regex.py", "web/rule_files.py",
               "web/admin_rules.py"), RULE_CODES),
    "sources": (("yamlcheck.py", "sources/catalog.py", "web/admin_sources.py"), SOURCE_CODES),
}


def codes_made_in(path: Path) -> set[str]:
    """The code of every problem made in `path`: `self.problem(node, CODE, …)`,
    `self.add(line, CODE, …)`, `_problem(line, CODE, …)`, `PatternProblem(CODE, …)` and
    `Problem(…, code=CODE)` (read from the syntax tree, not from any English). A code passed
    on from a variable (NodeReader.add's own Problem, a PatternProblem's) is counted where it
    was written."""
    found = set()
    for call in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(call, ast.Call):
            continue
        name = getattr(call.func, "attr", None) or getattr(call.func, "id", None)
        arg = {"problem": 1, "add": 1, "_problem": 1, "PatternProblem": 0}.get(name)
        if arg is not None and len(call.args) > arg and isinstance(call.args[arg], ast.Constant):
            found.add(call.args[arg].value)
        for keyword in call.keywords:
            if name == "Problem" and keyword.arg == "code" and isinstance(keyword.value,
                                                                          ast.Constant):
                found.add(keyword.value.value)
    return found


@pytest.mark.parametrize("reader", PRODUCERS)
def test_the_code_lists_are_what_the_readers_make(reader):
    files, codes = PRODUCERS[reader]
    made = set().union(*(codes_made_in(ROOT / f) for f in files))
    assert made - set(codes) == set(), "codes made but not listed"
    assert set(codes) - made == set(), "codes listed but never made"


def test_every_code_has_its_chinese_and_nothing_else_does():
    assert set(problems.RULE) == set(RULE_CODES)
    assert set(problems.SOURCE) == set(SOURCE_CODES)
    assert set(regex.CODES) <= set(RULE_CODES)


@pytest.mark.parametrize("table, codes", [(problems.RULE, RULE_CODES),
                                          (problems.SOURCE, SOURCE_CODES)])
def test_each_sentence_uses_only_its_codes_fields(table, codes):
    derived = {"reason", "hint"}
    for code, template in table.items():
        used = {name for _, name, _, _ in string.Formatter().parse(template) if name}
        assert used <= set(codes[code]) | derived, (code, used)


def sample(code: str, codes: dict) -> Problem:
    """A problem of `code` with every field given a plain value, and English nobody reads."""
    values = {"limit": 20, "count": 3, "first_line": 4, "tab": False, "check": "loopback",
              "host": "localhost"}
    fields = {name: values.get(name, "x-y") for name in codes[code]}
    return Problem("f.yaml", 2, "Completely different words.", code=code, fields=fields)


@pytest.mark.parametrize("code", sorted(RULE_CODES))
def test_every_rule_code_comes_out_chinese(code):
    said = problems.rule_problem(sample(code, RULE_CODES), detail=False)
    assert said != problems.RULE_GENERAL and "{" not in said.replace("{m,n}", "")
    assert not english_outside_code(said), said


@pytest.mark.parametrize("code", sorted(SOURCE_CODES))
def test_every_source_code_comes_out_chinese(code):
    said = problems.source_problem(sample(code, SOURCE_CODES), detail=False)
    assert said != problems.SOURCE_GENERAL and "{" not in said
    assert not english_outside_code(said), said


RULE_TEXTS = [
    ("id: 'Lv Dian!'\nname: 绿电\nkeywords: [绿电]\n", "not_slug", "规则 id “Lv Dian!” 不合格"),
    ("id: lvdian\nname: 绿电\nkeywords: [绿电, 绿色电力\n", "bad_yaml", "方括号"),
    ("id: lvdian\nname: 绿电\nkeywords:\n\t- 绿电\n", "bad_yaml", "制表符"),
    ("id: lvdian\nname: 绿电\nkeywords: x\n  y: z\n", "bad_yaml", "多了冒号"),
    ("id: lvdian\nkeywords: [绿电]\n", "lacks", "缺少 `name`"),
    ("id: lvdian\nname: 绿电\nkeywords: []\n", "empty", "`keywords` 是空的"),
    ("id: lvdian\nname: 绿电\nkeywords: [绿电]\nmatch: fuzzy\n", "match_mode", "word 或 substring"),
    ("id: lvdian\nname: 绿电\nregex: ['(?<=甲市)绿电']\n", "regex_invalid",
     "正则表达式 /(?<=甲市)绿电/ 无法使用：不支持 (?<=…)、(?<!…) 回看"),
    ("id: lvdian\nname: 绿电\nregex: ['(绿)电\\1']\n", "regex_invalid", "不支持反向引用 \\1"),
    ("id: lvdian\nname: 绿电\nregex: ['a*']\n", "regex_matches_empty", "能匹配空文本"),
    ("id: lvdian\nname: 绿电\nkeywords: [绿电]\nkeyword: [绿]\n", "unknown_field",
     "不认识的字段 `keyword`（是不是 `keywords`？）"),
    ("id: lvdian\nname: 绿电\nkeywords: [绿电]\nnear: [{term: 绿电}]\n", "near_lacks",
     "缺少 `with, within`"),
    ("a: &x [绿电]\nb: *x\n", "anchor", "锚点或别名"),
    ("# only a comment\n", "empty_file", "文件里没有规则"),
    ("rules: []\n", "rules_empty", "`rules:` 列表是空的"),
]


@pytest.mark.parametrize("text, code, expected", RULE_TEXTS)
def test_rule_problems_are_chinese_first_with_the_english_after(text, code, expected):
    _, found = parse_rules_text(text, "x.yaml")
    assert found and found[0].code == code
    said = problems.rule_problem(found[0])
    assert expected in said and said.endswith(f"（{found[0].message}）")
    chinese = said[: -len(found[0].message) - 2]
    assert not english_outside_code(chinese), said
    assert problems.rule_problem(found[0], detail=False) == chinese  # public: Chinese alone


@pytest.mark.parametrize("text, code, expected", RULE_TEXTS)
def test_rewording_the_english_changes_no_chinese(text, code, expected):
    """The Chinese follows the code and fields: the same problem with other English (as after
    a rewording) says the same, and a different code with the same English does not."""
    _, found = parse_rules_text(text, "x.yaml")
    reworded = dataclasses.replace(found[0], message="Something else entirely.")
    said = problems.rule_problem(found[0], detail=False)
    assert problems.rule_problem(reworded, detail=False) == said
    other = dataclasses.replace(found[0], code="no_rule_file", fields={})
    assert problems.rule_problem(other, detail=False) == problems.RULE["no_rule_file"]


def test_a_code_nobody_knows_gets_the_general_sentence_never_english_alone():
    odd = Problem("x.yaml", 1, "the id must be a slug", code="from_the_future")
    assert problems.rule_problem(odd, detail=False) == problems.RULE_GENERAL
    assert problems.rule_problem(odd) == f"{problems.RULE_GENERAL}（the id must be a slug）"
    assert problems.source_problem(odd, detail=False) == problems.SOURCE_GENERAL


SOURCES = """\
sources:
  - id: Bad Id
    name: 甲报
    url: ftp://example.cn/x
  - id: b
    name: 乙报
    type: feed
    url: https://example.cn/rss
    schedule: "30 25 * * *"
    timezone: Mars/Base
    days: 40
    colour: red
  - id: c
    name: 丙报
    url: https://example.cn/rss2
  - id: c
    name: 丁报
    url: https://example.cn/rss3
"""


def test_source_problems_are_chosen_by_code():
    _, found = parse_sources_text(SOURCES, "sources.yaml")
    said = {p.code: problems.source_problem(p, detail=False) for p in found}
    assert said["not_slug"] == "id 只能用小写字母、数字、_ 或 -"
    assert said["url_scheme"] == "网址必须以 http:// 或 https:// 开头"
    assert said["unknown_zone"] == "未知的时区 Mars/Base"
    assert said["days_range"] == "天数是 1 到 31 的整数"
    assert said["unknown_field"] == "未知字段 `colour`"
    assert said["duplicate_id"] == "id `c` 重复（第 13 行已有）"
    assert set(said) >= {"not_slug", "url_scheme", "unknown_zone", "days_range", "unknown_field",
                         "duplicate_id", "cron_invalid"}
    for problem in found:
        reworded = dataclasses.replace(problem, message="Reworded.")
        assert problems.source_problem(reworded, detail=False) == said[problem.code]
        assert not english_outside_code(said[problem.code]), said[problem.code]


@pytest.mark.parametrize("schedule, expected", [
    ("30 25 * * *", "抓取时间 30 25 * * * 无法使用：25 超出范围（最大 23）"),
    ("a * * * *", "“a”不是有效的写法"),
    ("*/0 * * * *", "间隔要大于 0"),
    ("5-1 * * * *", "起点不能大于终点"),
    ("* * * foo *", "“foo”不是有效的月份或星期名称"),
])
def test_apschedulers_english_is_matched_by_pattern(schedule, expected):
    text = f"sources:\n  - id: a\n    name: 甲\n    url: https://e.cn/rss\n    schedule: '{schedule}'\n"
    (problem,) = parse_sources_text(text)[1]
    assert problem.code == "cron_invalid" and problem.fields["schedule"] == schedule
    assert expected in problems.source_problem(problem, detail=False)


def test_third_party_english_not_recognised_still_says_chinese():
    for code, fields in [("bad_yaml", {"detail": "a new PyYAML sentence", "tab": False}),
                         ("regex_invalid", {"pattern": "x", "detail": "a new RE2 sentence"}),
                         ("cron_invalid", {"schedule": "x", "detail": "a new APScheduler one"})]:
        problem = Problem("f", 1, "whatever", code=code, fields=fields)
        said = problems.rule_problem(problem, False) if code in RULE_CODES \
            else problems.source_problem(problem, False)
        assert not english_outside_code(said) and "sentence" not in said, said


def test_problems_keep_their_code_through_the_rule_cache(tmp_path):
    parsed = parse_file("id: 'A B'\nname: x\nkeywords: [x]\nkeyword: [y]\n", "a.yaml")
    again = plain.loads(plain.dumps(parsed))
    assert [(p.code, p.fields) for p in again.problems] == \
        [(p.code, p.fields) for p in parsed.problems] and again.problems == parsed.problems
    with pytest.raises(ValueError):
        plain.loads(plain.dumps(parsed).replace(b'"id":"A B"', b'"id":["A B"]'))


def test_a_folders_problems_carry_codes(tmp_path):
    (tmp_path / "a.yaml").write_text("id: a\nname: 甲\nkeywords: [甲]\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("id: a\nname: 乙\nkeywords: [乙]\n", encoding="utf-8")
    (problem,) = read_rule_set(tmp_path).problems
    assert problem.code == "duplicate_id" and problem.fields["id"] == "a"
    assert problem.fields["first"].endswith("a.yaml:1")
    assert read_rule_set(tmp_path / "nope").problems[0].code == "missing"


# ---- the pages and the API get the problems, not only their English ---------------------------

@pytest.fixture
def site(tmp_path):
    from tracker.web import create_app

    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "good.yaml").write_text("id: good\nname: 好\nkeywords: [好]\n", encoding="utf-8")
    (rules / "bad.yaml").write_text("id: 'Bad One'\nname: 坏\nkeywords: [坏]\n", encoding="utf-8")
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "sources.yaml").write_text(SOURCES, encoding="utf-8")
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(instance), "RULES": str(rules),
                      "ADMIN_PASSWORD": "pw", "API_TOKEN": "t0ken"})
    client = app.test_client()
    client.post("/admin/login", data={"csrf_token": csrf_token(client, "/admin/login"),
                                      "password": "pw"})
    return client


def test_the_admin_pages_say_each_problem_by_its_code(site):
    rules = unescape(site.get("/admin/rules").get_data(as_text=True))
    assert "规则 id “Bad One” 不合格" in rules and "must be a slug" in rules  # English after
    edit = unescape(site.get("/admin/rules/bad").get_data(as_text=True))
    assert "规则 id “Bad One” 不合格" in edit
    sources = unescape(site.get("/admin/sources").get_data(as_text=True))
    assert "未知的时区 Mars/Base" in sources and "抓取时间 30 25 * * * 无法使用：25 超出范围" in sources


def test_the_api_gives_each_problems_code_and_fields(site):
    body = site.get("/api/rules", headers={"Authorization": "Bearer t0ken"}).get_json()
    (detail,) = body["problem_details"]
    assert detail["code"] == "not_slug" and detail["fields"] == {"id": "Bad One"}
    assert detail["file"].endswith("bad.yaml") and detail["line"] == 1
    assert body["problems"] == [f"{detail['file']}:1: {detail['message']}"]


def test_a_subscribers_keyword_problem_is_chinese_alone():
    from tracker.alerts.subscribe import SubscribeError
    from tracker.web.subscribe_form import check_keywords

    with pytest.raises(SubscribeError) as err:
        check_keywords("\u200b\u200b")
    assert "里有空的一项" in str(err.value) and not english_outside_code(str(err.value))


def test_a_keyword_twice_is_a_warning():
    text = "id: lvdian\nname: 绿电\nkeywords: [绿电, 绿色电力, 綠電]\nexclude: [绿电交易所]\n"
    (warning,) = problems.rule_warnings(text)
    assert "“綠電”写了两次" in warning and "keywords" in warning
    assert problems.rule_warnings("id: a\nname: b\nkeywords: [x, y]\n") == []
    assert problems.rule_warnings("keywords: [a, \n") == []  # broken YAML: the problems say it
