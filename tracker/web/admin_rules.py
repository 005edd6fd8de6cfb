"""The rules editor: list the rules, edit the YAML file that holds one, preview what an edit
would change in the archive, save it (checked, atomic, recorded), read and undo past changes.

    /admin/rules                       the rules, by file
    /admin/rules/new                   a new rule file, <RULES>/<id>.yaml
    /admin/rules/<id>                  GET the file's text; POST action=preview | save
    /admin/rules/<id>/history          every recorded change of that file, with its diff
    /admin/rules/<id>/history/<n>/restore   POST: put the text before change n back

Ids are slugs (`tracker.yamlcheck.ID_PATTERN`) and files are only ever resolved inside the
rules folder. A save is checked with `parse_rules_text` plus the ids of every other file; with
any problem the file is not touched. A save writes a temporary file in the same folder and
`os.replace`s it over the old one, inside the database transaction that records the revision
(BEGIN IMMEDIATE: two admins saving at once are serialized, and the text each one started
from is checked against the file, so one never silently overwrites the other).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from flask import abort, current_app, flash, redirect, render_template, request, url_for

from tracker.documents import Document
from tracker.matching import Matcher
from tracker.rules import Problem, Rule, parse_rules_text
from tracker.rules.load import rule_files
from tracker.store import transaction
from tracker.store.revisions import add_revision, get_revision, list_revisions, unified_diff
from tracker.web.admin import bp
from tracker.web.db import get_db
from tracker.web.security import admin_required
from tracker.web.messages import rule_problem
from tracker.yamlcheck import ID_PATTERN

PREVIEW_DAYS = 30
PREVIEW_CAP = 2000  # articles matched by a preview, the newest first
PREVIEW_SHOWN = 100  # titles listed per rule and side
MAX_TEXT = 1_000_000  # characters of YAML accepted from the form

NEW_RULE_TEMPLATE = """\
id: new-rule                 # 文件名即 <id>.yaml；小写字母、数字、_ 或 -
name: 新规则
description: 这条规则关注什么
keywords: [关键词一, 关键词二]  # 出现任意一个即命中
# all: [必须同时出现的词]
# exclude: [出现即排除的词]
# near:
#   - {term: 关键词一, with: [附近的词], within: 30}
# fields: [title, body]
# sources: [来源 id]
# match: word                # word（按词）或 substring（按字串）
"""


@dataclass
class RuleFile:
    path: Path
    text: str | None  # None: unreadable
    rules: list[Rule] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.name


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
            files.append(RuleFile(path, None, [], [Problem(path.name, 1, f"无法读取：{err}")]))
            continue
        rules, problems = parse_rules_text(text, path.name)
        files.append(RuleFile(path, text, rules, problems))
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


def checked_id(rule_id: str) -> str:
    if not ID_PATTERN.match(rule_id):
        abort(404)
    return rule_id


def digest(text: str | None) -> str:
    return hashlib.sha256((text or "").encode("utf-8")).hexdigest()


def form_text() -> str:
    text = request.form.get("yaml", "")
    if len(text) > MAX_TEXT:
        abort(413)
    return text.replace("\r\n", "\n").replace("\r", "\n")  # textareas post CRLF


def check(text: str, filename: str, files: list[RuleFile], *, replacing: bool = True
          ) -> tuple[list[Rule], list[Problem]]:
    """The rules of `text` (to be file `filename`) and its problems, including ids that another
    file (any file, when not `replacing` the file of that name) or the text itself uses."""
    rules, problems = parse_rules_text(text, filename)
    others = {rule.id: f"{file.name}:{rule.line}" for file in files
              if not (replacing and file.name == filename) for rule in file.rules}
    seen: dict[str, int | None] = {}
    for rule in rules:
        if rule.id in others:
            problems.append(Problem(filename, rule.line or 1,
                                    f"id `{rule.id}` 已被 {others[rule.id]} 使用（重复的 id）", 1))
        elif rule.id in seen:
            problems.append(Problem(filename, rule.line or 1,
                                    f"id `{rule.id}` 在本文件中重复（第 {seen[rule.id]} 行已有）", 1))
        seen.setdefault(rule.id, rule.line)
    if not rules and not problems:
        problems.append(Problem(filename, 1, "文件里没有规则"))
    return rules, sorted(problems, key=lambda p: (p.line, p.column or 0))


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
        if base is not None and digest(old) != base:
            return "文件在你编辑期间已被修改（别人保存过）。请复制你的修改，重新载入后再保存。"
        if old == text:
            return "内容没有变化，未保存。"
        add_revision(db, file=path.name, rule_id=rule_id, action=action, who="admin",
                     remote_addr=request.remote_addr, old_text=old, new_text=text, note=note)
        write_atomically(path, text)
    return None


# The preview: what the edited rules would match in the archive, against the saved ones.

@dataclass
class RuleChange:
    rule_id: str
    name: str
    before: int
    after: int
    gained: list[dict]
    lost: list[dict]
    gained_count: int
    lost_count: int
    status: str  # "new", "removed", "changed"


@dataclass
class Preview:
    articles: int
    capped: bool
    since: str
    changes: list[RuleChange]


def preview(old_rules: list[Rule], new_rules: list[Rule]) -> Preview:
    since = (date.today() - timedelta(days=PREVIEW_DAYS)).isoformat()
    rows = get_db().execute(
        "SELECT id, title, text, source_id, COALESCE(issue_date, substr(first_seen, 1, 10)) "
        "FROM articles WHERE COALESCE(issue_date, substr(first_seen, 1, 10)) >= ? "
        "ORDER BY id DESC LIMIT ?", [since, PREVIEW_CAP + 1]).fetchall()
    capped = len(rows) > PREVIEW_CAP
    rows = rows[:PREVIEW_CAP]
    documents = [Document(f"article:{i}", text or "", "article", title=title or None,
                          source=source, meta={"article_id": i})
                 for i, title, text, source, _ in rows]

    def fired(rules: list[Rule]) -> dict[str, set[int]]:
        out: dict[str, set[int]] = {rule.id: set() for rule in rules}
        if rules and documents:
            for index, matches in enumerate(Matcher(rules).match_many(documents)):
                for found in matches:
                    out[found.rule.id].add(index)
        return out

    before, after = fired(old_rules), fired(new_rules)
    names = {rule.id: rule.name for rule in old_rules} | {rule.id: rule.name for rule in new_rules}

    def listed(indexes: set[int]) -> list[dict]:
        return [{"id": rows[i][0], "title": rows[i][1] or "（无标题）", "source": rows[i][3],
                 "date": rows[i][4]} for i in sorted(indexes)[:PREVIEW_SHOWN]]

    changes = []
    for rule_id in dict.fromkeys([*after, *before]):
        old, new = before.get(rule_id, set()), after.get(rule_id, set())
        status = "new" if rule_id not in before else "removed" if rule_id not in after \
            else "changed"
        changes.append(RuleChange(rule_id, names[rule_id], len(old), len(new),
                                  listed(new - old), listed(old - new), len(new - old),
                                  len(old - new), status))
    return Preview(len(rows), capped, since, changes)


# The pages.

@bp.get("/rules")
@admin_required
def rules():
    files = scan()
    return render_template("admin/rules.html", files=files, folder=rules_root(),
                           can_create=rules_root().is_dir(), id_pattern=ID_PATTERN)


def _editor(status: int = 200, **context):
    context.setdefault("problems", [])
    context.setdefault("preview", None)
    context.setdefault("message", None)
    return render_template("admin/edit.html", **context), status


@bp.route("/rules/new", methods=["GET", "POST"])
@admin_required
def new_rule():
    if not rules_root().is_dir():
        flash("TRACKER_RULES 指向单个文件，不能新建规则文件；请直接编辑该文件。", "error")
        return redirect(url_for("admin.rules"))
    if request.method == "GET":
        return _editor(text=NEW_RULE_TEMPLATE, new=True, file=None, base=None)
    text, action = form_text(), request.form.get("action")
    files = scan()
    rules_, problems = parse_rules_text(text, "<new>")
    first = rules_[0].id if rules_ else None
    filename = f"{first}.yaml" if first else "<new>"
    if first:
        rules_, problems = check(text, filename, files, replacing=False)
    elif not problems:
        problems = [Problem(filename, 1, "文件里没有规则")]
    context = {"text": text, "new": True, "file": None, "base": None}
    if problems:
        return _editor(422, problems=problems, **context)
    if action == "preview":
        return _editor(preview=preview([], rules_), **context)
    if action != "save":
        abort(400)
    path = rules_root() / filename
    refused = save(path, text, base=None, action="create", rule_id=first, must_be_new=True)
    if refused:
        return _editor(409, message=refused, **context)
    flash(f"已新建 {filename}。")
    return redirect(url_for("admin.edit_rule", rule_id=first))


@bp.route("/rules/<rule_id>", methods=["GET", "POST"])
@admin_required
def edit_rule(rule_id: str):
    checked_id(rule_id)
    files = scan()
    file = find_file(rule_id, files)
    if file is None:
        abort(404)
    if not inside_rules(file.path):
        abort(403)
    if file.text is None:
        flash(f"无法读取 {file.name}：{rule_problem(file.problems[0].message)}", "error")
        return redirect(url_for("admin.rules"))
    if request.method == "GET":
        return _editor(text=file.text, new=False, file=file, base=digest(file.text),
                       rule_id=rule_id, problems=file.problems, on_disk=True)
    text, action, base = form_text(), request.form.get("action"), request.form.get("base")
    context = {"text": text, "new": False, "file": file, "base": base, "rule_id": rule_id}
    new_rules, problems = check(text, file.name, files)
    if problems:
        return _editor(422, problems=problems, **context)
    if action == "preview":
        return _editor(preview=preview(file.rules, new_rules),
                       diff=unified_diff(file.text, text, file.name), **context)
    if action != "save":
        abort(400)
    kept = rule_id if any(r.id == rule_id for r in new_rules) else new_rules[0].id
    refused = save(file.path, text, base=base, action="edit", rule_id=kept)
    if refused:
        return _editor(409, message=refused, **context)
    flash(f"已保存 {file.name}，worker 下一轮起按新规则匹配。")
    return redirect(url_for("admin.edit_rule", rule_id=kept))


@bp.get("/rules/<rule_id>/history")
@admin_required
def rule_history(rule_id: str):
    checked_id(rule_id)
    file = find_file(rule_id, scan())
    revisions = list_revisions(get_db(), file=file.name if file else None, rule_id=rule_id)
    if file is None and not revisions:
        abort(404)
    return render_template("admin/history.html", rule_id=rule_id, file=file, revisions=revisions)


@bp.post("/rules/<rule_id>/history/<int:revision_id>/restore")
@admin_required
def restore_revision(rule_id: str, revision_id: int):
    """Put back the text a file had before revision `revision_id` (recorded as a revision)."""
    checked_id(rule_id)
    revision = get_revision(get_db(), revision_id)
    if revision is None:
        abort(404)
    name = revision["file"]
    path = rules_folder() / name
    if Path(name).name != name or not inside_rules(path):
        abort(403)
    text = revision["old_text"]
    back = redirect(url_for("admin.rule_history", rule_id=rule_id))
    if not text:
        flash(f"修改 #{revision_id} 之前 {name} 不存在，没有可恢复的内容。", "error")
        return back
    restored, problems = check(text, name, scan())
    if problems:
        flash(f"无法恢复修改 #{revision_id} 之前的内容：" +
              "；".join(f"第 {p.line} 行：{rule_problem(p.message)}" for p in problems[:5]), "error")
        return back
    refused = save(path, text, base=None, action="restore", rule_id=revision["rule_id"],
                   note=f"恢复到修改 #{revision_id} 之前")
    if refused:
        flash(refused, "error")
        return back
    flash(f"已将 {name} 恢复到修改 #{revision_id} 之前的内容。")
    target = rule_id if any(r.id == rule_id for r in restored) else restored[0].id
    return redirect(url_for("admin.rule_history", rule_id=target))

