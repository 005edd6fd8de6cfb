"""Operations: online backups, log lines (readable, JSON, no secrets), Prometheus /metrics."""

from __future__ import annotations

import io
import json
import logging
import multiprocessing
import re
import sqlite3
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from tracker.ops import logs
from tracker.ops.backup import backup
from tracker.store import connect, transaction

BATCH = 50


# --- backup ------------------------------------------------------------------------------------


def write_batches(path: str, started, done, stop) -> None:
    """Another process: commits batches of BATCH rows, one transaction each, until told to stop."""
    db = connect(path)
    batch = 0
    while not stop.is_set():
        with transaction(db):
            db["log"].insert_all([{"batch": batch, "n": n, "pad": "x" * 200} for n in range(BATCH)])
        batch += 1
        done.value = batch
        started.set()
    db.conn.close()


def test_backup_while_another_process_writes_is_a_consistent_copy(tmp_path):
    path = tmp_path / "instance" / "tracker.db"
    db = connect(path)
    with transaction(db):
        db["log"].insert({"batch": -1, "n": 0, "pad": ""})
    db.conn.close()
    ctx = multiprocessing.get_context("spawn")
    started, stop, done = ctx.Event(), ctx.Event(), ctx.Value("i", 0)
    writer = ctx.Process(target=write_batches, args=(str(path), started, done, stop))
    writer.start()
    try:
        assert started.wait(60), "the writer did not start"
        copies = []
        for i in range(3):
            before = done.value
            copies.append((before, backup(path, tmp_path / f"copy{i}.db")))
            time.sleep(0.05)
        after = done.value
    finally:
        stop.set()
        writer.join(60)
    assert writer.exitcode == 0
    assert after > copies[0][0], "the writer was not writing while the backups were made"
    for before, copy in copies:
        conn = sqlite3.connect(copy)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        batches = dict(conn.execute("SELECT batch, COUNT(*) FROM log WHERE batch >= 0 GROUP BY batch"))
        conn.close()
        # Every batch committed before the backup began is there, and none is there in part.
        assert len(batches) >= before > 0
        assert set(batches.values()) == {BATCH}
        assert sorted(batches) == list(range(len(batches)))
        assert not Path(f"{copy}-wal").exists()
    assert not list(tmp_path.glob(".*.tmp")), "a temporary file was left behind"


def test_backup_by_default_goes_to_instance_backups_with_the_time_in_its_name(tmp_path):
    path = tmp_path / "instance" / "tracker.db"
    db = connect(path)
    with transaction(db):
        db["sources"].insert({"id": "rmrb", "name": "人民日报"})
    db.conn.close()
    made = backup(path)
    assert made.parent == tmp_path / "instance" / "backups"
    match = re.fullmatch(r"tracker-(\d{8}-\d{6})\.db", made.name)
    assert match, made.name
    assert abs(datetime.strptime(match.group(1), "%Y%m%d-%H%M%S") - datetime.now()) < timedelta(minutes=1)
    assert made.stat().st_mode & 0o077 == 0, "a backup holds secrets: owner only"
    assert connect(made)["sources"].get("rmrb")["name"] == "人民日报"
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    assert backup(path, folder).parent == folder  # a folder: the default name inside it
    with pytest.raises(FileExistsError):
        backup(path, made)
    with pytest.raises(FileNotFoundError):
        backup(tmp_path / "missing.db", tmp_path / "x.db")
    assert not (tmp_path / "missing.db").exists() and not (tmp_path / "x.db").exists()


def test_backup_command_prints_the_path_and_size(tmp_path, monkeypatch):
    from tracker.cli import main

    instance = tmp_path / "instance"
    connect(instance / "tracker.db").conn.close()
    monkeypatch.setenv("TRACKER_INSTANCE", str(instance))
    result = CliRunner().invoke(main, ["backup"])
    assert result.exit_code == 0, result.output
    path, size = re.fullmatch(r"(\S+) (\d+) bytes\n", result.stdout).groups()
    assert Path(path).parent == instance / "backups" and Path(path).stat().st_size == int(size) > 0
    dest = tmp_path / "b.db"
    assert CliRunner().invoke(main, ["backup", str(dest)]).exit_code == 0 and dest.is_file()
    again = CliRunner().invoke(main, ["backup", str(dest)])
    assert again.exit_code == 1 and "exists" in again.stderr


