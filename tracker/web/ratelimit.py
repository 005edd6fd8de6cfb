"""Rate-limit counters in an SQLite file, so that a limit holds across WSGI worker processes
(Flask-Limiter's memory storage counts per process; Redis would be a server to run for this
alone). Registered with `limits` as the `sqlite://` storage scheme: `sqlite:////abs/path.db`.

Also what the subscribe form's limits count: the client, and the address it names (hashed)."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time

from flask import current_app
from limits.storage import Storage

from tracker.alerts.subscribe import SubscribeError, normalize_email
from tracker.store.notices import recipient_key

class SQLiteStorage(Storage):
    STORAGE_SCHEME = ["sqlite"]

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options: object) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        self.path = uri.removeprefix("sqlite://")
        self._local = threading.local()
        with self._db() as db:
            db.execute("CREATE TABLE IF NOT EXISTS counters "
                       "(key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires REAL NOT NULL)")

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            db.execute("PRAGMA journal_mode = WAL")
            self._local.db = db
        return db

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        db, now = self._db(), time.time()
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute("SELECT count, expires FROM counters WHERE key = ?", [key]).fetchone()
            if row is None or row[1] <= now:
                count = amount
                db.execute("INSERT OR REPLACE INTO counters VALUES (?, ?, ?)", [key, count, now + expiry])
            else:
                count = row[0] + amount
                db.execute("UPDATE counters SET count = ? WHERE key = ?", [count, key])
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return count

    def get(self, key: str) -> int:
        row = self._db().execute("SELECT count FROM counters WHERE key = ? AND expires > ?",
                                 [key, time.time()]).fetchone()
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._db().execute("SELECT expires FROM counters WHERE key = ?", [key]).fetchone()
        return row[0] if row else time.time()

    def check(self) -> bool:
        self._db().execute("SELECT 1")
        return True

    def reset(self) -> int | None:
        return self._db().execute("DELETE FROM counters").rowcount

    def clear(self, key: str) -> None:
        self._db().execute("DELETE FROM counters WHERE key = ?", [key])


def submitted() -> tuple[str, str]:
    """(channel, address) as the subscribe view reads them from the form: the channel a POST
    without one gets (the form's default, email), that channel's address field."""
    from tracker.web.forms import SubscribeForm

    form = SubscribeForm(meta={"csrf": False})  # reads request.form as the view's form does
    return form.channel.data or "", form.address().strip()


def submitted_address() -> str:
    """The address the form names, in the one spelling of the mailbox or URL it reaches, so
    that the per-address limit cannot be dodged by respelling it: an email address normalised
    (`a@ｅｘａｍｐｌｅ.com` is `a@example.com`) with its `+tag` dropped (`a+1@` is `a@`)."""
    channel, address = submitted()
    if channel == "email" and address:
        try:
            return recipient_key(normalize_email(address))
        except SubscribeError:
            pass
    return address.lower()


def address_key() -> str:
    """The per-address limit's key: a hash, so that ratelimit.db holds no addresses."""
    channel, _ = submitted()
    digest = hashlib.sha256(f"{channel}\0{submitted_address()}".encode())
    return "subscribe-address:" + digest.hexdigest()


def subscribe_limit() -> str:
    """The subscribe form's limit (SUBSCRIBE_LIMIT), per client address and per address named."""
    return current_app.config["SUBSCRIBE_LIMIT"]
