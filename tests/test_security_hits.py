"""A page holding tens of thousands of one rule's hits costs linear time. Each
hit's passage found the other hits of its sentence by scanning all of the rule's hits, so a page
of 24,000 occurrences took seconds and a 30 MB one-line page did not finish. The work is counted
here (element reads), never timed; the timing is `bench/hits_bench.py` (`make bench`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tracker.store import connect
from tracker.text.snippets import sentence_ends, snippet
from tracker.web import create_app
from tracker.worker.service import Worker
from test_security_fetch import REPO, worker_config

MAX_HITS = 100  # hits kept per rule and article (tracker.matching.matcher.MAX_OCCURRENCES)
SENTENCE = "园区出让标准地12宗以上，新能源项目落地。"  # one hit of 标准地, one of 新能源


class CountedSpans(tuple):
    """A rule's hit spans that count how many of them are read (by index or by iteration)."""

    reads = 0

    def __getitem__(self, index):
        CountedSpans.reads += 1
        return tuple.__getitem__(self, index)

    def __iter__(self):
        for item in tuple.__iter__(self):
            CountedSpans.reads += 1
            yield item


def reads_for_every_passage(n: int) -> int:
    """Element reads of the hit spans while the passage of every one of n hits is cut."""
    text = SENTENCE * n
    at = [i * len(SENTENCE) + SENTENCE.index("标准地") for i in range(n)]
    spans = CountedSpans((a, a + 3) for a in at)
    ends = sentence_ends(text)
    CountedSpans.reads = 0
    for a in at:
        assert snippet(text, a, a + 3, others=spans, sentence_ends=ends).occurrence == "标准地"
    return CountedSpans.reads


def test_a_hits_passage_reads_only_the_hits_near_it():
    """Quadratic before: each passage read all n spans (n² reads, 4× for twice the hits)."""
    small, large = reads_for_every_passage(2000), reads_for_every_passage(4000)
    assert large / small < 2.2, (small, large)
    assert large < 20 * 4000, large  # a few reads per passage, not one per hit of the rule
    # The other hits of a passage's sentence are still found, and marked.
    text = "一。出让标准地，另有标准地与标准地。二。"
    spans = CountedSpans((i, i + 3) for i in (4, 10, 14))
    cut = snippet(text, 10, 13, others=spans, sentence_ends=sentence_ends(text))
    assert cut.marked() == "出让【标准地】，另有【标准地】与【标准地】。"


def page(tmp_path: Path, n: int) -> Path:
    path = tmp_path / "many.txt"
    path.write_text("工业用地出让提速\n\n" + SENTENCE * n, encoding="utf-8")
    return path


def test_tracker_match_keeps_the_first_hits_and_says_how_many_were_left_out(tmp_path):
    """The real command on a page of 24,000 occurrences (12,000 per rule): each rule's line
    lists MAX_HITS hits and counts the rest; the text format says so too."""
    path = page(tmp_path, 12000)
    env = {**os.environ, "TRACKER_INSTANCE": str(tmp_path / "instance")}
    run = [sys.executable, "-m", "tracker", "match", "-j", "1", "--rules", str(REPO / "rules")]
    done = subprocess.run([*run, "--format", "jsonl", str(path)], env=env, capture_output=True,
                          text=True, timeout=300, check=True)
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert {line["rule"] for line in lines} == {"biaozhundi", "xinnengyuan"}
    for line in lines:
        assert len(line["hits"]) == MAX_HITS
        assert line["hits_left_out"] == 12000 - MAX_HITS
        assert [h["offset"] for h in line["hits"]] == sorted(h["offset"] for h in line["hits"])
    text = subprocess.run([*run, str(path)], env=env, capture_output=True, text=True,
                          timeout=300, check=True).stdout
    assert "标准地 (biaozhundi): 12000 hits in 1 articles" in text
    assert f"… {12000 - MAX_HITS} more hits in this article not shown" in text


def test_the_worker_stores_the_first_hits_and_the_article_page_says_how_many(tmp_path):
    """A hostile source's page of 24,000 occurrences: the worker keeps MAX_HITS passages per
    rule (not 12,000 each in the hits row), counts them all, and the archive says it lists the
    first ones."""
    config = worker_config(tmp_path)
    page(tmp_path / "drop", 12000)
    Worker(config).once()
    db = connect(Path(config["INSTANCE_PATH"]) / "tracker.db")
    found = db.execute("SELECT article_id, rule_id, count, snippets FROM hits ORDER BY rule_id").fetchall()
    assert [(rule, count, len(json.loads(hits))) for _, rule, count, hits in found] == [
        ("biaozhundi", 12000, MAX_HITS), ("xinnengyuan", 12000, MAX_HITS)]
    app = create_app({"INSTANCE_PATH": config["INSTANCE_PATH"], "RULES": str(REPO / "rules")})
    answer = app.test_client().get(f"/articles/{found[0][0]}")
    assert answer.status_code == 200
    assert f"12000 处，列出前 {MAX_HITS} 处" in answer.get_data(as_text=True)
