"""sources.yaml as the admin's source editor changes it: one source's entry made from the form's
fields and put in place of the old one (or after the last), the whole new file checked with the
same checker as `tracker sources check`, written atomically with its revision recorded.

Only the edited entry's lines change: the other sources, and the comments between them, stay as
they were written. File I/O and checks apart from the views (tracker.web.admin_sources)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import yaml
from flask import current_app, request

from tracker.config import instance_file
from tracker.sources.catalog import DEFAULT_SCHEDULE, DEFAULT_TIMEZONE, Source, check_sources
from tracker.store import transaction
from tracker.store.revisions import add_source_revision
from tracker.web.db import get_db
from tracker.web.rule_files import write_atomically

# The form's fields, in the order they are written; (name, kind): text, bool, int.
FORM_FIELDS = (("id", "text"), ("name", "text"), ("type", "text"), ("url", "text"),
               ("schedule", "text"), ("timezone", "text"), ("enabled", "bool"), ("days", "int"),
               ("layout", "text"), ("pages", "text"), ("articles", "text"),
               ("fetch_full", "bool"), ("list_pages", "int"))
DEFAULTS = {"schedule": DEFAULT_SCHEDULE, "timezone": DEFAULT_TIMEZONE, "enabled": True,
            "days": 1, "fetch_full": False, "list_pages": 3}
BROWSER_TYPES = ("epaper", "feed", "policy")  # a folder names a path on this server: not here
MAX_FIELD = 2000


def sources_path() -> Path:
    return instance_file(current_app.config, "SOURCES")


def read_sources_text() -> str | None:
    """The sources file's text ("" when there is none yet; None when it cannot be read)."""
    path = sources_path()
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError):
        return None


def file_sha256(text: str | None) -> str:
    return hashlib.sha256((text or "").encode("utf-8")).hexdigest()


def current_sources() -> tuple[list[Source], list]:
    return check_sources(sources_path())


@dataclass
class Entry:
    """What the form says of one source: each field as text ("" when not given)."""

    values: dict[str, str]

    @classmethod
    def of_source(cls, source: Source | None) -> "Entry":
        if source is None:
            return cls({"type": "epaper", "schedule": DEFAULT_SCHEDULE, "timezone": DEFAULT_TIMEZONE,
                        "enabled": "on"})
        values = {}
        for name, kind in FORM_FIELDS:
            value = getattr(source, name)
            if kind == "bool":
                values[name] = "on" if value else ""
            elif value is not None:
                values[name] = str(value)
        return cls(values)

    @classmethod
    def of_form(cls, form) -> "Entry":
        return cls({name: (form.get(name) or "").strip()[:MAX_FIELD] for name, _ in FORM_FIELDS})

    def yaml_block(self, indent: int = 2) -> str:
        """The entry as YAML lines, `- ` at column `indent`; defaults left out."""
        pad = " " * (indent + 2)
        lines = []
        for name, kind in FORM_FIELDS:
            raw = self.values.get(name, "")
            if kind == "bool":
                value = raw in ("on", "true", "1")
                if value == DEFAULTS[name]:
                    continue
                text = "true" if value else "false"
            elif not raw:
                continue
            elif kind == "int":
                if raw.isdigit() and int(raw) == DEFAULTS.get(name):
                    continue
                text = raw if raw.isdigit() else json.dumps(raw, ensure_ascii=False)
            else:
                if raw == DEFAULTS.get(name):
                    continue
                text = json.dumps(raw, ensure_ascii=False)  # YAML's double-quoted style
            lines.append(f"{pad}{name}: {text}")
        if not lines:
            return ""
        lines[0] = " " * indent + "- " + lines[0][len(pad):]
        return "\n".join(lines) + "\n"


def _items(text: str) -> tuple[yaml.Node | None, list[yaml.Node]]:
    """The `sources:` sequence node and its items (None, [] when the file has none)."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return None, []
    if not isinstance(root, yaml.MappingNode):
        return None, []
    for key, value in root.value:
        if getattr(key, "value", None) == "sources" and isinstance(value, yaml.SequenceNode):
            return value, list(value.value)
    return None, []


def _item_id(node: yaml.Node) -> str | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if getattr(key, "value", None) == "id" and isinstance(value, yaml.ScalarNode):
                return value.value
    return None


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _line_end(text: str, index: int) -> int:
    end = text.find("\n", index)
    return len(text) if end < 0 else end + 1


def spliced(text: str, entry: Entry, source_id: str | None) -> str | None:
    """`text` with the entry of `source_id` replaced by `entry` (None: `entry` added after the
    last source); None when `source_id` is not in the file or the file cannot be spliced (not
    a block list under `sources:`)."""
    sequence, items = _items(text)
    if source_id is not None:
        item = next((i for i in items if _item_id(i) == source_id), None)
        if item is None or not isinstance(item, yaml.MappingNode) or item.flow_style:
            return None
        last = item.value[-1][1]
        start = _line_start(text, item.start_mark.index)
        end = _line_end(text, last.end_mark.index - 1 if last.end_mark.index else 0)
        return text[:start] + entry.yaml_block(max(0, item.start_mark.column - 2)) + text[end:]
    if not items:
        if text.strip() and sequence is None and "sources" in text:
            return None  # `sources:` that is not a list: the checker will say so
        if sequence is not None and sequence.flow_style:  # `sources: []`
            head = text[:_line_start(text, sequence.start_mark.index)]
            rest = text[_line_end(text, sequence.end_mark.index - 1):]
            return head + "sources:\n" + entry.yaml_block() + rest
        body = text if text.strip() else ""
        return (body.rstrip("\n") + "\n" if body else "") + "sources:\n" + entry.yaml_block()
    last_item = items[-1]
    if not isinstance(last_item, yaml.MappingNode) or last_item.flow_style:
        return None
    last = last_item.value[-1][1]
    end = _line_end(text, last.end_mark.index - 1 if last.end_mark.index else 0)
    block = entry.yaml_block(max(0, last_item.start_mark.column - 2))
    return text[:end] + ("" if text[:end].endswith("\n") else "\n") + block + text[end:]


def save_sources(text: str, *, base: str | None, action: str, source_id: str | None,
                 note: str | None = None) -> str | None:
    """Write `text` as the sources file and record the revision; the problem (a sentence) if
    refused. Inside one write transaction (BEGIN IMMEDIATE): two admins saving at once are
    serialized, and the text each started from is checked against the file."""
    path = sources_path()
    db = get_db()
    with transaction(db):
        old = read_sources_text()
        if old is None:
            return f"无法读取 {path.name}。"
        if base is not None and file_sha256(old) != base:
            return f"{path.name} 在你编辑期间已被修改（别人保存过）。请重新打开后再保存。"
        if old == text:
            return "内容没有变化，未保存。"
        add_source_revision(db, file=path.name, source_id=source_id, action=action, who="admin",
                            remote_addr=request.remote_addr, old_text=old, new_text=text,
                            note=note)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, text)
    return None
