"""Source health: the pure judgement over a source's runs (table-driven), the episodes it opens
and closes with the admin told once each way, and the admin's notice through each channel the
subscribers' alerts use (the development mailbox, SMTP, a signed webhook, Apprise)."""

from __future__ import annotations

import email
import json
from datetime import datetime, timedelta, timezone
from email import policy

import pytest
from standardwebhooks.webhooks import Webhook

from tracker.alerts.admin import admin_target, send_admin_notices, watch_source
from tracker.ops.source_health import Thresholds, evaluate
from tracker.store import connect, transaction
from tracker.store.clock import iso
from tracker.store.episodes import open_episodes, recent_episodes

NOW = datetime(2025, 4, 20, 12, 0, tzinfo=timezone.utc)


def run(hours_ago: float, status: str = "ok", fetched: int = 10, new: int | None = None,
        error: str | None = None) -> dict:
    at = iso(NOW - timedelta(hours=hours_ago))
    return {"status": status, "started": at, "finished": at, "fetched": fetched,
            "new_articles": fetched if new is None else new, "error": error}


def daily(days: int, **kw) -> list[dict]:
    """A run a day for `days` days up to yesterday, oldest first."""
    return [run(24 * d, **kw) for d in range(days, 0, -1)]


CASES = [
    ("no runs", [], []),
    ("healthy daily paper", daily(10), []),
    ("three failures in a row", daily(5) + [run(3, "error", 0, error="x: HTTP 500")] * 3,
     ["failing"]),
    ("two failures are not yet an episode", daily(5) + [run(2, "error", 0)] * 2, []),
    ("a failure between good runs", daily(5) + [run(3, "error", 0), run(1)], []),
    ("a day without new articles is no silence", daily(10) + [run(0.5, fetched=10, new=0)], []),
    ("silent: no new article for 60 h, usually every 24 h",
     [run(24 * d + 60, fetched=10) for d in range(6, 0, -1)] + [run(1, fetched=10, new=0)],
     ["silent"]),
    ("too little history to know a gap", [run(200), run(100), run(1, new=0)], []),
    ("0 articles where 10 were usual", daily(6) + [run(1, fetched=0)], ["empty"]),
    ("0 articles but the history is short", daily(3) + [run(1, fetched=0)], []),
    ("a folder that usually brings nothing", daily(8, fetched=0) + [run(1, fetched=0)], []),
    ("2 where 40 were usual", daily(6, fetched=40) + [run(1, fetched=2)], ["low"]),
    ("12 where 40 were usual is not far fewer", daily(6, fetched=40) + [run(1, fetched=12)], []),
    ("2 where 4 were usual: too small to judge", daily(6, fetched=4) + [run(1, fetched=2)], []),
    ("a 304 after an empty run keeps it empty", daily(6) + [run(2, fetched=0),
                                                            run(1, "not_modified", 0)], ["empty"]),
    ("no issue yet is not empty", daily(6) + [run(1, "no_issue", 0)], []),
    ("a rebuilt site: errors after good runs, and silent", daily(8)[:-3] +
     [run(50, "error", 0), run(26, "error", 0), run(1, "error", 0)], ["failing", "silent"]),
]


@pytest.mark.parametrize("runs, expected", [(r, e) for _, r, e in CASES],
                         ids=[name for name, _, _ in CASES])
def test_evaluate(runs, expected):
    assert [s.kind for s in evaluate(runs, NOW)] == expected


def test_thresholds_from_settings():
    limits = Thresholds.of({"HEALTH_FAIL_RUNS": 2, "HEALTH_LOW_RATIO": "0.5"})
    assert (limits.fail_runs, limits.low_ratio, limits.gap_factor) == (2, 0.5, 2.0)
    assert [s.kind for s in evaluate(daily(5) + [run(2, "error", 0)] * 2, NOW, limits)] == ["failing"]


@pytest.mark.parametrize("value, expected", [
    ("", None), ("ops@example.org", ("email", "ops@example.org")),
    ("https://hooks.example.org/x", ("webhook", "https://hooks.example.org/x")),
    ("dingtalk://token", ("chat", "dingtalk://token")),
])
def test_admin_target(value, expected):
    assert admin_target({"ADMIN_ALERTS": value}) == expected


# ---- episodes ------------------------------------------------------------------------------------

@pytest.fixture
def db(tmp_path, fresh_archive):
    database = connect(fresh_archive(tmp_path / "instance" / "tracker.db"))
    yield database
    database.conn.close()


def add_runs(db, source_id: str, runs: list[dict]) -> None:
    with transaction(db):
        for r in runs:
            db["runs"].insert({"source_id": source_id, **{k: r[k] for k in (
                "status", "started", "finished", "fetched", "error")},
                "new_articles": r["new_articles"], "hits": 0})


