"""Search with several words finds the articles holding all of them (issue "What a new user
met", item 1): `专业镇 标准地`, `专业镇、标准地`, `专业镇,贷款` (the placeholder itself suggests
`专业镇、标准地、绿电`) gave 0 results on /articles and in `tracker search`. Spaces, 、 and commas
(full-width ，；too) separate words; a quoted phrase stays a phrase; a word of one character is
left out with the Chinese hint. The archive is made by `tracker worker --once` from pages of our
own, and searched through `tracker search` and `tracker serve`, each a subprocess."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest

from conftest import REPO_RULES
from test_demo import free_port, get
from test_worker import source, wait_for, write_sources
from test_worker_deployed import Process

# Our own made-up articles, one page each: title, then body.
PAGES = {
    "2025-04-07_a.txt": ("杏林镇专业镇启用标准地", "杏林镇是省级专业镇，今年首批工业用地按标准地出让，企业拿地即开工。"),
    "2025-04-08_b.txt": ("金融活水助力专业镇", "多家银行推出专项贷款产品，支持专业镇企业扩大生产。"),
    "2025-04-09_c.txt": ("开发区推行标准地改革", "开发区今年出让标准地8宗，审批时间大为缩短。"),
    "2025-04-10_d.txt": ("园区用上绿电", "工业园区今年签约绿电交易，专业镇企业和标准地项目都在其中。"),
}
A, B, C, D = (title for title, _ in PAGES.values())


def env_for(instance: Path) -> dict[str, str]:
    env = {**os.environ, "TRACKER_INSTANCE": str(instance), "TRACKER_RULES": str(REPO_RULES),
           "TRACKER_FOLDER_SETTLE_SECONDS": "0", "TRACKER_SMTP_HOST": ""}
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        env.pop(name, None)
    return env


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """An instance whose archive the worker made, and `tracker serve` on it: (env, base URL)."""
    root = tmp_path_factory.mktemp("search")
    instance, drop = root / "instance", root / "drop"
    instance.mkdir()
    drop.mkdir()
    for name, (title, body) in PAGES.items():
        (drop / name).write_text(f"{title}\n\n{body}\n", encoding="utf-8")
    write_sources(instance, [source("drop", path=str(drop))])
    env = env_for(instance)
    ran = subprocess.run([sys.executable, "-m", "tracker", "worker", "--once"], env=env,
                         capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stderr
    port = free_port()
    web = Process(env, "serve", "--port", str(port))
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_for(lambda: get(f"{base}/healthz")[0] == 200, 60), web.lines
        yield env, base
    finally:
        web.stop()


def titles_on_page(base: str, q: str) -> tuple[list[str], str]:
    status, page = get(f"{base}/articles?" + urllib.parse.urlencode({"q": q}))
    assert status == 200, q
    results = page.split('class="results"')[1] if 'class="results"' in page else ""
    titles = [html.unescape(t) for t in re.findall(r'<h2><a href="/articles/\d+">(.*?)</a>',
                                                   results)]
    return titles, page


def titles_of_command(env: dict[str, str], q: str) -> list[str]:
    done = subprocess.run([sys.executable, "-m", "tracker", "search", q], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return [t for t in PAGES_TITLES if t in done.stdout]


PAGES_TITLES = [A, B, C, D]
CASES = [
    ("专业镇 标准地", [A, D]),
    ("专业镇、标准地", [A, D]),
    ("专业镇,贷款", [B]),
    ("专业镇，贷款", [B]),
    ("专业镇；标准地；绿电", [D]),
    ("专业镇、标准地、绿电", [D]),
    ("专业镇\u3000标准地", [A, D]),
    ("“工业用地按标准地” 专业镇", [A]),   # a quoted phrase stays a phrase
    ('"标准地 出让"', [A]),                  # its words side by side (whitespace between
    ('"出让 标准地"', [C]),                  # Chinese characters is no character)
    ("标准地 出让", [A, C]),
]


@pytest.mark.parametrize("q,expected", CASES, ids=[c[0] for c in CASES])
def test_several_words_find_the_articles_holding_all_of_them(archive, q, expected):
    env, base = archive
    titles, page = titles_on_page(base, q)
    assert sorted(titles) == sorted(expected), q
    assert sorted(titles_of_command(env, q)) == sorted(expected), q
    words = re.findall(r'"[^"]+"|“[^”]+”|[^\s、,，；"“”]+', q)
    assert (f"共 {len(expected)} 篇报道同时含有" in page) == (len(words) > 1), q


def test_every_word_is_marked_in_the_passage(archive):
    env, base = archive
    _, page = titles_on_page(base, "专业镇 贷款")
    assert "<mark>专业镇</mark>" in page and "<mark>贷款</mark>" in page
    done = subprocess.run([sys.executable, "-m", "tracker", "search", "专业镇 贷款"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert "【专业镇】" in done.stdout and "【贷款】" in done.stdout


def test_a_word_of_one_character_is_left_out_with_the_chinese_hint(archive):
    _, base = archive
    titles, page = titles_on_page(base, "专业镇 镇")
    assert sorted(titles) == sorted([A, B, D])
    assert "关键词“镇”太短，没有用来搜索" in html.unescape(page)
    assert "下面只按“专业镇”搜索" in html.unescape(page)
    titles, page = titles_on_page(base, "镇、地")
    assert "<h2>最新文章</h2>" in page  # nothing to search with: the latest articles
    assert "关键词“镇”“地”太短" in html.unescape(page)
    titles, page = titles_on_page(base, "专业镇、标准地、贷款")
    assert titles == [] and "没有找到同时含有“专业镇”“标准地”“贷款”的文章" in html.unescape(page)
