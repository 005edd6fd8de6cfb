"""A sentence is shown once (issue "What a new user met", item 6): the passages of one rule in
one article never overlap or repeat — in `tracker match`, in the alert mail the worker sends and
on the article page `tracker serve` shows. Seed page 002 holds a long sentence with many hits of
专业镇, which came out as three overlapping passages. The seed text is read at test time, never
copied here: the checks are on the passages' own text."""

from __future__ import annotations

import email
import html
import re
import shutil
import subprocess
import sys
from email import policy
from pathlib import Path

from conftest import REPO_RULES
from test_demo import free_port, get
from test_worker import wait_for, write_sources, source
from test_worker_deployed import Process, environment

SEED = "002_"
MARKS = re.compile("[【】]")


def plain(passage: str) -> str:
    """A passage's text without its marks and the … of a cut."""
    return MARKS.sub("", passage).strip().removeprefix("…").removesuffix("…")


def overlaps(passages: list[str]) -> list[tuple[str, str]]:
    """Pairs of passages that repeat, hold one another, or share an end (12 characters or more
    of one's end are the other's start)."""
    found = []
    texts = [plain(p) for p in passages]
    for i, a in enumerate(texts):
        for b in texts[i + 1:]:
            if a in b or b in a or any(a.endswith(b[:n]) or b.endswith(a[:n])
                                       for n in range(12, min(len(a), len(b)))):
                found.append((a, b))
    return found


def seed(seeds_dir: Path) -> Path:
    (page,) = [p for p in seeds_dir.glob("*.txt") if p.name.startswith(SEED)]
    return page


def test_tracker_match_prints_each_sentence_once(seeds_dir):
    done = subprocess.run([sys.executable, "-m", "tracker", "match", "--rules", str(REPO_RULES),
                           str(seed(seeds_dir))], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    blocks: list[list[str]] = []  # the passages of each rule × article
    for line in done.stdout.splitlines():
        if line.startswith("  ") and not line.startswith("    "):
            blocks.append([])
        elif line.startswith("    ") and blocks:
            blocks[-1].append(line.strip())
    assert sum(map(len, blocks)) > 20
    for passages in blocks:
        assert overlaps(passages) == []
    # Every hit is still marked: 39 hits of 专业镇 in the two articles
    zhuanyezhen = done.stdout.split("专业镇 (zhuanyezhen)")[1]
    assert zhuanyezhen.count("【专业镇】") == 39


def test_the_alert_mail_and_the_article_page_show_each_sentence_once(tmp_path, seeds_dir):
    instance, drop = tmp_path / "instance", tmp_path / "drop"
    instance.mkdir()
    drop.mkdir()
    shutil.copy(seed(seeds_dir), drop / "2025-04-09_page.txt")
    write_sources(instance, [source("drop", path=str(drop))])
    env = {**environment(instance, 0), "TRACKER_SMTP_HOST": ""}  # the development mailbox

    def tracker(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "tracker", *args], env=env,
                              capture_output=True, text=True, timeout=300)

    made = tracker("subscribe", "--email", "li@example.org", "--rules", "zhuanyezhen",
                   "--confirmed")
    assert made.returncode == 0, made.stderr
    ran = tracker("worker", "--once")
    assert ran.returncode == 0, ran.stderr
    (mail,) = (instance / "mailbox").glob("*.eml")
    message = email.message_from_bytes(mail.read_bytes(), policy=policy.default)
    text = message.get_body(("plain",)).get_content()
    passages = [line.strip()[2:] for line in text.splitlines() if line.startswith("    · ")]
    assert len(passages) > 10 and overlaps(passages) == []
    page = message.get_body(("html",)).get_content()
    shown = [html.unescape(re.sub(r"<[^>]+>", "", p)) for p in
             re.findall(r'<p style="margin:4px 0 4px 12px[^"]*">(.*?)</p>', page, re.S)]
    assert len(shown) == len(passages) and overlaps(shown) == []

    port = free_port()
    web = Process(env, "serve", "--port", str(port))
    try:
        assert wait_for(lambda: get(f"http://127.0.0.1:{port}/healthz")[0] == 200, 60), web.lines
        ids = set(re.findall(r"/articles/(\d+)", text))
        assert ids
        for article_id in ids:
            status, body = get(f"http://127.0.0.1:{port}/articles/{article_id}")
            assert status == 200
            listed = body.split('class="hit-list"')[1].split("</ul>")[0]
            items = [html.unescape(re.sub(r"<[^>]+>|（[^）]*）$", "", li).strip())
                     for li in re.findall(r"<li>(.*?)</li>", listed, re.S)]
            assert items and overlaps(items) == []
    finally:
        web.stop()
