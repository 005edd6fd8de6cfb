"""Rule revisions: each change the admin editor wrote to a rule file, with the unified diff and
the whole old text, so any change can be read back and undone (an undo is a revision too).
Source revisions (sources.yaml, written by the admin's source editor) are kept the same way in
their own table."""

from __future__ import annotations

import difflib

from sqlite_utils import Database

from tracker.store.clock import now

ACTIONS = ("edit", "create", "restore")


def unified_diff(old: str, new: str, file: str) -> str:
    """old → new as a unified diff, `a/file` and `b/file` (empty when they are the same)."""
    return "".join(difflib.unified_diff(old.splitlines(keepends=True),
                                        new.splitlines(keepends=True),
                                        f"a/{file}", f"b/{file}"))


def add_revision(db: Database, *, file: str, rule_id: str | None, action: str, who: str,
                 remote_addr: str | None, old_text: str, new_text: str,
                 note: str | None = None) -> int:
    """Record one change of `file` (a name inside the rules folder). Call inside a transaction."""
    if action not in ACTIONS:
        raise ValueError(f"action is one of {ACTIONS}, not {action!r}")
    return db["rule_revisions"].insert({
        "file": file, "rule_id": rule_id, "action": action, "at": now(), "who": who,
        "remote_addr": remote_addr, "diff": unified_diff(old_text, new_text, file),
        "old_text": old_text, "new_text": new_text, "note": note,
    }).last_pk


def list_revisions(db: Database, *, file: str | None = None, rule_id: str | None = None,
                   limit: int = 200) -> list[dict]:
    """The newest revisions first, of `file` or naming `rule_id` (either matches)."""
    return list(db["rule_revisions"].rows_where("file = ? OR rule_id = ?", [file, rule_id],
                                                order_by="id DESC", limit=limit))


def get_revision(db: Database, revision_id: int) -> dict | None:
    rows = list(db["rule_revisions"].rows_where("id = ?", [revision_id]))
    return rows[0] if rows else None


def add_source_revision(db: Database, *, file: str, source_id: str | None, action: str, who: str,
                        remote_addr: str | None, old_text: str, new_text: str,
                        note: str | None = None) -> int:
    """Record one change of the sources file `file`. Call inside a transaction."""
    if action not in ACTIONS:
        raise ValueError(f"action is one of {ACTIONS}, not {action!r}")
    return db["source_revisions"].insert({
        "file": file, "source_id": source_id, "action": action, "at": now(), "who": who,
        "remote_addr": remote_addr, "diff": unified_diff(old_text, new_text, file),
        "old_text": old_text, "new_text": new_text, "note": note,
    }).last_pk


def list_source_revisions(db: Database, limit: int = 200) -> list[dict]:
    """The newest changes of the sources file first."""
    return list(db["source_revisions"].rows_where(order_by="id DESC", limit=limit))


def get_source_revision(db: Database, revision_id: int) -> dict | None:
    rows = list(db["source_revisions"].rows_where("id = ?", [revision_id]))
    return rows[0] if rows else None
