"""Signed links in alerts: manage a subscription, leave it with one click. Tokens are signed with
the instance's secret key (itsdangerous), so nobody can forge one for someone else's address."""

from __future__ import annotations

import os
import secrets
from tracker import settings
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import quote

from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

MANAGE, UNSUBSCRIBE, CONFIRM = "manage", "unsubscribe", "confirm"
FEED = "feed"  # the subscription's private Atom feed (/feeds/<token>.atom)


def secret_key(config: Mapping[str, Any]) -> str:
    """SECRET_KEY from the configuration, else the instance folder's `secret_key` file (made on
    first use, readable by its owner only)."""
    if settings.value(config, "SECRET_KEY"):
        return str(config["SECRET_KEY"])
    path = Path(config["INSTANCE_PATH"]) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".secret_key.{os.getpid()}")
        draft.write_text(secrets.token_urlsafe(48), encoding="ascii")
        draft.chmod(0o600)
        try:
            os.link(draft, path)  # appears whole or not at all; the first process wins
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text(encoding="ascii").strip()


def with_secret_key(config: Mapping[str, Any]) -> Mapping[str, Any]:
    """The configuration with its secret key read once: for a batch of alerts, each of whose
    links would otherwise read the instance's key file again."""
    if settings.value(config, "SECRET_KEY"):
        return config
    return {**config, "SECRET_KEY": secret_key(config)}


def _serializer(config: Mapping[str, Any], purpose: str) -> URLSafeSerializer:
    """Confirmation links expire, so they carry a time; manage and unsubscribe links do not, and
    stay the same on every resend (a retried message is byte for byte the same message)."""
    kind = URLSafeTimedSerializer if purpose == CONFIRM else URLSafeSerializer
    return kind(secret_key(config), salt=purpose)


def make_token(config: Mapping[str, Any], purpose: str, subscription_id: int | list[int]) -> str:
    """A token for a subscription id, or for [subscription id, notice id] (a confirmation to
    come back: tracker.alerts.rejoin)."""
    return _serializer(config, purpose).dumps(subscription_id)


def _load(config: Mapping[str, Any], purpose: str, token: str, max_age: int | None) -> object:
    serializer = _serializer(config, purpose)
    try:
        if isinstance(serializer, URLSafeTimedSerializer):
            return serializer.loads(token, max_age=max_age)
        return serializer.loads(token)
    except (BadSignature, SignatureExpired):
        return None


def read_token(config: Mapping[str, Any], purpose: str, token: str,
               max_age: int | None = None) -> int | None:
    """The subscription id a token was made for; None when forged, for another purpose, or (a
    confirmation) older than `max_age` seconds."""
    value = _load(config, purpose, token, max_age)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def read_pair(config: Mapping[str, Any], purpose: str, token: str,
              max_age: int | None = None) -> tuple[int, int] | None:
    """The [subscription id, notice id] a token was made for, as `read_token` checks it."""
    value = _load(config, purpose, token, max_age)
    if isinstance(value, list) and len(value) == 2 and \
            all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return value[0], value[1]
    return None


def link(config: Mapping[str, Any], purpose: str, subscription_id: int) -> str:
    base = str(settings.value(config, "BASE_URL")).rstrip("/")
    return f"{base}/{purpose}/{make_token(config, purpose, subscription_id)}"


def feed_link(config: Mapping[str, Any], subscription_id: int) -> str:
    """The subscription's private Atom feed: its token is the only key to it."""
    base = str(config.get("BASE_URL", "http://127.0.0.1:5000")).rstrip("/")
    return f"{base}/feeds/{make_token(config, FEED, subscription_id)}.atom"


def archive_link(config: Mapping[str, Any], article_id: int) -> str:
    """The article's page in the web archive: every alert links there, original or not."""
    base = str(settings.value(config, "BASE_URL")).rstrip("/")
    return f"{base}/articles/{int(article_id)}"


def unsubscribe_mailto(config: Mapping[str, Any], subscription_id: int) -> str | None:
    address = settings.value(config, "UNSUBSCRIBE_MAILTO")
    if not address:
        return None
    token = make_token(config, UNSUBSCRIBE, subscription_id)
    return f"mailto:{address}?subject={quote('unsubscribe ' + token)}"
