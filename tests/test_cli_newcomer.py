"""The CLI as the docs show it to a newcomer (docs/alerts.md, docs/deploying.md), run as the
installed command would be: `tracker subscribe --email …` sends the confirmation mail and says
so, a second run says the address is already subscribed; a date the search cannot read is
refused; `tracker --help` shows every command's description whole."""

from __future__ import annotations

import email
import os
import subprocess
import sys
from email import policy
from pathlib import Path

import pytest

from conftest import REPO_RULES


def tracker(tmp_path: Path, *args: str, **settings: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TRACKER_INSTANCE": str(tmp_path / "instance"),
           "TRACKER_RULES": str(REPO_RULES), "TRACKER_SMTP_HOST": "", **settings}
    return subprocess.run([sys.executable, "-m", "tracker", *args], capture_output=True,
                          text=True, env=env, timeout=120, cwd=tmp_path)


def test_subscribe_by_email_sends_the_confirmation_and_says_so(tmp_path):
    first = tracker(tmp_path, "subscribe", "--email", "li@example.org", "--rules", "zhuanyezhen")
    assert first.returncode == 0, first.stderr
    assert "subscribed (pending" in first.stdout
    assert "confirmation mail sent to li@example.org" in first.stdout
    (mail,) = (tmp_path / "instance" / "mailbox").glob("*.eml")
    message = email.message_from_bytes(mail.read_bytes(), policy=policy.default)
    assert message["To"] == "li@example.org"
    assert "/confirm/" in message.get_body(("plain",)).get_content()

    again = tracker(tmp_path, "subscribe", "--email", "li@example.org", "--rules", "zhuanyezhen")
    assert again.returncode == 0, again.stderr
    assert "already subscribed" in again.stdout and "confirmation mail sent" not in again.stdout
    assert len(list((tmp_path / "instance" / "mailbox").glob("*.eml"))) == 1  # no second mail


def test_a_mail_server_that_is_down_leaves_the_confirmation_queued(tmp_path):
    import socket
    import sqlite3

    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    answer = tracker(tmp_path, "subscribe", "--email", "li@example.org", "--rules", "lvdian",
                     TRACKER_SMTP_HOST="127.0.0.1", TRACKER_SMTP_PORT=str(port),
                     TRACKER_SMTP_SECURITY="none", TRACKER_SMTP_TIMEOUT="5")
    assert answer.returncode == 0, answer.stderr
    assert "queued, the worker retries it" in answer.stderr
    db = sqlite3.connect(tmp_path / "instance" / "tracker.db")
    assert db.execute("SELECT kind, status FROM notices").fetchall() == [("confirm", "failed")]


def test_a_confirmed_subscription_gets_no_confirmation_mail(tmp_path):
    done = tracker(tmp_path, "subscribe", "--email", "li@example.org", "--rules", "zhuanyezhen",
                   "--confirmed")
    assert done.returncode == 0 and "active" in done.stdout and "confirmation" not in done.stdout
    assert not list((tmp_path / "instance" / "mailbox").glob("*.eml"))


@pytest.mark.parametrize("day", ["yesterday", "2025-13-01", "2025/04/09", "4月9日", "20250409"])
def test_search_refuses_a_date_it_cannot_read(tmp_path, day):
    answer = tracker(tmp_path, "search", "绿电", "--since", day)
    assert answer.returncode == 2
    assert "--since" in answer.stderr and "YYYY-MM-DD" in answer.stderr
    assert "nothing" not in answer.stdout.lower()


def test_search_takes_a_good_date(tmp_path):
    assert tracker(tmp_path, "search", "绿电", "--since", "2025-04-09").returncode == 0


@pytest.mark.parametrize("group", [(), ("rules",), ("sources",)])
def test_help_shows_every_description_whole(tmp_path, group):
    import click

    from tracker.cli import main

    shown = " ".join(tracker(tmp_path, *group, "--help").stdout.split("Commands:")[1].split())
    assert "..." not in shown
    listed = main.commands[group[0]] if group else main
    assert isinstance(listed, click.Group)
    for name, command in listed.commands.items():
        first = " ".join(command.get_short_help_str(limit=1000).split())
        assert f"{name} {first}" in shown, name
