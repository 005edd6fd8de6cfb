"""The rules editor: list the rules, edit the YAML file that holds one, preview what an edit
would change in the archive, save it (checked, atomic, recorded), read and undo past changes.

    /admin/rules                       the rules, by file
    /admin/rules/new                   a new rule file, <RULES>/<id>.yaml
    /admin/rules/<id>                  GET the file's text; POST action=preview | save
    /admin/rules/<id>/history          every recorded change of that file, with its diff
    /admin/rules/<id>/history/<n>/restore   POST: put the text before change n back

Ids are slugs (`tracker.yamlcheck.ID_PATTERN`) and files are only ever resolved inside the
rules folder. A save is checked with `parse_file` plus the ids of every other file; with
any problem the file is not touched. A save writes a temporary file in the same folder and
`os.replace`s it over the old one, inside the database transaction that records the revision
(BEGIN IMMEDIATE: two admins saving at once are serialized, and the text each one started
from is checked against the file, so one never silently overwrites the other).

The views live here; reading, checking and writing the files is tracker.web.rule_files.
"""

from __future__ import annotations

from pathlib import Path

from flask import abort, flash, redirect, render_template, request, url_for

from tracker.rules import Problem, parse_file
from tracker.rules.load import GLOBAL_STEM, ParsedFile
from tracker.rules.model import NO_GLOBALS
from tracker.store.revisions import get_revision, list_revisions, unified_diff
from tracker.web.admin import bp
from tracker.web.db import get_db
from tracker.web.problems import rule_problem
from tracker.web.rule_files import (RuleFile, check, file_sha256, find_file, folder_globals,
                                    inside_rules, rules_folder, rules_root, save, scan)
from tracker.web.rules_preview import preview_edit
from tracker.web.security import admin_required
from tracker.yamlcheck import ID_PATTERN

MAX_TEXT = 1_000_000  # characters of YAML accepted from the form

NEW_RULE_TEMPLATE = """\
id: new-rule                 # 文件名即 <id>.yaml；小写字母、数字、_ 或 -
name: 新规则
description: 这条规则关注什么
keywords: [关键词一, 关键词二]  # 出现任意一个即命中
# regex: ['绿电(交易|直连)']   # 正则（RE2 语法），匹配即命中
# 关键词也可写成 {term: 绿电, name: 绿色电力}：name 是提醒和存档里显示的名称
# all: [必须同时出现的词]
# exclude: [出现即排除的词]
# near:
#   - {term: 关键词一, with: [附近的词], within: 30}
# fields: [title, body]
# sources: [来源 id]
# match: word                # word（按词）或 substring（按字串）
"""


def checked_id(rule_id: str) -> str:
    if not ID_PATTERN.match(rule_id) and rule_id != GLOBAL_STEM:
        abort(404)
    return rule_id


def form_text() -> str:
    text = request.form.get("yaml", "")
    if len(text) > MAX_TEXT:
        abort(413)
    return text.replace("\r\n", "\n").replace("\r", "\n")  # textareas post CRLF


def compare(file: RuleFile | None, edited: ParsedFile, files: list[RuleFile]):
    """The preview of saving `edited` as `file` (None: a new file)."""
    others = [f for f in files if f is not file]
    return preview_edit(file.rules if file else [], edited.rules,
                        [r for f in others for r in f.rules], [f.globals for f in others],
                        file.globals if file else NO_GLOBALS, edited.globals)


# The pages.

@bp.get("/rules")
@admin_required
def rules():
    files = scan()
    return render_template("admin/rules.html", files=files, folder=rules_root(),
                           can_create=rules_root().is_dir(), id_pattern=ID_PATTERN,
                           globals=folder_globals(files), global_stem=GLOBAL_STEM)


def _editor(status: int = 200, **context):
    context.setdefault("problems", [])
    context.setdefault("preview", None)
    context.setdefault("message", None)
    context.setdefault("globals", None)
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
    edited = parse_file(text, "<new>")
    if not edited.rules and not edited.globals:  # only `exclude:`? global excludes, then
        as_global = parse_file(text, f"{GLOBAL_STEM}.yaml")
        edited = as_global if as_global.globals and not as_global.problems else edited
    first = edited.rules[0].id if edited.rules else None
    # A file of only global excludes is saved as _global.yaml.
    first = first or (GLOBAL_STEM if edited.globals and not edited.problems else None)
    filename = f"{first}.yaml" if first else "<new>"
    problems = edited.problems
    if first:
        edited = check(text, filename, files, replacing=False)
        problems = edited.problems
    elif not problems:
        problems = [Problem(filename, 1, "the file holds no rule", code="empty_file")]
    context = {"text": text, "new": True, "file": None, "base": None,
               "globals": folder_globals(files)}
    if problems:
        return _editor(422, problems=problems, **context)
    if action == "preview":
        return _editor(preview=compare(None, edited, files), **context)
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
        flash(f"无法读取 {file.name}：{rule_problem(file.problems[0])}", "error")
        return redirect(url_for("admin.rules"))
    if request.method == "GET":
        return _editor(text=file.text, new=False, file=file, base=file_sha256(file.text),
                       rule_id=rule_id, problems=file.problems, on_disk=True,
                       globals=folder_globals(files))
    text, action, base = form_text(), request.form.get("action"), request.form.get("base")
    context = {"text": text, "new": False, "file": file, "base": base, "rule_id": rule_id,
               "globals": folder_globals(files)}
    edited = check(text, file.name, files)
    new_rules, problems = edited.rules, edited.problems
    if problems:
        return _editor(422, problems=problems, **context)
    if action == "preview":
        return _editor(preview=compare(file, edited, files),
                       diff=unified_diff(file.text, text, file.name), **context)
    if action != "save":
        abort(400)
    kept = rule_id if any(r.id == rule_id for r in new_rules) or not new_rules \
        else new_rules[0].id
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
    checked = check(text, name, scan())
    restored, problems = checked.rules, checked.problems
    if problems:
        flash(f"无法恢复修改 #{revision_id} 之前的内容：" +
              "；".join(f"第 {p.line} 行：{rule_problem(p)}" for p in problems[:5]), "error")
        return back
    refused = save(path, text, base=None, action="restore", rule_id=revision["rule_id"],
                   note=f"恢复到修改 #{revision_id} 之前")
    if refused:
        flash(refused, "error")
        return back
    flash(f"已将 {name} 恢复到修改 #{revision_id} 之前的内容。")
    target = rule_id if any(r.id == rule_id for r in restored) or not restored \
        else restored[0].id
    return redirect(url_for("admin.rule_history", rule_id=target))

