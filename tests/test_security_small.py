"""Smaller ways to make the service work hard or fail: an import of 8,000 TrendRadar groups of one name took
10–37 s (each id tried every number from 2 again) and wrote a file per group; an article id
past SQLite's integers gave a 500 with a traceback; failed admin logins were limited per client
address only. Work is counted (lines run), never timed."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from conftest import REPO_RULES, csrf_token
from tracker.rules import trendradar
from tracker.web import create_app

HUGE = "99999999999999999999"


def groups(n: int, word: str = "AI") -> str:
    """A TrendRadar file of n groups, all of one name."""
    return "\n\n".join(f"{word}\n+芯片" for _ in range(n)) + "\n"


def lines_run(fn, module) -> int:
    """Lines of `module` executed while fn() runs: its work, counted instead of timed."""
    count = 0
    filename = module.__file__

    def trace(frame, event, _arg):
        nonlocal count
        if frame.f_code.co_filename != filename:
            return None
        if event == "line":
            count += 1
        return trace

    sys.settrace(trace)
    try:
        fn()
    finally:
        sys.settrace(None)
    return count


def test_converting_groups_of_one_name_takes_linear_work():
    small = lines_run(lambda: trendradar.convert(groups(300)), trendradar)
    large = lines_run(lambda: trendradar.convert(groups(600)), trendradar)
    assert large / small < 2.3, (small, large)  # quadratic before: 3.7×


def test_import_trendradar_writes_at_most_a_thousand_files_and_says_what_it_left(tmp_path):
    """The real command on 8,000 groups of one name."""
    source = tmp_path / "frequency_words.txt"
    source.write_text(groups(8000), encoding="utf-8")
    out = tmp_path / "rules"
    env = {**os.environ, "TRACKER_INSTANCE": str(tmp_path / "instance")}
    done = subprocess.run([sys.executable, "-m", "tracker", "rules", "import-trendradar",
                           str(source), "--out", str(out)], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    written = sorted(p.name for p in out.iterdir())
    assert len(written) == 1000
    assert {"tr-ai.yaml", "tr-ai-2.yaml", "tr-ai-1000.yaml"} <= set(written)
    assert "frequency_words.txt:3001: this group and the 6999 after it: one import writes at " \
           "most 1000 rule files" in done.stderr
    assert "1000 rule files written" in done.stdout


def production_app(tmp_path: Path, **config):
    return create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "RULES": str(REPO_RULES),
                       "API_TOKEN": "t0ken", "ADMIN_PASSWORD": "correct horse",
                       "BASE_URL": "https://tracker.example.org", **config})


def test_an_id_past_sqlites_integers_is_no_such_page_not_an_error(tmp_path, caplog):
    client = production_app(tmp_path).test_client()
    caplog.set_level(logging.ERROR)
    page = client.get(f"/articles/{HUGE}")
    assert page.status_code == 404 and "找不到" in page.get_data(as_text=True)
    api = client.get(f"/api/articles/{HUGE}", headers={"Authorization": "Bearer t0ken"})
    assert api.status_code == 404 and api.mimetype == "application/problem+json"
    assert client.get("/articles/9223372036854775807").status_code == 404  # the largest: none
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_failed_logins_from_many_addresses_slow_every_login_down(tmp_path):
    """30 failures in 10 minutes from all clients together; then even the right password waits
    (a guess that might be right is never tried), with a Chinese 429 saying how long."""
    app = production_app(tmp_path)
    statuses = []
    for n in range(31):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"198.51.100.{n + 1}"
        password = "correct horse" if n == 30 else f"guess {n}"
        statuses.append(client.post("/admin/login", data={
            "csrf_token": csrf_token(client, "/admin/login"), "password": password}))
    assert [r.status_code for r in statuses] == [401] * 30 + [429]
    assert "登录尝试太多" in statuses[-1].get_data(as_text=True)
    assert int(statuses[-1].headers["Retry-After"]) > 0
