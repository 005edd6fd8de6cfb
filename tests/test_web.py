"""The web app's frame: configuration, /healthz, security headers, rate-limit storage."""

import multiprocessing

from tracker.web import create_app
from tracker.web.ratelimit import SQLiteStorage


def test_configuration_order_defaults_instance_file_environment_test(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text('BASE_URL = "https://from-file.example"\n'
                                        'DIGEST_HOUR = 6\n', encoding="utf-8")
    monkeypatch.setenv("TRACKER_DIGEST_HOUR", "7")
    app = create_app({"INSTANCE_PATH": str(instance), "TESTING": True})
    assert app.instance_path == str(instance)
    assert app.config["BASE_URL"] == "https://from-file.example"  # the instance file
    assert app.config["DIGEST_HOUR"] == 7  # the environment wins over the file
    assert app.config["DATABASE"] == "tracker.db"  # a default
    assert app.config["SECRET_KEY"] == (instance / "secret_key").read_text().strip()
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_healthz_answers_with_the_database_and_the_last_cycle(app, client):
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json == {"status": "ok", "database": "ok", "last_cycle": None}
    from tracker.store.runs import finish_run, start_run
    from tracker.web.db import get_db

    with app.app_context():
        db = get_db()
        finish_run(db, start_run(db, "s"), status="ok")
    assert client.get("/healthz").json["last_cycle"] is not None


def test_healthz_says_when_the_database_cannot_be_opened(tmp_path):
    instance = tmp_path / "instance"
    (tmp_path / "no-such-dir").write_text("a file where a folder should be")
    app = create_app({"INSTANCE_PATH": str(instance), "TESTING": True,
                      "DATABASE": str(tmp_path / "no-such-dir" / "file" / "x.db")})
    answer = app.test_client().get("/healthz")
    assert answer.status_code == 503 and answer.json["status"] == "error"


def test_every_response_carries_the_security_headers(client):
    headers = client.get("/healthz").headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"  # tokens in paths never leave the site


def count_in_another_process(path: str, queue) -> None:
    queue.put(SQLiteStorage(f"sqlite://{path}").incr("k", 60))


def test_rate_limit_counters_hold_across_processes(tmp_path):
    path = tmp_path / "ratelimit.db"
    here = SQLiteStorage(f"sqlite://{path}")
    assert here.incr("k", 60) == 1
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    other = context.Process(target=count_in_another_process, args=(str(path), queue))
    other.start()
    other.join(timeout=60)
    assert queue.get(timeout=10) == 2  # the other process saw this one's count
    assert here.get("k") == 2 and here.get_expiry("k") > 0
    here.clear("k")
    assert here.get("k") == 0
    assert here.incr("short", -1) == 1 and here.incr("short", 60) == 1  # expired: a new window


def test_one_apps_default_rate_limit_does_not_reach_the_next_app(tmp_path):
    limited = create_app({"INSTANCE_PATH": str(tmp_path / "a"), "TESTING": True,
                          "RATELIMIT_DEFAULT": "1 per minute"}).test_client()
    assert [limited.get("/healthz").status_code for _ in range(2)] == [200, 429]
    free = create_app({"INSTANCE_PATH": str(tmp_path / "b"), "TESTING": True}).test_client()
    assert {free.get("/healthz").status_code for _ in range(3)} == {200}
