"""The rule files the editor works on: read from the rules folder (RULES), checked against
each other (duplicate ids), written atomically with their revision recorded.

File I/O and checks apart from the editor's views (tracker.web.admin_rules), which use them."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app, request

from tracker.rules import GlobalExclude, Problem, Rule, parse_file
from tracker.rules.load import ParsedFile, duplicate_id, merge_globals, rule_files
from tracker.rules.model import NO_GLOBALS
from tracker.store import transaction
from tracker.store.revisions import add_revision
from tracker.web.db import get_db


@dataclass
class RuleFile:
    path: Path
    text: str | None  # None: unreadable
    rules: list[Rule] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    globals: GlobalExclude = NO_GLOBALS  # the global excludes this file declares

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def key(self) -> str:
        """What the editor's URLs call the file: a rule id, or the stem of a global file."""
        return self.rules[0].id if self.rules else self.path.stem


def folder_globals(files: list[RuleFile]) -> GlobalExclude:
    """The global excludes every rule of the folder gets."""
    return merge_globals([f.globals for f in files])


def rules_root() -> Path:
    return Path(current_app.config["RULES"])


def rules_folder() -> Path:
    root = rules_root()
    return root if root.is_dir() else root.parent


def inside_rules(path: Path) -> bool:
    """Whether `path` (symlinks followed) is a file the editor may write: directly in the rules
    folder, or the rules file itself when RULES names one file."""
    root = rules_root()
    resolved = path.resolve()
    if root.is_dir():
        return resolved.parent == root.resolve() and resolved.suffix in (".yaml", ".yml")
    return resolved == root.resolve()


def read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8-sig")


def scan() -> list[RuleFile]:
    files = []
    for path in rule_files(rules_root()) if rules_root().exists() else []:
        try:
            text = read_text(path)
        except (OSError, UnicodeDecodeError) as err:
            files.append(RuleFile(path, None, [], [Problem(path.name, 1, f"cannot read: {err}",
                                                           code="unreadable",
                                                           fields={"detail": str(err)})]))
            continue
        parsed = parse_file(text, path.name)
        files.append(RuleFile(path, text, parsed.rules, parsed.problems, parsed.globals))
    return files


def find_file(rule_id: str, files: list[RuleFile]) -> RuleFile | None:
    """The file that holds `rule_id`; else a file named `<rule_id>.yaml` (a file broken on disk
    has no sound rules but must still be editable)."""
    for file in files:
        if any(rule.id == rule_id for rule in file.rules):
            return file
    for file in files:
        if file.path.stem == rule_id:
            return file
    return None


def file_sha256(text: str | None) -> str:
    """The SHA-256 of a rule file's text: the editor's base, to catch an edit made meanwhile."""
    return hashlib.sha256((text or "").encode("utf-8")).hexdigest()


def check(text: str, filename: str, files: list[RuleFile], *, replacing: bool = True
          ) -> ParsedFile:
    """The rules of `text` (to be file `filename`), its global excludes, and its problems,
    including ids that another file (any file, when not `replacing` the file of that name) or
    the text itself uses."""
    parsed = parse_file(text, filename)
    rules, problems = parsed.rules, parsed.problems
    others = {rule.id: f"{file.name}:{rule.line}" for file in files
              if not (replacing and file.name == filename) for rule in file.rules}
    seen: dict[str, int | None] = {}
    for rule in rules:
        first = others.get(rule.id) or (f"{filename}:{seen[rule.id]}" if rule.id in seen else None)
        if first:
            problems.append(duplicate_id(filename, rule.line or 1, rule.id, first, 1))
        seen.setdefault(rule.id, rule.line)
    if not rules and not problems and not parsed.globals:
        problems.append(Problem(filename, 1, "the file holds no rule", code="empty_file"))
    return ParsedFile(rules, sorted(problems, key=lambda p: (p.line, p.column or 0)),
                      parsed.globals)


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` all at once: a temporary file in the same folder, flushed to disk,
    then renamed over `path` (readers see the old file or the new, never half of one)."""
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save(path: Path, text: str, *, base: str | None, action: str, rule_id: str | None,
         note: str | None = None, must_be_new: bool = False) -> str | None:
    """Write `text` to `path` and record the revision; the problem (a sentence) if refused."""
    if not inside_rules(path):
        return "只能写入规则文件夹里的 .yaml 文件。"
    db = get_db()
    with transaction(db):
        exists = path.exists()
        if must_be_new and (exists or path.with_suffix(".yml").exists()):
            return f"文件 {path.name} 已存在，不会覆盖。"
        old = read_text(path) if exists else ""
        if base is not None and file_sha256(old) != base:
            return "文件在你编辑期间已被修改（别人保存过）。请复制你的修改，重新载入后再保存。"
        if old == text:
            return "内容没有变化，未保存。"
        add_revision(db, file=path.name, rule_id=rule_id, action=action, who="admin",
                     remote_addr=request.remote_addr, old_text=old, new_text=text, note=note)
        write_atomically(path, text)
    return None
