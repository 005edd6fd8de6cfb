"""Webhook secrets and signatures, the Standard Webhooks way (https://www.standardwebhooks.com).

The signature is made by the reference library (`standardwebhooks`), the same one a receiver
verifies with; this module adds the subscriber's secret (made here, shown once) and a strict
reading of it: a secret that is not base64 is refused rather than silently shortened.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from datetime import datetime, timezone

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # the spec allows 24 to 64


def new_secret() -> str:
    """A fresh signing secret to show the subscriber once: "whsec_" + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def signing_key(secret: str) -> bytes:
    """The HMAC key in a "whsec_…" secret (the prefix is optional); ValueError when it is not
    base64 or is empty."""
    text = secret[len(SECRET_PREFIX):] if secret.startswith(SECRET_PREFIX) else secret
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the webhook secret is not valid base64 after 'whsec_'") from None
    if not key:
        raise ValueError("the webhook secret is empty")
    return key


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value for a UTF-8 body: "v1," + base64(HMAC-SHA256(key,
    "{id}.{timestamp}." + body)), made by `standardwebhooks`."""
    when = datetime.fromtimestamp(int(timestamp), tz=timezone.utc)
    return Webhook(signing_key(secret)).sign(msg_id, when, body.decode("utf-8"))
