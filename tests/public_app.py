"""Fixtures and helpers shared by the tests of the public pages (test_web_public,
test_security_web): the app with its own copy of the starter rules, and one sending mail through
the loopback SMTP server. A test module imports the fixtures by name."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import REPO_RULES
from tracker.store import connect


@pytest.fixture
def app(app, tmp_path):
    """The conftest app with its own copy of the starter rules (personal rules are written)."""
    rules = tmp_path / "rules"
    shutil.copytree(REPO_RULES, rules)
    app.config["RULES"] = str(rules)
    return app


@pytest.fixture
def mail_app(app, smtp):
    """The app sending through the loopback SMTP server."""
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port, SMTP_SECURITY="none",
                      SMTP_TIMEOUT=5)
    return app


def keywords_of(db, subscription_id):
    """A subscription's own keywords, as stored."""
    from tracker.store.personal import keywords_of as read

    return read(db, subscription_id)


def db_of(app):
    """A connection to the app's database."""
    return connect(Path(app.config["INSTANCE_PATH"]) / app.config["DATABASE"])
