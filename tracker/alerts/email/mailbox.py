"""The development mailbox: with no SMTP_HOST, mail is written to `instance/mailbox/*.eml`, one
file per message, and the web app shows it."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tracker.config import instance_path as default_instance_path


def mailbox_folder(config_or_instance: Mapping[str, Any] | str | os.PathLike) -> Path:
    """`mailbox/` in the instance folder (from a config's INSTANCE_PATH, or the path itself)."""
    if isinstance(config_or_instance, Mapping):
        base = config_or_instance.get("INSTANCE_PATH") or default_instance_path()
    else:
        base = config_or_instance
    return Path(base) / "mailbox"


def mailbox_messages(instance_path: str | os.PathLike) -> list[Path]:
    """The development mailbox's messages, newest first (names begin with their UTC time)."""
    folder = mailbox_folder(instance_path)
    if not folder.is_dir():
        return []
    return sorted((path for path in folder.glob("*.eml") if not path.name.startswith(".") and path.is_file()),
                  key=lambda path: path.name, reverse=True)


def write_message(folder: Path, delivery_id: int, data: bytes) -> Path:
    """One .eml file, written whole: a temporary file in the same folder, then renamed. OSError
    when it cannot be written."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    path = folder / f"{stamp}-delivery-{int(delivery_id)}-{secrets.token_hex(3)}.eml"
    draft = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, draft = tempfile.mkstemp(prefix=".", suffix=".eml.tmp", dir=folder)
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(draft, path)
    except OSError:
        if draft is not None:
            Path(draft).unlink(missing_ok=True)
        raise
    return path
