"""Backfill: a new rule matched against the archive, hits recorded once, nothing else touched."""

import os
import subprocess
import sys

from tracker.rules import Rule
from tracker.store import connect, transaction
from builders import add_article
from tracker.store.articles import NewArticle
from tracker.worker.backfill import backfill


def test_a_new_rule_finds_its_articles_in_the_archive_once(tmp_path):
    db = connect(tmp_path / "tracker.db")
    with transaction(db):
        db["sources"].insert({"id": "s", "name": "S", "type": "folder", "location": "/x"})
        for text in ("园区企业用上绿\n电。", "开展绿证交易。", "与主题无关。", "不是绿电视。"):
            add_article(db, NewArticle(source_id="s", title=None, text=text, issue_date="2025-04-09"))
    rule = Rule(id="lvdian", name="绿电", keywords=("绿电", "绿证"))
    seen: list[int] = []
    assert backfill(db, rule, advance=seen.append) == (2, 2, 0)
    assert sum(seen) == 4
    assert backfill(db, rule) == (2, 0, 0)  # run again: nothing new
    assert backfill(db, rule, days=1) == (0, 0, 0)  # those articles are older than a day
    assert db.execute("SELECT count(*) FROM hits WHERE rule_id = 'lvdian'").fetchone() == (2,)


def test_backfill_command(tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.yaml").write_text("id: zyz\nname: 专业镇\nkeywords: [专业镇]\n", encoding="utf-8")
    db = connect(tmp_path / "tracker.db")
    with transaction(db):
        db["sources"].insert({"id": "s", "name": "S", "type": "folder", "location": "/x"})
        add_article(db, NewArticle(source_id="s", title="专业镇观察", text="推动专业镇发展。"))
    env = {**os.environ, "TRACKER_INSTANCE": str(tmp_path), "TRACKER_RULES": str(rules)}
    run = [sys.executable, "-m", "tracker", "backfill", "--rule"]
    done = subprocess.run(run + ["zyz"], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "zyz: fires in 1 archived articles; 1 new hits recorded" in done.stdout
    done = subprocess.run(run + ["nope"], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 2 and "no rule with id 'nope'" in done.stderr
