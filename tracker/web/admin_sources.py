"""The admin's source editor: list the sources, add or edit one from a form, preview what it
reads now (the same reading as `tracker sources try`), save it into sources.yaml (checked,
atomic, recorded), read and undo past changes.

    /admin/sources                      the sources in sources.yaml, with their problems
    /admin/sources/new                  GET the form; POST action=preview | save
    /admin/sources/<id>                 GET the form of that source; POST action=preview | save
    /admin/sources/history              every recorded change of sources.yaml, with its diff
    /admin/sources/history/<n>/restore  POST: put the text before change n back

A save builds the whole new file (the source's entry replaced or added, the rest untouched) and
checks it with `tracker sources check`'s checker; with any problem nothing is written. Sources
added here are feeds, e-papers and policy lists: a folder names a path on this server and is
configured in the file only. The URL must reach a public address (tracker.sources.ssrf; the
worker trusts a source's own site), and every fetch of a preview is checked too
(tracker.sources.trial, every_hop). Every form is POST with the CSRF token; the worker reads the
saved file within SOURCES_RELOAD_SECONDS.
"""

from __future__ import annotations

import datetime
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for

from tracker.sources.catalog import parse_sources_text
from tracker.sources.epaper.layouts import LAYOUTS
from tracker.store.revisions import get_source_revision, list_source_revisions
from tracker.web.admin import bp
from tracker.web.db import get_db
from tracker.web.problems import source_problem
from tracker.web.security import admin_required
from tracker.web.source_files import (BROWSER_TYPES, Entry, current_sources, file_sha256,
                                      read_sources_text, save_sources, sources_path, spliced)
from tracker.yamlcheck import ID_PATTERN, Problem

# The editor's own checks, beside the sources checker's (tracker.sources.catalog.CODES), as
# codes with the names of their fields; tracker.web.problems.SOURCE says each in Chinese.
CODES: dict[str, tuple[str, ...]] = {
    "browser_type": ("type",),  # folders are configured in the file only
    "id_taken": ("id",),
    "not_spliceable": (),  # the file is written in a way the editor cannot change
    "not_written": (),
    "unsafe_url": ("check", "host", "address", "kind", "limit", "port", "scheme"),
}


def _problem(line: int, code: str, message: str, **fields: Any) -> Problem:
    """A problem of the editor's own (one of CODES) in sources.yaml."""
    assert code in CODES and set(fields) <= set(CODES[code]), (code, fields)
    return Problem(sources_path().name, line, message, code=code, fields=fields)


def _checked_id(source_id: str) -> str:
    if not ID_PATTERN.match(source_id):
        abort(404)
    return source_id


def _public_url(url: str, day: datetime.date) -> Problem | None:
    """Why the source's URL may not be saved from the browser (None: it may): it must reach a
    public address (WEBHOOK_ALLOW_PRIVATE lifts that in development). A name that does not
    resolve now may be saved (the preview says it cannot be read)."""
    from tracker.sources.ssrf import UnsafeURL, allow_private, check_url

    try:
        check_url(url.format(date=day) if "{date" in url else url,
                  allow_private=allow_private(current_app.config))
    except UnsafeURL as error:
        if not error.permanent and error.reason.startswith("cannot resolve"):
            return None
        return _problem(1, "unsafe_url", f"the URL must reach a public address: {error.reason}",
                        check=error.code, **error.fields)
    except (ValueError, KeyError, IndexError):
        return None  # a malformed {date:…}: the checker says so
    return None


def _form(status: int = 200, **context):
    context.setdefault("problems", [])
    context.setdefault("trial", None)
    context.setdefault("message", None)
    context.setdefault("diff", None)
    return render_template("admin/source_edit.html", layouts=LAYOUTS, types=BROWSER_TYPES,
                           **context), status


@bp.get("/sources")
@admin_required
def sources():
    found, problems = current_sources()
    return render_template("admin/sources.html", sources=found, problems=problems,
                           file=sources_path())


@bp.route("/sources/new", methods=["GET", "POST"])
@admin_required
def new_source():
    return _edit(None)


@bp.route("/sources/<source_id>", methods=["GET", "POST"])
@admin_required
def edit_source(source_id: str):
    return _edit(_checked_id(source_id))


