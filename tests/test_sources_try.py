"""`tracker sources try ID|URL [--date D]` as a user runs it: a real `tracker` process against an
e-paper of our own on 127.0.0.1 (tests/epaper_layouts.py). It prints the pages, each article's
page, title and first words, and the problems; it stores nothing and takes no lock, so it runs
while a worker holds the database."""

from __future__ import annotations

import datetime
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

import epaper_layouts as layouts
from tracker.store import connect
from tracker.store.locks import acquire

REPO = Path(__file__).resolve().parents[1]
DAY = datetime.date(2024, 3, 1)


def tracker(instance: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TRACKER_INSTANCE": str(instance), "TRACKER_HTTP_TOTAL_TIMEOUT": "5"}
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        env.pop(name, None)
    return subprocess.run([sys.executable, "-m", "tracker", "sources", "try", *args],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=120)


def test_try_a_url_prints_pages_articles_and_problems_and_stores_nothing(site, instance):
    paper = layouts.kjrb(site, DAY)
    run = tracker(instance, paper.url, "--date", DAY.isoformat())
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "layout founder" in out
    assert f"index {paper.full(f'/kjrb/html/{DAY:%Y-%m}/{DAY:%d}/node_2.htm')}" in out
    assert "pages (3)\n  第01版 要闻  3 articles  " in out
    assert "  第02版 综合  3 articles  " in out
    assert f"  第03版 新闻  PDF {paper.full(f'/kjrb/images/{DAY:%Y-%m}/{DAY:%d}/03/')}" in out
    assert "articles (8)" in out
    for path, title in paper.titles.items():
        assert f"  [{paper.page_of[path]}] {title}\n      {paper.paragraphs[path][0][:60]}" in out
    for title in paper.pdf_titles:  # the page PDF, split as the worker splits it
        assert f"  [第03版 新闻] {title}\n      本报讯" in out
    assert "problems (0)" in out and "nothing was stored" in out
    assert list(instance.iterdir()) == []  # no database, no cache


def test_try_an_id_works_while_a_worker_holds_the_lock(site, instance):
    paper = layouts.hnrb(site, DAY)
    (instance / "sources.yaml").write_text(
        f"sources:\n  - id: hnrb\n    name: 湖南日报\n    url: {paper.url}\n    layout: founder\n",
        encoding="utf-8")
    db = connect(instance / "tracker.db")
    assert acquire(db, "worker", "another-host:1") is None
    db.conn.close()
    before = hashlib.sha256((instance / "tracker.db").read_bytes()).hexdigest()

    run = tracker(instance, "hnrb", "--date", DAY.isoformat())
    assert run.returncode == 0, run.stderr
    assert "湖南日报 (hnrb) · " + DAY.isoformat() in run.stdout
    for path, title in paper.titles.items():
        assert f"  [{paper.page_of[path]}] {title}\n" in run.stdout
    assert hashlib.sha256((instance / "tracker.db").read_bytes()).hexdigest() == before
    assert sorted(p.name for p in instance.iterdir()) == ["sources.yaml", "tracker.db"]


def test_try_names_the_problem_of_a_site_built_by_script(site, instance):
    paper = layouts.stdaily_spa(site, DAY)
    run = tracker(instance, paper.url)
    assert run.returncode == 1
    assert (f"problems (1)\n  {paper.url}: script-built: this site loads its pages by script; "
            "not supported") in run.stdout


def test_try_a_date_without_an_issue_says_so(site, instance):
    paper = layouts.kjrb(site, DAY)
    later = DAY + datetime.timedelta(days=1)
    run = tracker(instance, paper.url, "--date", later.isoformat())
    assert run.returncode == 1
    assert f"no issue for {later.isoformat()}: " in run.stdout and "HTTP 404" in run.stdout


@pytest.mark.parametrize("args, message", [
    (["nosuch"], "no source with id 'nosuch'"),
    (["https://x.example.cn/a/", "--date", "9 April"], "is not a date"),
    (["https://x.example.cn/a/", "--layout", "founder-xyz"], "is not a layout"),
])
def test_try_refuses_what_it_cannot_use(instance, args, message):
    run = tracker(instance, *args)
    assert run.returncode == 2
    assert message in run.stderr
