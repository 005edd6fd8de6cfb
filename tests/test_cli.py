"""The `tracker` command as a user runs it: a real process, real files, a real loopback socket."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import click
import pytest

from builders import make_pdf
from tracker.cli import main

REPO = Path(__file__).resolve().parents[1]
THEMES = {"专业镇": 94, "标准地": 6, "绿电": 14, "营商环境": 32, "招商引资": 18, "乡村振兴": 8,
          "整村授信": 3}


def tracker(*args: str, env: dict | None = None, cwd: Path = REPO) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "TRACKER_INSTANCE": str(cwd / "instance"), **(env or {})}
    return subprocess.run([sys.executable, "-m", "tracker", *args], capture_output=True,
                          text=True, env=full_env, cwd=cwd, timeout=120)


@pytest.fixture
def theme_rules(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    for i, keyword in enumerate(THEMES):
        (folder / f"s{i}.yaml").write_text(f"id: s{i}\nname: {keyword}\nkeywords: [{keyword}]\n",
                                           encoding="utf-8")
    return folder


def commands(group: click.Group, prefix: str = ""):
    for name, command in group.commands.items():
        yield f"{prefix}{name}", command
        if isinstance(command, click.Group):
            yield from commands(command, f"{prefix}{name} ")


def test_every_command_has_a_docstring():
    found = dict(commands(main))
    assert {"match", "rules check", "rules schema"} <= set(found)
    for name, command in found.items():
        assert command.help and len(command.help) > 10, f"`tracker {name}` has no docstring"


def test_match_on_the_seed_pages_reproduces_the_readme_counts(theme_rules, seeds_dir):
    inputs = [str(p) for p in sorted(seeds_dir.glob("*.txt"))]
    done = tracker("match", "--rules", str(theme_rules), "--format", "jsonl", *inputs)
    assert done.returncode == 0, done.stderr
    counts = dict.fromkeys(THEMES, 0)
    names = {f"s{i}": k for i, k in enumerate(THEMES)}
    for line in done.stdout.splitlines():
        found = json.loads(line)
        assert found["document"] in inputs  # the INPUT exactly as given
        assert set(found) >= {"rule", "document", "title", "hits"}
        for hit in found["hits"]:
            assert hit["keyword"] == names[found["rule"]]
            assert f"【{hit['keyword']}】" in hit["snippet"].replace("\n", "")
        counts[names[found["rule"]]] += len(found["hits"])
    assert counts == THEMES


def test_text_format_groups_by_rule_and_marks_the_hit(theme_rules, seeds_dir):
    page = str(sorted(seeds_dir.glob("*.txt"))[-1])
    done = tracker("match", "--rules", str(theme_rules), page)
    assert done.returncode == 0, done.stderr
    assert "整村授信 (s6): 3 hits in" in done.stdout
    assert "【整村授信】" in done.stdout


def test_text_format_shows_a_sentence_once_with_all_its_hits_marked(tmp_path):
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "cn.yaml").write_text("id: cn\nname: 储能\nkeywords: [储能]\n", encoding="utf-8")
    page = tmp_path / "page.txt"
    page.write_text("我市新建三座储能电站\n\n今年以来，我市加快新型储能建设，三座储能电站相继投运。\n\n"
                    "据介绍，电站总容量达到200兆瓦。\n", encoding="utf-8")
    done = tracker("match", "--rules", str(tmp_path / "rules"), str(page))
    assert done.returncode == 0, done.stderr
    assert "储能 (cn): 3 hits in 1 articles" in done.stdout
    lines = [line.strip() for line in done.stdout.splitlines()]
    both = "今年以来，我市加快新型【储能】建设，三座【储能】电站相继投运。"
    assert lines.count(both) == 1, done.stdout
    assert lines.count("我市新建三座【储能】电站") == 1, done.stdout


def test_bad_inputs_are_named_and_the_good_ones_still_matched(tmp_path, theme_rules):
    good = tmp_path / "good.txt"
    good.write_text("本报讯 今年全省新认定一批专业镇，带动就业。", encoding="utf-8")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    junk = tmp_path / "junk.txt"
    junk.write_bytes(bytes(range(256)) * 64)
    scanned = tmp_path / "scanned.pdf"
    scanned.write_bytes(make_pdf([[]]))  # a drawing, no text layer
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as f:
        f.truncate(50 * 1024 * 1024)  # sparse: refused by its size before it is read
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # accepts connections, never answers
    url = f"http://127.0.0.1:{silent.getsockname()[1]}/page.html"
    try:
        done = tracker("match", "--rules", str(theme_rules), "--format", "jsonl", str(empty),
                       str(junk), str(scanned), str(huge), url, str(tmp_path / "missing.txt"),
                       str(good),
                       env={"TRACKER_HTTP_TOTAL_TIMEOUT": "1", "TRACKER_HTTP_READ_TIMEOUT": "1"})
    finally:
        silent.close()
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    for bad in (empty, junk, scanned, huge, url, tmp_path / "missing.txt"):
        assert any(line.startswith(f"tracker: {bad}: ") for line in done.stderr.splitlines()), \
            (bad, done.stderr)
    assert "no text layer" in done.stderr
    assert "6 of 7 inputs could not be read" in done.stderr
    (line,) = done.stdout.splitlines()
    assert json.loads(line)["document"] == str(good)


def test_an_unexpected_failure_in_one_input_is_reported_and_the_rest_go_on(tmp_path, monkeypatch,
                                                                        theme_rules):
    """A bug met on one input (here: a stand-in reader that raises) is named, not a traceback."""
    from click.testing import CliRunner

    import tracker.sources

    def read(ref, config):
        if ref.endswith("bad.txt"):
            raise RuntimeError("boom")
        return real_read(ref, config)

    real_read = tracker.sources.read
    monkeypatch.setattr(tracker.sources, "read", read)
    good = tmp_path / "good.txt"
    good.write_text("推动专业镇发展。", encoding="utf-8")
    result = CliRunner().invoke(main, ["match", "--rules", str(theme_rules), "--format", "jsonl",
                                       str(tmp_path / "bad.txt"), str(good)])
    assert result.exit_code == 1
    assert f"{tmp_path / 'bad.txt'}: could not be matched (RuntimeError: boom)" in result.output
    assert '"rule": "s0"' in result.output


def test_a_rules_file_with_a_tab_stops_before_matching(tmp_path):
    rules = tmp_path / "bad.yaml"
    rules.write_text("id: a\nname: A\nkeywords:\n\t- 专业镇\n", encoding="utf-8")
    page = tmp_path / "p.txt"
    page.write_text("专业镇", encoding="utf-8")
    done = tracker("match", "--rules", str(rules), str(page))
    assert done.returncode == 2
    assert done.stderr.startswith(f"{rules}:4: bad YAML")
    assert "Traceback" not in done.stderr


def test_rules_check(tmp_path):
    assert tracker("rules", "check").returncode == 0
    (tmp_path / "a.yaml").write_text("id: a\nname: A\nkeywords: []\n", encoding="utf-8")
    done = tracker("rules", "check", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.strip() == f"{tmp_path / 'a.yaml'}:3: `keywords` is empty: give at least one word"


def test_rules_schema_is_json():
    done = tracker("rules", "schema")
    assert json.loads(done.stdout)["title"] == "tracker rule file"


def test_rules_folder_comes_from_the_environment(tmp_path, theme_rules):
    done = tracker("rules", "check", env={"TRACKER_RULES": str(theme_rules)})
    assert done.returncode == 0 and "7 rules OK" in done.stdout


def test_jsonl_lines_are_exactly_what_json_writes(tmp_path):
    """Each line is written out directly (not via json.dumps, for speed): it must be the same
    bytes json.dumps(…, ensure_ascii=False) gives, with every optional field — feed entries with
    url and published, a display name, quotes, backslashes and control characters to escape."""
    rules = tmp_path / "r.yaml"
    rules.write_text('id: green\nname: 绿电\nkeywords:\n  - {term: 绿电, name: "绿色\\"电力\\\\"}\n'
                     "  - 光伏\n", encoding="utf-8")
    feed = tmp_path / "feed.xml"
    feed.write_text(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>报</title>'
        '<item><title>绿电 "交易" \\ 规则</title><link>http://127.0.0.1/a?x=1&amp;y=2</link>'
        '<pubDate>Tue, 01 Dec 2026 08:00:00 +0800</pubDate>'
        "<description>今年绿电交易量大增，光伏装机也创新高。</description></item>"
        "<item><title>第二条</title><link>http://127.0.0.1/b</link>"
        "<description>光伏&#9;治沙项目开工。</description></item>"
        "</channel></rss>", encoding="utf-8")
    page = tmp_path / "p.txt"
    page.write_text("本报讯 推动绿电\u0007消纳。", encoding="utf-8")
    done = tracker("match", "--rules", str(rules), "--format", "jsonl", str(feed), str(page))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 3
    found = [json.loads(line) for line in lines]
    for line, value in zip(lines, found):
        assert line == json.dumps(value, ensure_ascii=False)
    assert [f.get("entry") for f in found] == [1, 2, None]
    assert found[0]["url"] == "http://127.0.0.1/a?x=1&y=2" and "published" in found[0]
    assert [h.get("name") for h in found[0]["hits"]] == ['绿色"电力\\'] * 2 + [None]
    assert "title" in found[2] and found[2]["hits"][0]["field"] == "body"