# --- logs --------------------------------------------------------------------------------------


@pytest.fixture
def capture():
    """setup() with a handler writing to a StringIO; the root logger put back afterwards."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    out = io.StringIO()

    def start(**kwargs):
        logs.setup(handler=logging.StreamHandler(out), **kwargs)
        return out

    yield start
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


def test_readable_lines_by_default(capture, monkeypatch):
    monkeypatch.delenv("TRACKER_LOG_JSON", raising=False)
    out = capture(level="INFO")
    logging.getLogger("tracker.worker").info("%s: %d new articles", "人民日报", 3)
    logging.getLogger("tracker.worker").debug("not shown at INFO")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d INFO tracker\.worker: 人民日报: 3 new articles\n",
                        out.getvalue()), out.getvalue()


def test_json_lines_parse_and_carry_the_fields(capture):
    out = capture(level="DEBUG", json_lines=True)
    log = logging.getLogger("tracker.worker")
    log.info("人民日报: %d new", 2)
    try:
        raise ValueError("broken page")
    except ValueError:
        log.exception("cycle failed")
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and "人民日报" in lines[0]  # non-ASCII as is, not \\u escapes
    first, second = (json.loads(line) for line in lines)
    assert first["level"] == "INFO" and first["logger"] == "tracker.worker"
    assert first["message"] == "人民日报: 2 new" and "exception" not in first
    stamp = datetime.fromisoformat(first["time"])
    assert stamp.tzinfo is not None and abs(stamp - datetime.now(timezone.utc)) < timedelta(minutes=1)
    assert second["level"] == "ERROR" and second["message"] == "cycle failed"
    assert "Traceback" in second["exception"] and "ValueError: broken page" in second["exception"]


def test_the_command_line_logs_json_when_asked(tmp_path):
    """The real entry point: `tracker` with TRACKER_LOG_JSON=1 logs JSON lines on stderr."""
    import os
    import subprocess
    import sys

    code = ("import logging, sys; from tracker.cli import main; "
            "main.add_command(__import__('click').command('say')(lambda: logging.getLogger('tracker.x')"
            ".warning('url https://u:hunter2@example.org/x'))); main(['say'])")
    env = {**os.environ, "TRACKER_LOG_JSON": "1", "TRACKER_INSTANCE": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=120)
    entry = json.loads(done.stderr.strip().splitlines()[-1])
    assert entry["logger"] == "tracker.x" and entry["level"] == "WARNING"
    assert entry["message"] == "url https://u:***@example.org/x"


@pytest.mark.parametrize("message, args, secret, kept", [
    ("webhook secret %s", ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",), "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_***"),
    ("sent with headers %s", ({"Authorization": "Bearer t0k3n.abc-DEF"},), "t0k3n.abc-DEF", "Bearer ***"),
    ("Authorization: Bearer %s", ("s3cr3t-token",), "s3cr3t-token", "Authorization: Bearer ***"),
    ("smtp %s refused", ("smtp://mailer:p%40ss-word@mail.example.org:587",), "p%40ss-word",
     "smtp://mailer:***@mail.example.org:587"),
    ("GET https://api.example.org/x?user=a&token=abc123 failed", (), "abc123", "token=***"),
])
def test_the_secret_filter_masks_secrets(capture, message, args, secret, kept):
    out = capture(level="INFO", json_lines=False)
    logging.getLogger("tracker.alerts").warning(message, *args)
    text = out.getvalue()
    assert secret not in text and kept in text, text


def test_the_secret_filter_masks_exception_text(capture):
    out = capture(level="INFO", json_lines=True)
    try:
        raise ConnectionError("POST https://bot:pa55w0rd@hooks.example.org failed, key whsec_abcDEF123=")
    except ConnectionError:
        logging.getLogger("tracker.alerts").exception("delivery failed")
    entry = json.loads(out.getvalue())
    assert "pa55w0rd" not in entry["exception"] and "abcDEF123" not in entry["exception"]
    assert "https://bot:***@hooks.example.org" in entry["exception"]


def test_mask_leaves_ordinary_text_alone():
    for text in ["人民日报 2025-04-09: 3 new articles from https://paper.people.com.cn/rmrb/",
                 "https://paper.example.org/a?page=2#top", "Basic rules: the bearer of news",
                 "mailto:someone@example.org", "user@example.org: 2 deliveries sent"]:
        assert logs.mask(text) == text


# --- /metrics ----------------------------------------------------------------------------------


def seed(db) -> None:
    from builders import add_article
    from tracker.store.articles import NewArticle
    from tracker.store.runs import finish_run, start_run
    from tracker.store.subscriptions import add_subscription, set_state

    with transaction(db):
        db["sources"].insert_all([{"id": "rmrb", "name": "人民日报"}, {"id": "jjrb", "name": "经济日报"},
                                  {"id": "quiet", "name": "无声"}])
        ids = [add_article(db, NewArticle("rmrb", f"标题{i}", f"正文第{i}篇，绿色电力。"))[0] for i in range(3)]
        ids.append(add_article(db, NewArticle("jjrb", "经济", "正文：碳市场。"))[0])
        db["hits"].insert_all([
            {"article_id": ids[0], "rule_id": "green-power", "rule_name": "绿电", "count": 1},
            {"article_id": ids[1], "rule_id": "green-power", "rule_name": "绿电", "count": 2},
            {"article_id": ids[3], "rule_id": "carbon", "rule_name": "碳", "count": 1},
        ])
        mail, _ = add_subscription(db, "email", "a@example.org", ["green-power"], "daily", active=True)
        hook, _ = add_subscription(db, "webhook", "https://h.example.org/x", ["carbon"], "instant",
                                   active=True, secret="whsec_x")
        add_subscription(db, "email", "b@example.org", ["carbon"], "daily", active=False)
        set_state(db, hook.id, "disabled", "gone", detail="410")
        for sub, status in [(mail.id, "sent"), (mail.id, "sent"), (mail.id, "dead"), (hook.id, "failed")]:
            db["deliveries"].insert({"subscription_id": sub, "status": status, "created_at": "2025-04-09"})
    finish_run(db, start_run(db, "rmrb"), status="error", error="timeout")
    finish_run(db, start_run(db, "rmrb"), status="error", error="timeout")
    finish_run(db, start_run(db, "rmrb"), status="ok")
    finish_run(db, start_run(db, "jjrb"), status="ok")
    with transaction(db):  # the last jjrb run: a known start and end
        db["runs"].insert({"source_id": "jjrb", "started": "2030-01-01T00:00:00+00:00",
                           "finished": "2030-01-01T00:00:42.500000+00:00", "status": "ok"})
        db["runs"].insert({"source_id": "jjrb", "started": "2030-01-02T00:00:00+00:00",
                           "status": "running"})  # not finished: not the last run


def samples(text: str) -> dict[tuple, float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


@pytest.fixture
def seeded(app):
    from tracker.web.db import get_db

    with app.app_context():
        seed(get_db())
    return app


def test_metrics_parse_and_report_the_seeded_counts(seeded):
    answer = seeded.test_client().get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    got = samples(answer.get_data(as_text=True))
    assert got[("tracker_articles_total", (("source", "rmrb"),))] == 3
    assert got[("tracker_articles_total", (("source", "jjrb"),))] == 1
    assert got[("tracker_articles_total", (("source", "quiet"),))] == 0
    assert got[("tracker_hits_total", (("rule", "green-power"),))] == 2
    assert got[("tracker_hits_total", (("rule", "carbon"),))] == 1
    assert got[("tracker_deliveries", (("channel", "email"), ("status", "sent")))] == 2
    assert got[("tracker_deliveries", (("channel", "email"), ("status", "dead")))] == 1
    assert got[("tracker_deliveries", (("channel", "webhook"), ("status", "failed")))] == 1
    assert got[("tracker_deliveries", (("channel", "chat"), ("status", "pending")))] == 0
    assert got[("tracker_source_errors_total", (("source", "rmrb"),))] == 2
    assert got[("tracker_source_errors_total", (("source", "jjrb"),))] == 0
    jjrb = (("source", "jjrb"),)
    assert got[("tracker_last_run_timestamp_seconds", jjrb)] == datetime(
        2030, 1, 1, 0, 0, 42, 500000, tzinfo=timezone.utc).timestamp()
    assert got[("tracker_cycle_duration_seconds", jjrb)] == pytest.approx(42.5)
    rmrb_last = got[("tracker_last_run_timestamp_seconds", (("source", "rmrb"),))]
    assert abs(rmrb_last - time.time()) < 60
    assert 0 <= got[("tracker_cycle_duration_seconds", (("source", "rmrb"),))] < 60
    assert ("tracker_last_run_timestamp_seconds", (("source", "quiet"),)) not in got  # never ran
    assert got[("tracker_subscriptions", (("state", "active"),))] == 1
    assert got[("tracker_subscriptions", (("state", "pending"),))] == 1
    assert got[("tracker_subscriptions", (("state", "disabled"),))] == 1
    assert got[("tracker_subscriptions", (("state", "unsubscribed"),))] == 0


def test_metrics_are_read_at_scrape_time(seeded):
    """Another process (the worker) writes: the next scrape sees it, no restart."""
    client = seeded.test_client()
    key = ("tracker_source_errors_total", (("source", "jjrb"),))
    assert samples(client.get("/metrics").get_data(as_text=True))[key] == 0
    other = connect(Path(seeded.instance_path) / "tracker.db")
    with transaction(other):
        other["runs"].insert({"source_id": "jjrb", "status": "error", "started": "x", "finished": "y"})
    other.conn.close()
    assert samples(client.get("/metrics").get_data(as_text=True))[key] == 1


def test_metrics_without_a_token_are_for_loopback_only(app):
    client = app.test_client()
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.5"}).status_code == 403
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.0.0.2"}).status_code == 403


def test_metrics_with_a_token_need_it_from_everyone(tmp_path, monkeypatch):
    from tracker.web import create_app

    monkeypatch.setenv("TRACKER_METRICS_TOKEN", "m3trics")
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance")})
    client = app.test_client()
    remote = {"REMOTE_ADDR": "203.0.113.5"}
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 401
    wrong = client.get("/metrics", environ_base=remote, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "Bearer" in wrong.headers["WWW-Authenticate"]
    assert client.get("/metrics", environ_base=remote,
                      headers={"Authorization": "Basic m3trics"}).status_code == 401
    right = client.get("/metrics", environ_base=remote, headers={"Authorization": "Bearer m3trics"})
    assert right.status_code == 200 and "tracker_subscriptions" in right.get_data(as_text=True)


def test_metrics_are_not_rate_limited_nor_csrf_checked(tmp_path):
    from tracker.web import create_app

    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"),
                      "RATELIMIT_DEFAULT": "2 per minute"})
    client = app.test_client()
    statuses = [client.get("/healthz").status_code for _ in range(3)]
    assert statuses[-1] == 429, "the default limit is not in force: this test proves nothing"
    assert {client.get("/metrics").status_code for _ in range(5)} == {200}
    assert client.post("/metrics").status_code == 405  # not 400 "CSRF token missing"


def test_metrics_command_prints_the_exposition(tmp_path, monkeypatch):
    from tracker.cli import main

    instance = tmp_path / "instance"
    db = connect(instance / "tracker.db")
    seed(db)
    db.conn.close()
    monkeypatch.setenv("TRACKER_INSTANCE", str(instance))
    result = CliRunner().invoke(main, ["metrics"])
    assert result.exit_code == 0, result.output
    assert samples(result.stdout)[("tracker_articles_total", (("source", "rmrb"),))] == 3
