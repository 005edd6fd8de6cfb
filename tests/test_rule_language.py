"""The rule language beyond plain keywords: `regex:` terms (RE2), a display name per keyword,
global excludes — read with file:line problems, agreeing with the schema, and matched."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml

from tracker.documents import Document
from tracker.matching import Matcher
from tracker.rules import parse_file, parse_rules_text, read_rule_set
from tracker.rules.load import with_globals

REPO = Path(__file__).resolve().parents[1]
SCHEMA = json.loads(resources.files("tracker.rules").joinpath("rule.schema.json").read_text())

GOOD = [
    "id: a\nname: A\nregex: ['绿电(交易|直连)']\n",
    "id: a\nname: A\nkeywords: [{term: 绿电, name: 绿色电力}, 光伏]\n",
    "id: a\nname: A\nkeywords: [{regex: '专业镇\\d+', name: 专业镇}]\n",
    "id: a\nname: A\nkeywords: [x]\nregex: {regex: 'y+z', name: Y}\n",
    "id: a\nname: A\nkeywords: [绿电]\nall: [{regex: '\\d+万千瓦时'}]\nexclude: [{term: 广告}]\n",
    "global: true\nexclude: [广告, {regex: '招聘.{0,4}启事'}]\n",
    "global: true\nexclude: 广告\nrules:\n  - {id: a, name: A, keywords: [x]}\n",
]

# (file name, text, line of the first problem, words the message must contain)
BAD = [
    ("r.yaml", "id: a\nname: A\nregex: ['(?<=a)b']\n", 3, "RE2 cannot compile"),
    ("r.yaml", "id: a\nname: A\nkeywords: [x]\nexclude:\n  - regex: '(a'\n", 5, "RE2 cannot compile"),
    ("r.yaml", "id: a\nname: A\nkeywords: [{regex: 'a{1000}{1000}'}]\n", 3, "RE2 cannot compile"),
    ("r.yaml", "id: a\nname: A\nregex: ['a*']\n", 3, "matches empty text"),
    ("r.yaml", "id: a\nname: A\nregex: ['中\\C']\n", 3, "can split a Chinese character"),
    ("r.yaml", "id: a\nname: A\nregex: []\n", 3, "`regex` is empty"),
    ("r.yaml", "id: a\nname: A\nkeywords: [{term: x, regex: y}]\n", 3, "exactly one"),
    ("r.yaml", "id: a\nname: A\nkeywords: [{name: 绿色电力}]\n", 3, "exactly one"),
    ("r.yaml", "id: a\nname: A\nkeywords: [{term: x, nmae: X}]\n", 3, "did you mean `name`"),
    ("r.yaml", "id: a\nname: A\nkeywords: [x]\nexclude: [{term: y, name: Y}]\n", 4,
     "`name` is for keywords"),
    ("r.yaml", "id: a\nname: A\nkeywords: [x]\nnear: [{term: {regex: x}, with: y, within: 3}]\n",
     4, "must be a word or phrase"),
    ("r.yaml", "rules:\n  - {id: a, name: A, keywords: [x]}\nexclude: [y]\n", 1, "global: true"),
    ("r.yaml", "global: false\nexclude: [y]\n", 1, "can only be `true`"),
    ("r.yaml", "global: true\n", 1, "need `exclude:`"),
    ("_global.yaml", "exclude: []\n", 1, "`exclude` is empty"),
    ("_global.yaml", "exclude: [x]\nkeywords: [y]\n", 2, "unknown field `keywords`"),
]


@pytest.mark.parametrize("text", GOOD)
def test_good_files_load_and_agree_with_the_schema(text):
    parsed = parse_file(text, "r.yaml")
    assert parsed.problems == [] and (parsed.rules or parsed.globals)
    jsonschema.validate(yaml.safe_load(text), SCHEMA)


@pytest.mark.parametrize("name,text,line,words", BAD)
def test_bad_files_say_where_and_what(name, text, line, words):
    parsed = parse_file(text, name)
    assert not parsed.globals
    assert parsed.problems, "a bad file must report a problem"
    assert parsed.problems[0].line == line, parsed.problems
    assert words in parsed.problems[0].message
    assert str(parsed.problems[0]).startswith(f"{name}:{line}: ")


@pytest.mark.parametrize("name,text,line,words", [
    b for b in BAD if b[0] == "r.yaml" and not any(
        w in b[3] for w in ("RE2", "empty text", "exactly one", "split"))])
def test_the_schema_rejects_what_the_checker_rejects(name, text, line, words):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(yaml.safe_load(text), SCHEMA)


def test_names_regex_and_conditions_are_read():
    (rule,), problems = parse_rules_text(
        "id: a\nname: A\nkeywords: [{term: 绿电, name: 绿色电力}, 光伏, {regex: '绿证\\d*', name: 绿证}]\n"
        "regex: ['电力交易']\nall: [{regex: 'x+'}, y]\nexclude: [{regex: 'z+'}]\n", "r.yaml")
    assert problems == []
    assert rule.keywords == ("绿电", "光伏") and rule.regex == ("绿证\\d*", "电力交易")
    assert rule.all == ("y",) and rule.all_regex == ("x+",) and rule.exclude_regex == ("z+",)
    assert rule.display_name("绿电") == "绿色电力" and rule.display_name("/绿证\\d*/") == "绿证"
    assert rule.display_name("光伏") is None


def test_global_excludes_join_every_rule_of_the_folder(tmp_path):
    (tmp_path / "a.yaml").write_text("id: a\nname: A\nkeywords: [x]\nexclude: [own]\n")
    (tmp_path / "b.yaml").write_text("rules:\n  - {id: b, name: B, keywords: [y]}\n")
    (tmp_path / "_global.yaml").write_text("exclude: [广告]\n")
    (tmp_path / "more.yaml").write_text("global: true\nexclude: [{regex: '招聘.{0,4}启事'}]\n")
    found = read_rule_set(tmp_path)
    assert found.problems == []
    assert found.globals.shown() == ["广告", "/招聘.{0,4}启事/"]
    assert sorted(found.globals.files) == [f"{tmp_path / '_global.yaml'}:1",
                                          f"{tmp_path / 'more.yaml'}:2"]
    for rule in found.rules:
        assert rule.globals == found.globals
    assert {r.id: r.exclude for r in found.rules} == {"a": ("own",), "b": ()}  # own stays own


# The matcher: (rule files, title, text, {rule id: the hits as printed}).
MATCHES = [
    ("regex across a line break", {"r.yaml": "id: r\nname: R\nregex: ['绿电(交易|直连)']\n"},
     "", "甲市绿电\n交易规模扩大。", {"r": ["绿电交易"]}),
    ("regex on traditional text", {"r.yaml": "id: r\nname: R\nregex: ['专业镇\\d+']\n"},
     "", "全省專業鎮12個。", {"r": ["專業鎮12"]}),
    ("traditional pattern, simplified text", {"r.yaml": "id: r\nname: R\nregex: ['專業鎮']\n"},
     "", "全省专业镇。", {"r": ["专业镇"]}),
    ("regex ignores case and width", {"r.yaml": "id: r\nname: R\nregex: ['ＤeepSeek']\n"},
     "", "deepseek发布新模型。", {"r": ["deepseek"]}),
    ("a Miniflux keep rule (Go regexp is RE2)", {
        "r.yaml": "id: r\nname: R\nregex: ['(?i)(?:\\bAI\\b|人工智能)']\n"},
     "", "AI芯片与人工智能，fair trade。", {"r": ["AI", "人工智能"]}),
    ("a regex spells its own edges", {"r.yaml": "id: r\nname: R\nregex: ['标准地']\n"},
     "", "国家标准地方标准。", {"r": ["标准地"]}),
    ("the keyword in word mode does not", {"r.yaml": "id: r\nname: R\nkeywords: [标准地]\n"},
     "", "国家标准地方标准。", {}),
    ("regex exclude", {"r.yaml": "id: r\nname: R\nkeywords: [标准地]\n"
                                 "exclude: [{regex: '暂停.{0,3}出让'}]\n"},
     "", "标准地出让，随后暂停标准地出让。", {}),
    ("regex all, present", {"r.yaml": "id: r\nname: R\nkeywords: [绿电]\n"
                                      "all: [{regex: '\\d+万千瓦时'}]\n"},
     "", "绿电交易电量12万千瓦时。", {"r": ["绿电"]}),
    ("regex all, absent", {"r.yaml": "id: r\nname: R\nkeywords: [绿电]\n"
                                     "all: [{regex: '\\d+万千瓦时'}]\n"},
     "", "绿电交易电量增长。", {}),
    ("global exclude stops every rule", {"r.yaml": "id: r\nname: R\nkeywords: [绿电]\n",
                                         "s.yaml": "id: s\nname: S\nregex: ['光伏']\n",
                                         "_global.yaml": "exclude: [广告]\n"},
     "", "绿电光伏广告。", {}),
    ("global exclude absent", {"r.yaml": "id: r\nname: R\nkeywords: [绿电]\n",
                               "_global.yaml": "exclude: [广告]\n"},
     "", "绿电交易。", {"r": ["绿电"]}),
    ("global regex exclude", {"r.yaml": "id: r\nname: R\nkeywords: [绿电]\n",
                              "g.yaml": "global: true\nexclude: [{regex: '招聘.{0,4}启事'}]\n"},
     "", "绿电公司招聘技术员启事。", {}),
    ("global exclude only in the rule's fields", {
        "r.yaml": "id: r\nname: R\nkeywords: [绿电]\nfields: title\n",
        "_global.yaml": "exclude: [广告]\n"},
     "绿电交易", "正文里有广告。", {"r": ["绿电"]}),
    ("global exclude in the rule's match mode", {
        "r.yaml": "id: r\nname: R\nkeywords: [标准地]\n", "_global.yaml": "exclude: [地方]\n"},
     "", "标准地出让。地方财政。", {}),
]


def fired(tmp_path: Path, files: dict[str, str], title: str, text: str) -> dict[str, list]:
    for name, body in files.items():
        (tmp_path / name).write_text(body, encoding="utf-8")
    found = read_rule_set(tmp_path)
    assert found.problems == []
    document = Document("t", text, "article", title=title or None)
    return {m.rule.id: [h.snippet.occurrence for h in m.occurrences] for m in Matcher(found.rules).match(document)}


@pytest.mark.parametrize("what,files,title,text,expected", MATCHES, ids=[m[0] for m in MATCHES])
def test_matching(tmp_path, what, files, title, text, expected):
    assert fired(tmp_path, files, title, text) == expected


def test_a_hit_carries_its_keywords_display_name():
    rules, _ = parse_rules_text("id: r\nname: R\nkeywords: [{term: 绿电, name: 绿色电力}, 光伏, "
                                "{regex: '专业镇\\d+', name: 专业镇}]\n")
    (found,) = Matcher(rules).match(Document("t", "绿电、光伏与专业镇12个。", "article"))
    assert [(h.keyword, found.rule.display_name(h.keyword)) for h in found.occurrences] == [
        ("绿电", "绿色电力"), ("光伏", None), ("/专业镇\\d+/", "专业镇")]


def test_only_global_excludes_and_regex_rules_need_no_automaton():
    rules, _ = parse_rules_text("id: r\nname: R\nregex: ['a+b']\n")
    matcher = Matcher(with_globals(rules, parse_file("exclude: [{regex: 'zz'}]\n",
                                                     "_global.yaml").globals))
    assert [m.rule.id for m in matcher.match(Document("t", "xaab", "article"))] == ["r"]
    assert matcher.match(Document("t", "xaab zz", "article")) == []


def tracker(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "TRACKER_INSTANCE": str(cwd / "instance")}
    return subprocess.run([sys.executable, "-m", "tracker", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=timeout)


def test_a_catastrophic_pattern_cannot_hang_matching(tmp_path):
    """(a+)+$ on a long run of a's ending in b takes exponential time with backtracking engines
    (Python's re would not finish); RE2 is linear. The deployed command must finish, within a
    generous bound, and report that nothing fired."""
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "evil.yaml").write_text("id: evil\nname: 恶意\nregex: ['(a+)+$', '(x+x+)+y']\n")
    page = tmp_path / "page.txt"
    page.write_text("a" * 200_000 + "b\n" + "x" * 100_000 + "\n", encoding="utf-8")
    done = tracker("match", "--rules", str(rules), str(page), cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "no rule fired" in done.stdout


def test_rules_check_gives_file_and_line_for_a_pattern_re2_refuses(tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "ok.yaml").write_text("id: ok\nname: OK\nkeywords: [x]\n")
    (rules / "bad.yaml").write_text("id: bad\nname: 坏\nkeywords:\n  - x\n  - regex: '(?=y)z'\n")
    done = tracker("rules", "check", str(rules), cwd=tmp_path)
    assert done.returncode == 2
    assert f"{rules / 'bad.yaml'}:5: RE2 cannot compile the regex /(?=y)z/" in done.stderr


def test_rules_check_shows_the_global_excludes(tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "ok.yaml").write_text("id: ok\nname: OK\nkeywords: [x]\n")
    (rules / "_global.yaml").write_text("# every rule\nexclude: [广告, {regex: '招聘.?启事'}]\n",
                                        encoding="utf-8")
    done = tracker("rules", "check", str(rules), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"global excludes ({rules / '_global.yaml'}:2), applied to every rule: 广告, " \
           "/招聘.?启事/" in done.stdout
    assert "1 rules OK" in done.stdout


def test_patterns_whose_re2_set_cannot_be_built_still_match(monkeypatch):
    """Each 32 patterns share an RE2 set (one pass finds which occur); a set RE2 cannot build in
    its memory budget leaves its patterns to run one by one, with the same results."""
    import tracker.matching.matcher as matcher_module

    patterns = [f"词{i}[^，。]{{0,30}}语{i}" for i in range(40)]
    rules, _ = parse_rules_text("id: r\nname: R\nregex: " + json.dumps(patterns) + "\n")
    document = Document("t", "甲：词3有很多话语3。乙：词39与语39。", "article")
    expected = [h.snippet.occurrence for m in Matcher(rules).match(document) for h in m.occurrences]
    assert expected == ["词3有很多话语3", "词39与语39"]
    monkeypatch.setattr(matcher_module, "REGEX_SET_MEMORY", 1 << 10)
    small = Matcher(rules)
    assert all(found is None for _, found in small._regex_sets)
    assert [h.snippet.occurrence for m in small.match(document) for h in m.occurrences] == expected


def test_the_worker_finishes_a_cycle_with_a_hostile_pattern_and_keeps_the_good_hits(tmp_path):
    """`tracker worker --once`, as deployed: a page built to make backtracking engines explode
    beside a page with a real hit; the cycle ends (bounded wait) and the real hit is kept."""
    instance, drop, rules = tmp_path / "instance", tmp_path / "drop", tmp_path / "rules"
    for folder in (instance, drop, rules):
        folder.mkdir()
    (instance / "sources.yaml").write_text(
        f"sources:\n  - id: drop\n    name: 演示日报\n    path: {drop}\n", encoding="utf-8")
    (rules / "evil.yaml").write_text("id: evil\nname: 恶意\nregex: ['(a+)+$', '(.*a){25}x']\n")
    (rules / "green.yaml").write_text("id: green\nname: 绿电\nregex: ['绿电(交易|直连)']\n",
                                      encoding="utf-8")
    (drop / "2025-04-09_p1.txt").write_text("a" * 100_000 + "b\n", encoding="utf-8")
    (drop / "2025-04-09_p2.txt").write_text("本报讯 甲市绿电交易规模扩大。\n", encoding="utf-8")
    env = {**os.environ, "TRACKER_INSTANCE": str(instance), "TRACKER_RULES": str(rules),
           "TRACKER_FOLDER_SETTLE_SECONDS": "0"}
    done = subprocess.run([sys.executable, "-m", "tracker", "worker", "--once"], env=env,
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    from tracker.store import connect

    db = connect(instance / "tracker.db")
    assert db.execute("SELECT rule_id, count FROM hits").fetchall() == [("green", 1)]
    assert db.execute("SELECT count(*) FROM articles").fetchone()[0] >= 2


def test_global_excludes_hold_for_subscribers_own_keywords_too(tmp_path):
    from tracker.store.personal import personal_rule_id
    from tracker.worker.rulebook import RuleBook

    (tmp_path / "a.yaml").write_text("id: a\nname: A\nkeywords: [光伏]\n", encoding="utf-8")
    (tmp_path / "_global.yaml").write_text("exclude: [广告]\n", encoding="utf-8")
    matcher = RuleBook(tmp_path).refresh({7: ("绿电",)}).matcher
    fired = [m.rule.id for m in matcher.match(Document("t", "绿电交易，光伏装机。", "article"))]
    assert sorted(fired) == sorted(["a", personal_rule_id(7)])
    assert matcher.match(Document("t", "绿电交易，光伏装机。广告", "article")) == []


def test_a_pattern_does_not_run_from_one_article_into_the_next():
    rules, _ = parse_rules_text("id: r\nname: R\nregex: ['绿电.{0,40}交易']\n")
    page = ("本报讯 甲市推进绿电园区建设，企业用能成本下降。\n\n"
            "本报讯 乙县电力交易中心今天挂牌。\n")
    matcher = Matcher(rules)
    assert matcher.match(Document("p", page, "text")) == []
    (found,) = matcher.match(Document("p", page.replace("园区建设", "交易"), "text"))
    assert [h.snippet.occurrence for h in found.occurrences] == ["绿电交易"]
