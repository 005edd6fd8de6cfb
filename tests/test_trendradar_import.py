"""`tracker rules import-trendradar`: a TrendRadar frequency_words.txt (the shape of TrendRadar's
config/frequency_words.txt and its parser, trendradar/core/frequency.py; this file is ours) turned
into rule files that load, match as TrendRadar would, and a report of what did not carry over.

Its limits against a hostile file: 8,000 groups of one name took 10–37 s (each id tried every
number from 2 again) and wrote a file per group. Now the work grows linearly with the groups
(counted in lines run, never timed) and one import writes at most 1,000 rule files, saying where
it stopped."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tracker.documents import Document
from tracker.matching import Matcher
from tracker.rules import read_rule_set, trendradar
from tracker.rules.trendradar import convert

# Ours, written in TrendRadar's format: sections, a group alias, + ! @ /regex/ and =>.
WORDS = """\
# 我们关注的主题（示例）
[GLOBAL_FILTER]
广告
招聘
/抽奖.{0,3}活动/
+不支持

[WORD_GROUPS]
[新能源]
光伏
风电 => 风力发电
/储能(电站|项目)/ => 储能
!二手
@8

+绿电
+交易

DeepSeek
大模型
!/(?<=假)消息/
@3

专业镇
+省级

!标题党
"""

# (headline, names of the rules that fire) as TrendRadar's rules read them: any plain word, all
# `+` words, no `!` word of the group, nothing from [GLOBAL_FILTER] or an only-`!` group.
HEADLINES = [
    ("甲省光伏装机创新高", ["新能源"]),
    ("二手光伏板回收乱象", []),
    ("乙县储能电站并网", ["新能源"]),
    ("海上风电招聘工程师", []),
    ("绿电交易首单落地", ["绿电、交易"]),
    ("绿电价格下降", []),
    ("deepseek发布新版本", ["DeepSeek、大模型"]),
    ("大模型抽奖赢好礼活动", []),
    ("省级专业镇名单公布", ["专业镇、省级"]),
    ("专业镇建设提速", []),
    ("标题党：大模型要取代光伏", []),
]


def tracker(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "TRACKER_INSTANCE": str(cwd / "instance"), "TRACKER_RULES": str(cwd / "rules")}
    return subprocess.run([sys.executable, "-m", "tracker", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=120)


@pytest.fixture
def words(tmp_path) -> Path:
    path = tmp_path / "frequency_words.txt"
    path.write_text(WORDS, encoding="utf-8")
    return path


def test_import_writes_rules_that_load_and_reports_what_it_could_not_carry(tmp_path, words):
    out = tmp_path / "imported"
    done = tracker("rules", "import-trendradar", str(words), "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "5 rule files written" in done.stdout and "4 lines not carried over" in done.stdout
    dropped = [line for line in done.stderr.splitlines() if line.startswith("not carried over")]
    assert [line.split(": ", 2)[1] for line in dropped] == [
        "frequency_words.txt:6", "frequency_words.txt:14", "frequency_words.txt:21",
        "frequency_words.txt:22"]
    assert "`@8`" in dropped[1] and "RE2 cannot compile" in dropped[2]
    found = read_rule_set(out)
    assert found.problems == []
    assert sorted(r.name for r in found.rules) == [
        "DeepSeek、大模型", "专业镇、省级", "新能源", "绿电、交易"]
    assert found.globals.shown() == ["广告", "招聘", "标题党", "/抽奖.{0,3}活动/"]
    energy = next(r for r in found.rules if r.name == "新能源")
    assert energy.keywords == ("光伏", "风电") and energy.regex == ("储能(电站|项目)",)
    assert energy.exclude == ("二手",)
    assert energy.display_name("风电") == "风力发电" and energy.display_name("/储能(电站|项目)/") == "储能"
    green = next(r for r in found.rules if r.name == "绿电、交易")
    assert set(green.all) == {"绿电", "交易"}
    check = tracker("rules", "check", str(out), cwd=tmp_path)
    assert check.returncode == 0 and "广告, 招聘, 标题党, /抽奖.{0,3}活动/" in check.stdout


@pytest.mark.parametrize("headline,names", HEADLINES, ids=[h[0] for h in HEADLINES])
def test_the_imported_rules_match_as_trendradar_would(tmp_path, headline, names):
    for name, text in convert(WORDS).files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    found = read_rule_set(tmp_path)
    matcher = Matcher(found.rules)
    fired = [m.rule.name for m in matcher.match(Document("t", "", "article", title=headline))]
    assert sorted(fired) == sorted(names)


def test_crlf_a_bom_and_no_sections_are_read_alike():
    plain = convert("光伏\n风电\n\n绿电\n")
    odd = convert("\ufeff光伏\r\n风电\r\n\r\n绿电\r\n".lstrip("\ufeff"))
    assert plain.files == odd.files and len(plain.files) == 2 and not plain.dropped


def test_a_line_of_spaces_parts_no_groups_as_in_trendradar_and_says_so():
    """TrendRadar splits groups at an empty line ("\\n\\n"): a line of spaces joins them."""
    joined = convert("光伏\n风电\n  \n绿电\n")
    assert len(joined.files) == 1 and not joined.refused
    assert any(n.startswith("frequency_words.txt:3: this line holds only spaces")
               for n in joined.notes)


def test_dry_run_writes_nothing_and_existing_files_are_never_overwritten(tmp_path, words):
    out = tmp_path / "rules"
    done = tracker("rules", "import-trendradar", str(words), "--dry-run", cwd=tmp_path)
    assert done.returncode == 0 and "id: tr-deepseek" in done.stdout and not out.exists()
    out.mkdir()
    (out / "tr-deepseek.yaml").write_text("id: mine\nname: 我的\nkeywords: [x]\n")
    done = tracker("rules", "import-trendradar", str(words), cwd=tmp_path)
    assert done.returncode == 1 and "tr-deepseek.yaml" in done.stderr
    assert (out / "tr-deepseek.yaml").read_text() == "id: mine\nname: 我的\nkeywords: [x]\n"
    assert sorted(p.name for p in out.iterdir()) == ["tr-deepseek.yaml"]


def test_a_gbk_file_is_read_and_an_empty_one_refused(tmp_path):
    gbk = tmp_path / "gbk.txt"
    gbk.write_bytes("[新能源]\n光伏\n风电 => 风力发电\n".encode("gbk"))
    done = tracker("rules", "import-trendradar", str(gbk), "--dry-run", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "name: 新能源" in done.stdout and "name: 风力发电" in done.stdout
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    done = tracker("rules", "import-trendradar", str(empty), cwd=tmp_path)
    assert done.returncode == 1 and "empty.txt" in done.stderr and "is empty" in done.stderr
    comments = tmp_path / "comments.txt"
    comments.write_text("# 只有注释\n\n@5\n", encoding="utf-8")
    done = tracker("rules", "import-trendradar", str(comments), cwd=tmp_path)
    assert done.returncode == 1 and "no TrendRadar keyword group found" in done.stderr
    assert "comments.txt:3" in done.stderr and not (tmp_path / "rules").exists()


# Issue "What a new user met", item 3: groups written after [GLOBAL_FILTER] without a
# [WORD_GROUPS] line. TrendRadar makes every line of them a global filter word, `[专业镇]` too;
# the import made them global excludes without a word, silencing the rules they meant.
AFTER_FILTER = """\
[GLOBAL_FILTER]
广告
招聘

