"""sources.yaml: what a source is, and every problem reported as file:line."""

import os
import subprocess
import sys

import pytest

from tracker.sources.catalog import Source, check_sources, infer_type, parse_sources_text

GOOD = """\
sources:
  - id: sxrb
    name: 山西日报
    url: https://e.example.cn/html/{date:%Y-%m}/{date:%d}/node_1.htm
    days: 2
  - id: gov
    name: 省政府
    url: https://example.cn/rss.xml
    fetch_full: true
    schedule: "*/30 * * * *"
  - id: drop
    name: 投放目录
    path: /srv/drop
    enabled: false
  - id: page-feed
    name: 通知
    type: feed
    url: https://example.cn/notices
    timezone: Asia/Shanghai
"""


def test_good_sources():
    sources, problems = parse_sources_text(GOOD)
    assert problems == []
    assert [(s.id, s.type) for s in sources] == [("sxrb", "epaper"), ("gov", "feed"),
                                                 ("drop", "folder"), ("page-feed", "feed")]
    sxrb, gov, drop, _ = sources
    assert sxrb.days == 2 and sxrb.schedule == "30 6 * * *" and sxrb.timezone == "Asia/Shanghai"
    assert gov.fetch_full and gov.schedule == "*/30 * * * *"
    assert not drop.enabled and drop.location == "/srv/drop"


def one(body: str) -> str:
    return "sources:\n  - " + body.strip().replace("\n", "\n    ") + "\n"


BAD = [
    (one("id: a\nname: A\nurl: ftp://x/rss.xml"), 4, "must start with http"),
    (one("id: a\nname: A\nurl: https://x/page"), 2, "cannot tell the type"),
    (one("id: a\nname: A\nurl: https://x/rss.xml\npath: /x"), 2, "either `url` or `path`"),
    (one("id: a\nurl: https://x/rss.xml"), 2, "lacks `name`"),
    (one("id: A B\nname: A\nurl: https://x/rss.xml"), 2, "must be a slug"),
    (one("id: a\nname: A\nurl: https://x/rss.xml\nschedule: daily"), 5, "cron"),
    # five fields of the right characters that the worker's scheduler still refuses
    (one("id: a\nname: A\nurl: https://x/rss.xml\nschedule: '30 25 * * *'"), 5, "'30 25 * * *'"),
    (one("id: a\nname: A\nurl: https://x/rss.xml\nschedule: '61 6 * * *'"), 5, "'61 6 * * *'"),
    (one("id: a\nname: A\nurl: https://x/rss.xml\nschedule: '0 6 32 * *'"), 5, "'0 6 32 * *'"),
    (one("id: a\nname: A\nurl: https://x/rss.xml\nschedule: '0 6 * 13 *'"), 5, "'0 6 * 13 *'"),
    (one("id: a\nname: A\nurl: https://x/rss.xml\nschedule: '0 6 * * 9'"), 5, "'0 6 * * 9'"),
    (one("id: a\nname: A\nurl: https://x/rss.xml\nschedule: '*/0 * * * *'"), 5, "'*/0 * * * *'"),
    (one("id: a\nname: A\nurl: https://x/rss.xml\ntimezone: Mars/Base"), 5, "unknown time zone"),
    (one("id: a\nname: A\nurl: https://x/rss.xml\nenabled: maybe"), 5, "true or false"),
    (one("id: a\nname: A\nurl: https://x/{date:%Y}/n.htm\ndays: 0"), 5, "from 1 to 31"),
    (one("id: a\nname: A\nurl: https://x/{date:%Y}/n.htm\npages: '('"), 5, "regular expression"),
    (one("id: a\nname: A\nurl: https://x/rss.xml\nurll: x"), 5, "did you mean `url`"),
    (one("id: a\nname: A\ntype: radio\nurl: https://x/s"), 4, "`type` is one of"),
    (one("id: a\nname: A\ntype: folder\nurl: https://x/s"), 2, "needs `path`"),
    ("sources:\n  - id: a\n    name: A\n    path: /x\n  - id: a\n    name: B\n    path: /y\n", 5,
     "duplicate id `a`"),
    ("sources: {}\n", 1, "a list of sources"),
    ("feeds: []\n", 1, "unknown field `feeds`"),
    ("", 1, "lists no source"),
    ("sources:\n\t- id: a\n", 2, "tab"),
]


@pytest.mark.parametrize("text,line,words", BAD)
def test_bad_sources_say_where_and_what(text, line, words):
    _, problems = parse_sources_text(text, "sources.yaml")
    assert problems, text
    assert problems[0].line == line, problems
    assert words in problems[0].message, problems


@pytest.mark.parametrize("url,path,kind", [
    ("https://x/html/{date:%Y-%m}/{date:%d}/node_1.htm", None, "epaper"),
    ("https://x/rss.xml", None, "feed"),
    ("https://x/feed", None, "feed"),
    ("https://x/index.php?c=rss", None, "feed"),
    ("https://x/page.htm", None, None),
    (None, "/srv/drop", "folder"),
])
def test_infer_type(url, path, kind):
    assert infer_type(url, path) == kind


def test_missing_file(tmp_path):
    _, problems = check_sources(tmp_path / "sources.yaml")
    assert "no such file" in problems[0].message


def test_sources_check_command(tmp_path):
    (tmp_path / "sources.yaml").write_text(GOOD, encoding="utf-8")
    env = {**os.environ, "TRACKER_INSTANCE": str(tmp_path)}
    run = [sys.executable, "-m", "tracker", "sources", "check"]
    done = subprocess.run(run, capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0 and "4 sources OK" in done.stdout
    (tmp_path / "sources.yaml").write_text(BAD[0][0], encoding="utf-8")
    done = subprocess.run(run, capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith(f"{tmp_path / 'sources.yaml'}:4: `url` must start with http")


def test_every_schedule_sources_check_passes_is_one_the_worker_schedules(tmp_path):
    # `tracker sources check` and `tracker worker` read a schedule the same way: the command
    # refuses `30 25 * * *` by file:line, and the worker started on it refuses to start the
    # same way (exit 2, no traceback) instead of dying in its scheduler.
    (tmp_path / "sources.yaml").write_text(
        one("id: a\nname: A\npath: /srv/drop\nschedule: '30 25 * * *'"), encoding="utf-8")
    env = {**os.environ, "TRACKER_INSTANCE": str(tmp_path)}
    for command in (["sources", "check"], ["worker", "--once"]):
        done = subprocess.run([sys.executable, "-m", "tracker", *command], capture_output=True,
                              text=True, env=env, timeout=60)
        assert done.returncode == 2, (command, done.stderr)
        assert done.stderr.startswith(f"{tmp_path / 'sources.yaml'}:5: `schedule` '30 25 * * *'")
        assert "Traceback" not in done.stderr


def test_a_source_is_plain_data():
    assert Source("a", "A", "folder", path="/x").location == "/x"
