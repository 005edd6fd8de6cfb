"""Timestamps as the database keeps them: ISO 8601 in UTC, to the microsecond."""

from datetime import datetime, timezone


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def now() -> str:
    return iso(datetime.now(timezone.utc))