def test_an_episode_is_told_once_and_again_when_it_ends(db, tmp_path):
    config = {"ADMIN_ALERTS": "ops@example.org", "INSTANCE_PATH": str(tmp_path / "instance")}
    add_runs(db, "sxrb", daily(5) + [run(3, "error", 0, error="x: HTTP 500")] * 3)
    assert watch_source(db, config, "sxrb", "山西日报", NOW) == ["start:failing"]
    add_runs(db, "sxrb", [run(2, "error", 0, error="x: HTTP 500")])
    assert watch_source(db, config, "sxrb", "山西日报", NOW) == []  # still the same episode
    assert send_admin_notices(db, config, NOW) == {"sent": 1}
    assert send_admin_notices(db, config, NOW) == {}  # never twice
    add_runs(db, "sxrb", [run(1)])
    assert watch_source(db, config, "sxrb", "山西日报", NOW) == ["end:failing"]
    assert open_episodes(db) == []
    [episode] = recent_episodes(db)
    assert episode.kind == "failing" and episode.ended_at and "HTTP 500" in episode.detail
    assert send_admin_notices(db, config, NOW) == {"sent": 1}
    mails = sorted((tmp_path / "instance" / "mailbox").glob("*.eml"))
    subjects = [email.message_from_bytes(m.read_bytes(), policy=policy.default)["Subject"]
                for m in mails]
    assert subjects == ["【政策追踪】来源告警：山西日报（连续读取失败）",
                        "【政策追踪】来源恢复：山西日报（连续读取失败）"]
    body = email.message_from_bytes(mails[0].read_bytes(), policy=policy.default) \
        .get_body(("plain",)).get_content()
    assert "连续 3 次读取失败" in body and "HTTP 500" in body


def test_without_admin_alerts_episodes_are_kept_and_nothing_is_sent(db, tmp_path):
    config = {"INSTANCE_PATH": str(tmp_path / "instance")}
    add_runs(db, "sxrb", daily(6) + [run(1, fetched=0)])
    assert watch_source(db, config, "sxrb", None, NOW) == ["start:empty"]
    assert send_admin_notices(db, config, NOW) == {}
    assert db["admin_notices"].count == 0 and not (tmp_path / "instance" / "mailbox").exists()


def test_over_smtp_and_a_failure_is_retried(db, smtp, tmp_path):
    config = {**smtp.config, "ADMIN_ALERTS": "ops@example.org", "RETRY_DELAYS": "0"}
    add_runs(db, "kjrb", daily(6, fetched=40) + [run(1, fetched=2)])
    assert watch_source(db, config, "kjrb", "科技日报", NOW) == ["start:low"]
    down = {**config, "SMTP_PORT": 9}  # nothing listens there
    assert send_admin_notices(db, down, NOW) == {"failed": 1}
    assert send_admin_notices(db, config, NOW) == {"sent": 1}
    [received] = smtp.recorder.messages
    message = email.message_from_bytes(received.data, policy=policy.default)
    assert message["Subject"] == "【政策追踪】来源告警：科技日报（文章数量骤减）"
    assert "本次只读到 2 篇文章，此前通常每次 40 篇" in message.get_body(("plain",)).get_content()


def test_to_a_webhook_signed_like_alerts(db, site, tmp_path):
    got: list = []

    def hook(handler):
        length = int(handler.headers.get("Content-Length", 0))
        got.append((dict(handler.headers), handler.rfile.read(length)))
        handler.send_response(204)
        handler.end_headers()
    site.routes["/hook"] = hook
    config = {"ADMIN_ALERTS": site.base + "/hook", "WEBHOOK_ALLOW_PRIVATE": True,
              "INSTANCE_PATH": str(tmp_path / "instance"), "ADMIN_WEBHOOK_SECRET":
              "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
    add_runs(db, "sxrb", daily(6) + [run(1, fetched=0)])
    watch_source(db, config, "sxrb", "山西日报", NOW)
    assert send_admin_notices(db, config, NOW) == {"sent": 1}
    [(headers, body)] = got
    headers = {k.lower(): v for k, v in headers.items()}
    document = Webhook(config["ADMIN_WEBHOOK_SECRET"]).verify(body, headers)
    assert document["type"] == "tracker.source_health"
    assert document["data"]["event"] == "start" and document["data"]["kind"] == "empty"
    assert document["data"]["source"] == "sxrb" and "读到 0 篇文章" in document["data"]["text"]


def test_a_webhook_to_this_host_is_refused_without_allow_private(db, site, tmp_path):
    site.routes["/hook"] = lambda handler: None
    config = {"ADMIN_ALERTS": site.base + "/hook", "INSTANCE_PATH": str(tmp_path / "instance")}
    add_runs(db, "sxrb", daily(6) + [run(1, fetched=0)])
    watch_source(db, config, "sxrb", "山西日报", NOW)
    assert send_admin_notices(db, config, NOW) == {"dead": 1}
    assert "/hook" not in site.requested
    assert "refused" in db.execute("SELECT last_error FROM admin_notices").fetchone()[0]


def test_to_a_chat_robot_through_apprise(db, site, tmp_path):
    got: list = []

    def hook(handler):
        length = int(handler.headers.get("Content-Length", 0))
        got.append(json.loads(handler.rfile.read(length)))
        handler.send_response(200)
        handler.send_header("Content-Length", "0")
        handler.end_headers()
    site.routes["/robot"] = hook
    config = {"ADMIN_ALERTS": site.base.replace("http://", "json://") + "/robot",
              "WEBHOOK_ALLOW_PRIVATE": True, "INSTANCE_PATH": str(tmp_path / "instance")}
    add_runs(db, "sxrb", daily(5) + [run(1, "error", 0, error="boom")] * 3)
    watch_source(db, config, "sxrb", "山西日报", NOW)
    assert send_admin_notices(db, config, NOW) == {"sent": 1}
    [message] = got
    assert message["title"] == "【政策追踪】来源告警：山西日报（连续读取失败）"
    assert "boom" in message["message"]