def _edit(source_id: str | None):
    from tracker.store.revisions import unified_diff

    text = read_sources_text()
    if text is None:
        flash(f"无法读取 {sources_path().name}。", "error")
        return redirect(url_for("admin.sources"))
    found = {s.id: s for s in parse_sources_text(text, sources_path().name)[0]}
    source = found.get(source_id) if source_id else None
    if source_id and source is None:
        abort(404)
    if source is not None and source.type == "folder":
        flash("文件夹来源指向服务器上的路径，只能直接在 sources.yaml 里修改。", "error")
        return redirect(url_for("admin.sources"))
    context = {"new": source_id is None, "source_id": source_id}
    if request.method == "GET":
        return _form(entry=Entry.of_source(source), base=file_sha256(text),
                     day=datetime.date.today().isoformat(), **context)
    entry = Entry.of_form(request.form)
    if source_id:
        entry.values["id"] = source_id  # an id names the source's articles: not renamed here
    base, action = request.form.get("base"), request.form.get("action")
    try:
        day = datetime.date.fromisoformat(request.form.get("day") or "")
    except ValueError:
        day = datetime.date.today()
    context.update(entry=entry, base=base, day=day.isoformat())
    problems: list[Problem] = []
    kind = entry.values.get("type")
    if kind not in BROWSER_TYPES:
        problems.append(_problem(1, "browser_type", f"`type` is epaper, feed or policy here, "
                                 f"not {kind}", type=str(kind)))
    if source_id is None and entry.values.get("id") in found:
        taken = entry.values["id"]
        problems.append(_problem(found[taken].line or 1, "id_taken",
                                 f"id `{taken}` is another source's", id=taken))
    new_text = spliced(text, entry, source_id)
    if new_text is None:
        problems.append(_problem(1, "not_spliceable", "sources.yaml is written in a way the "
                                 "editor cannot change: edit the file itself"))
    elif not problems:
        checked, problems = parse_sources_text(new_text, sources_path().name)
        if not problems and not any(s.id == entry.values.get("id") for s in checked):
            problems.append(_problem(1, "not_written", "the source did not get into the file"))
    if not problems and entry.values.get("url"):
        why = _public_url(entry.values["url"], day)
        if why:
            problems.append(why)
    if problems:
        return _form(422, problems=problems, **context)
    edited = next(s for s in parse_sources_text(new_text, sources_path().name)[0]
                  if s.id == entry.values["id"])
    if action == "preview":
        from tracker.sources.trial import try_source

        trial = try_source(edited, day, current_app.config, every_hop=True)
        return _form(trial=trial, diff=unified_diff(text, new_text, sources_path().name), **context)
    if action != "save":
        abort(400)
    refused = save_sources(new_text, base=base, action="create" if source_id is None else "edit",
                           source_id=edited.id)
    if refused:
        return _form(409, message=refused, **context)
    flash(f"已保存来源 {edited.id}（{edited.name}）。" + (
        "worker 会在一分钟内抓取它一次，之后按抓取时间抓取。" if source_id is None
        else "worker 会在一分钟内读取新配置，下次按抓取时间抓取。"))
    return redirect(url_for("admin.edit_source", source_id=edited.id))


@bp.get("/sources/history")
@admin_required
def source_history():
    return render_template("admin/source_history.html",
                           revisions=list_source_revisions(get_db()), file=sources_path())


@bp.post("/sources/history/<int:revision_id>/restore")
@admin_required
def restore_source_revision(revision_id: int):
    """Put back the text sources.yaml had before revision `revision_id` (recorded too)."""
    revision = get_source_revision(get_db(), revision_id)
    if revision is None:
        abort(404)
    back = redirect(url_for("admin.source_history"))
    text = revision["old_text"]
    if not text:
        flash(f"修改 #{revision_id} 之前 sources.yaml 不存在，没有可恢复的内容。", "error")
        return back
    _, problems = parse_sources_text(text, sources_path().name)
    if problems:
        flash(f"无法恢复修改 #{revision_id} 之前的内容：" +
              "；".join(f"第 {p.line} 行：{source_problem(p)}" for p in problems[:5]), "error")
        return back
    refused = save_sources(text, base=None, action="restore", source_id=revision["source_id"],
                           note=f"恢复到修改 #{revision_id} 之前")
    flash(refused or f"已将 sources.yaml 恢复到修改 #{revision_id} 之前的内容。",
          "error" if refused else "message")
    return back
