"""Logging for every `tracker` command: readable lines, or JSON lines for a log collector.

    2025-04-09 06:30:01 INFO tracker.worker: …        # the default, on stderr
    TRACKER_LOG_JSON=1 tracker worker                # one JSON object per line:
    {"time": "2025-04-09T06:30:01.123+00:00", "level": "INFO", "logger": "tracker.worker",
     "message": "…", "exception": "Traceback …"}     # exception only when there is one

TRACKER_LOG_LEVEL sets the level (default INFO; APScheduler's own chatter only from WARNING). Readable lines carry the machine's local time;
JSON carries UTC in ISO 8601. Non-ASCII text (Chinese titles) is written as is, not escaped.

No secrets in logs: every line goes through `SecretFilter`, which masks webhook secrets
(`whsec_…`), `Authorization: Bearer …`/`Basic …` credentials, passwords in URLs
(`smtp://user:pass@host`), and `password=`/`token=`/`secret=` values in query strings; the
traceback text of an exception is masked too. It cannot know every secret: a chat address
whose token is part of its path (apprise's `tgram://TOKEN/…`) must not be logged whole.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import datetime, timezone


READABLE_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
READABLE_DATE = "%Y-%m-%d %H:%M:%S"
MASK = "***"

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"whsec_[A-Za-z0-9+/=_-]+"), "whsec_" + MASK),
    # Credentials are long: "Bearer of news" and "Basic rules" stay as they are.
    (re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{8,}"), r"\1\2" + MASK),
    (re.compile(r"(://[^/\s:@]*):[^/\s@]*@"), r"\1:" + MASK + "@"),
    (re.compile(r"(?i)\b(password|passwd|pwd|token|secret|api_key|apikey)=[^&\s\"']+"),
     r"\1=" + MASK),
]


def mask(text: str) -> str:
    """`text` with the secrets it shows replaced by ***."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class SecretFilter(logging.Filter):
    """Masks secrets in a record's message (args merged in) and its exception text. Put it on a
    handler: a filter on a logger does not see records from its children."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        return True


class JSONFormatter(logging.Formatter):
    """One JSON object per line: time (ISO 8601, UTC), level, logger, message[, exception]."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


class StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time of each record (click's test runner swaps
    it), not to the stream that was there at setup."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def setup(level: str | int | None = None, *, json_lines: bool | None = None,
          handler: logging.Handler | None = None) -> logging.Handler | None:
    """Configure the root logger: `level` (default INFO), JSON lines when `json_lines`, on
    stderr unless `handler` is given. The command passes the LOG_LEVEL and LOG_JSON settings
    (tracker.settings), so `instance/config.py` can set them like any other.

    Like logging.basicConfig, it adds no handler when the root logger already has one that is
    not ours (an embedding program's, or pytest's capture): only the level is set then, and
    None is returned. Called again, it replaces the handler it added before."""
    if level is None:
        level = "INFO"
    if isinstance(level, str):
        level = level.strip().upper()
        level = int(level) if level.isdigit() else level
    json_lines = bool(json_lines)
    root = logging.getLogger()
    root.setLevel(level)
    # APScheduler says "Running job …" and "… executed successfully" at INFO for every run of
    # every job (half the lines of a day's log); the worker logs one line per source run itself.
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, root.level))
    # httpx and httpcore say "HTTP Request: GET … 200 OK" at INFO for every fetch: DEBUG here.
    for chatty in ("httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(logging.DEBUG if root.level <= logging.DEBUG
                                           else logging.WARNING)
    for old in [h for h in root.handlers if getattr(h, "_tracker", False)]:
        root.removeHandler(old)
    if handler is None and root.handlers:
        return None
    handler = handler or StderrHandler()
    handler._tracker = True  # type: ignore[attr-defined]
    handler.setFormatter(JSONFormatter() if json_lines
                         else logging.Formatter(READABLE_FORMAT, READABLE_DATE))
    handler.addFilter(SecretFilter())
    root.addHandler(handler)
    return handler
