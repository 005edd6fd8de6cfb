"""One table of settings (tracker.settings): every setting the code reads is in it, each value
is checked where it is read by every process, the docs are made from it, and instance/config.py
can set any of them, logging included."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tracker.config import load_config
from tracker.settings import BY_NAME, SettingError, checked, markdown, value

REPO = Path(__file__).resolve().parents[1]
# What the code reads from a config that is not a setting of ours: the instance folder (its own
# variable), Flask's and its extensions' keys, and the demo's flag set by `tracker demo` itself.
NOT_SETTINGS = {"INSTANCE_PATH", "TESTING", "RATELIMIT_STORAGE_URI", "RATELIMIT_ENABLED",
                "WTF_CSRF_ENABLED", "SESSION_COOKIE_SAMESITE", "SESSION_COOKIE_HTTPONLY",
                "WTF_CSRF_TIME_LIMIT", "RATELIMIT_DEFAULT", "SERVER_NAME", "PREFERRED_URL_SCHEME",
                # set by tracker.sources.trial for a preview from the browser, not by anyone
                "SSRF_EVERY_HOP"}


def test_the_docs_are_made_from_the_table():
    doc = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert doc == markdown(), "run: python -m tracker.settings > docs/configuration.md"


def test_every_setting_the_code_reads_is_in_the_table():
    read = set()
    for path in (REPO / "tracker").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        read |= set(re.findall(r"config(?:\.get)?[\(\[]\"([A-Z][A-Z0-9_]+)\"", text))
        read |= set(re.findall(r"(?:setting|value)\(\w*config, \"([A-Z][A-Z0-9_]+)\"", text))
    assert read, "the scan found nothing: its pattern is out of date"
    assert sorted(read - set(BY_NAME) - NOT_SETTINGS) == []


@pytest.mark.parametrize("name, given, expected", [
    ("DELIVERY_INTERVAL", "2", 2.0), ("DELIVERY_INTERVAL", 5, 5.0),
    ("WEBHOOK_ALLOW_PRIVATE", "yes", True), ("WEBHOOK_ALLOW_PRIVATE", 0, False),
    ("SMTP_PORT", 2525, "2525"), ("SMTP_SECURITY", "STARTTLS", "starttls"),
    ("LOG_LEVEL", "debug", "DEBUG"), ("RETRY_DELAYS", [5, 300], "5,300"),
    ("WELCOME_DAYS", 0, 0),
])
def test_values_are_converted_to_their_type(name, given, expected):
    assert checked({name: given})[name] == expected
    assert value({name: given}, name) == expected
    assert value({}, name) == BY_NAME[name].default or name == "SMTP_PORT"


@pytest.mark.parametrize("name, given, says", [
    ("DELIVERY_INTERVAL", "soon", "expected a number, got 'soon'"),
    ("WELCOME_DAYS", 2.5, "expected a whole number, got 2.5"),
    ("WELCOME_DAYS", -1, "expected at least 0, got -1"),
    ("WEBHOOK_ALLOW_PRIVATE", "maybe", "expected 1 or 0"),
    ("SMTP_SECURITY", "ssl", "expected one of"),
    ("LOG_LEVEL", "LOUD", "expected one of DEBUG"),
    ("RETRY_DELAYS", "5,-1", "expected numbers separated by commas"),
    ("RULES_SHOWN", True, "expected a whole number, got True"),
])
def test_a_wrong_value_says_which_setting_and_what_was_expected(name, given, says):
    with pytest.raises(SettingError, match=f"^TRACKER_{name}: .*") as caught:
        load_config({name: given}, environ={})
    assert says in str(caught.value)


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    environ.update(TRACKER_INSTANCE=str(tmp_path), TRACKER_RULES=str(REPO / "rules"), **env)
    return subprocess.run([sys.executable, "-m", "tracker", *args], env=environ,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("command", [["worker", "--once"], ["serve", "--port", "0"],
                                     ["sources", "check"]])
def test_a_wrong_value_stops_every_command_at_start(tmp_path, command):
    done = run(tmp_path, *command, TRACKER_DELIVERY_INTERVAL="soon")
    assert done.returncode == 2
    assert done.stderr.strip() == "tracker: TRACKER_DELIVERY_INTERVAL: expected a number, " \
                                  "got 'soon'"


def test_instance_config_py_sets_any_setting_logging_included(tmp_path):
    (tmp_path / "config.py").write_text("LOG_JSON = True\nLOG_LEVEL = 'warning'\n"
                                        "REMATCH_DAYS = 3\n", encoding="utf-8")
    (tmp_path / "config.py").chmod(0o600)
    tmp_path.chmod(0o700)
    assert load_config(environ={"TRACKER_INSTANCE": str(tmp_path)})["REMATCH_DAYS"] == 3.0
    (tmp_path / "sources.yaml").write_text("sources: []\n", encoding="utf-8")
    done = run(tmp_path, "worker", "--once")
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    assert {entry["level"] for entry in lines} == {"WARNING"}, done.stderr  # no INFO line


def test_a_setting_under_its_old_name_still_counts_and_says_its_new_name(caplog):
    """TRACKER_THEMES_SHOWN became TRACKER_RULES_SHOWN: a deployment that sets the old name
    keeps its value (with a warning); the new name wins when both are set."""
    with caplog.at_level("WARNING", logger="tracker.config"):
        assert load_config(environ={"TRACKER_THEMES_SHOWN": "7"})["RULES_SHOWN"] == 7
    assert "TRACKER_THEMES_SHOWN is now called TRACKER_RULES_SHOWN" in caplog.text
    both = load_config(environ={"TRACKER_THEMES_SHOWN": "7", "TRACKER_RULES_SHOWN": "9"})
    assert both["RULES_SHOWN"] == 9 and "THEMES_SHOWN" not in both
    with pytest.raises(SettingError, match="^TRACKER_RULES_SHOWN: expected a whole number"):
        load_config(environ={"TRACKER_THEMES_SHOWN": "many"})
