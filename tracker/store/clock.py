"""Timestamps as the database keeps them: ISO 8601 in UTC, to the microsecond."""

from datetime import datetime, timezone


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")
