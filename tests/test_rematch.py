"""Articles kept under other rules than those in force are matched again (tracker.worker.rematch):
kept while no rules were in force, by an older version, or before a rule was edited; their
alerts are queued once, never again for what was already due or sent."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from test_worker import rows, source, write_sources
from tracker.alerts.subscribe import subscribe
from tracker.config import load_config
from tracker.store import connect
from tracker.worker.rematch import rematch
from tracker.worker.rulebook import RuleBook
from tracker.worker.service import Worker

PAGE = "标准地改革再提速\n本报讯 开发区今年出让标准地12宗，专业镇企业拿地即开工。\n"


def write_rule(folder: Path, rule_id: str, keywords: str) -> None:
    path = folder / f"{rule_id}.yaml"
    path.write_text(f"id: {rule_id}\nname: {rule_id}\nkeywords: [{keywords}]\n", encoding="utf-8")
    stamp = time.time_ns() + 10**9 * len(list(folder.iterdir()))  # a new mtime, whatever the clock
    os.utime(path, ns=(stamp, stamp))


@pytest.fixture
def rules(tmp_path) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    return folder


@pytest.fixture
def config(instance: Path, rules: Path) -> dict:
    return load_config({"INSTANCE_PATH": str(instance), "RULES": str(rules),
                        "FOLDER_SETTLE_SECONDS": 0}, environ={})


@pytest.fixture
def drop(tmp_path, instance) -> Path:
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "p1.txt").write_text(PAGE, encoding="utf-8")
    write_sources(instance, [source("drop", path=str(folder))])
    return folder


def subscriber(config: dict, address: str, rule: str, known: list[str]) -> None:
    db = connect(Path(config["INSTANCE_PATH"]) / "tracker.db")
    subscribe(db, config, "email", address, [rule], known, confirmed=True, admin=True)
    db.conn.close()


def test_kept_with_no_rules_then_matched_and_alerted_once_rules_arrive(config, rules, drop):
    worker = Worker(config)
    (report,) = worker.once()  # an empty rules folder: kept, not matched
    assert report.counts.new == 1 and report.counts.hits == 0
    assert rows(config, "SELECT matched_with FROM articles") == [(None,)]
    subscriber(config, "a@example.org", "bzd", ["bzd"])
    write_rule(rules, "bzd", "标准地")
    worker.once()  # the file was read already: only matching again finds the hit
    assert rows(config, "SELECT rule_id FROM hits") == [("bzd",)]
    assert rows(config, "SELECT count(*) FROM outbox") == [(1,)]
    digest = RuleBook(rules).refresh().digest
    assert rows(config, "SELECT matched_with FROM articles") == [(digest,)]
    worker.once()
    assert rows(config, "SELECT count(*) FROM outbox") == [(1,)]  # once


def test_a_rule_edited_matches_the_recent_articles_again_without_alerting_twice(config, rules,
                                                                                drop):
    write_rule(rules, "bzd", "标准地")
    subscriber(config, "a@example.org", "bzd", ["bzd", "zyz"])
    worker = Worker(config)
    worker.once()
    assert rows(config, "SELECT rule_id FROM hits") == [("bzd",)]
    sent = rows(config, "SELECT id, delivery_id FROM outbox")
    assert len(sent) == 1 and sent[0][1] is not None  # delivered (to the mailbox)
    write_rule(rules, "zyz", "专业镇")  # a new rule: the article is matched again
    subscriber(config, "b@example.org", "zyz", ["bzd", "zyz"])
    worker.once()
    assert sorted(rows(config, "SELECT rule_id FROM hits")) == [("bzd",), ("zyz",)]
    due = rows(config, "SELECT s.address, o.rule_id FROM outbox o JOIN subscriptions s ON "
                       "s.id = o.subscription_id ORDER BY o.id")
    assert due == [("a@example.org", "bzd"), ("b@example.org", "zyz")]
    assert rows(config, "SELECT id, delivery_id FROM outbox WHERE rule_id = 'bzd'") == sent


def test_only_articles_first_seen_within_the_window_are_matched_again(config, rules, drop):
    worker = Worker(config)
    worker.once()
    db = connect(Path(config["INSTANCE_PATH"]) / "tracker.db")
    old = (datetime.now(timezone.utc) - timedelta(days=8)).isoformat()
    db.execute("UPDATE articles SET first_seen = ?", [old])
    db.conn.commit()
    write_rule(rules, "bzd", "标准地")
    in_force = RuleBook(rules).refresh()
    assert rematch(db, in_force, days=7).fetched == 0
    assert rows(config, "SELECT count(*) FROM hits") == [(0,)]
    assert rematch(db, in_force, days=9).fetched == 1
    assert rows(config, "SELECT rule_id FROM hits") == [("bzd",)]
    assert rematch(db, in_force, days=0).fetched == 0  # 0 turns it off


def test_backfill_alert_queues_the_alerts_of_the_new_hits(config, rules, drop, instance):
    worker = Worker(config)
    worker.once()  # kept with no rules
    write_rule(rules, "bzd", "标准地")
    subscriber(config, "a@example.org", "bzd", ["bzd"])
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")},
           "TRACKER_INSTANCE": str(instance), "TRACKER_RULES": str(rules)}
    quiet = subprocess.run([sys.executable, "-m", "tracker", "backfill", "--rule", "bzd"],
                           env=env, capture_output=True, text=True, timeout=120)
    assert quiet.returncode == 0 and "no alerts queued" in quiet.stdout
    assert rows(config, "SELECT count(*) FROM outbox") == [(0,)]
    db = connect(instance / "tracker.db")
    db.execute("DELETE FROM hits")
    db.conn.commit()
    loud = subprocess.run([sys.executable, "-m", "tracker", "backfill", "--rule", "bzd",
                           "--alert"], env=env, capture_output=True, text=True, timeout=120)
    assert loud.returncode == 0 and "1 alerts queued" in loud.stdout, loud.stdout
    assert rows(config, "SELECT count(*) FROM outbox") == [(1,)]