[专业镇]
专业镇
+省级

标准地
贷款
"""


def test_groups_after_global_filter_without_word_groups_are_refused_line_by_line(tmp_path):
    words = tmp_path / "frequency_words.txt"
    words.write_text(AFTER_FILTER, encoding="utf-8")
    done = tracker("rules", "import-trendradar", str(words), "--out", str(tmp_path / "out"),
                   cwd=tmp_path)
    assert done.returncode == 1 and not (tmp_path / "out").exists()
    refused = [line for line in done.stderr.splitlines() if line.startswith("ambiguous: ")]
    assert [line.split(": ")[1] for line in refused] == [
        f"frequency_words.txt:{n}" for n in (5, 6, 7, 9, 10)]
    assert "put a line [WORD_GROUPS] before line 5" in refused[0] and "`[专业镇]`" in refused[0]
    assert "nothing written" in done.stderr
    dry = tracker("rules", "import-trendradar", str(words), "--dry-run", cwd=tmp_path)
    assert dry.returncode == 1 and "global: true" not in dry.stdout

    # Said what they mean, the same lines import: two groups, and only 广告 and 招聘 global.
    words.write_text(AFTER_FILTER.replace("[专业镇]", "[WORD_GROUPS]\n[专业镇]"), encoding="utf-8")
    done = tracker("rules", "import-trendradar", str(words), "--out", str(tmp_path / "out"),
                   cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    found = read_rule_set(tmp_path / "out")
    assert sorted(r.name for r in found.rules) == ["专业镇", "标准地、贷款"]
    assert found.globals.shown() == ["广告", "招聘"]
    words.write_text(AFTER_FILTER.replace("招聘\n\n[专业镇]", "招聘\n[专业镇]"), encoding="utf-8")
    assert "`[专业镇]` in [GLOBAL_FILTER] (line 1)" in convert(words.read_text()).refused[0]


def test_a_bracketed_line_inside_a_group_is_refused_not_made_a_keyword():
    imported = convert("[新能源]\n光伏\n[储能]\n储能电站\n")
    assert [r.split(": ")[0] for r in imported.refused] == ["frequency_words.txt:3"]
    assert "does not open its group" in imported.refused[0]


# ---- limits: many groups of one name -----------------------------------------------------------

def groups(n: int, word: str = "AI") -> str:
    """A TrendRadar file of n groups, all of one name."""
    return "\n\n".join(f"{word}\n+芯片" for _ in range(n)) + "\n"


def lines_run(fn, module) -> int:
    """Lines of `module` executed while fn() runs: its work, counted instead of timed."""
    count = 0
    filename = module.__file__

    def trace(frame, event, _arg):
        nonlocal count
        if frame.f_code.co_filename != filename:
            return None
        if event == "line":
            count += 1
        return trace

    sys.settrace(trace)
    try:
        fn()
    finally:
        sys.settrace(None)
    return count


def test_converting_groups_of_one_name_takes_linear_work():
    small = lines_run(lambda: trendradar.convert(groups(300)), trendradar)
    large = lines_run(lambda: trendradar.convert(groups(600)), trendradar)
    assert large / small < 2.3, (small, large)  # quadratic before: 3.7×


def test_import_trendradar_writes_at_most_a_thousand_files_and_says_what_it_left(tmp_path):
    """The real command on 8,000 groups of one name."""
    source = tmp_path / "frequency_words.txt"
    source.write_text(groups(8000), encoding="utf-8")
    out = tmp_path / "rules"
    env = {**os.environ, "TRACKER_INSTANCE": str(tmp_path / "instance")}
    done = subprocess.run([sys.executable, "-m", "tracker", "rules", "import-trendradar",
                           str(source), "--out", str(out)], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    written = sorted(p.name for p in out.iterdir())
    assert len(written) == 1000
    assert {"tr-ai.yaml", "tr-ai-2.yaml", "tr-ai-1000.yaml"} <= set(written)
    assert "frequency_words.txt:3001: this group and the 6999 after it: one import writes at " \
           "most 1000 rule files" in done.stderr
    assert "1000 rule files written" in done.stdout
