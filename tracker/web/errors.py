"""Error pages: every error a person meets is a page in the site's layout, in Chinese, with a
way back; under /api/ the same errors are JSON problem details (RFC 9457,
application/problem+json), since a program reads those.

Blueprints with their own handlers (public's 404 for a bad link, api's) keep them; these are
the app-wide ones (an unknown URL, a wrong method, an upload too large, a crash)."""

from __future__ import annotations

import logging

from flask import Flask, Response, json, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)

# status → (title, what happened and what to do)
PAGES = {
    400: ("请求无效", "提交的内容无法处理。请返回上一页，检查后重新提交。"),
    403: ("无权访问", "这个页面不对外开放。如果你是管理员，请先登录。"),
    404: ("找不到页面", "这个地址没有页面，可能是链接输错了，或者内容已被删除。请从首页或文章列表重新进入。"),
    405: ("不支持这种操作", "这个地址不接受这种请求方式。请回到页面上，用页面里的按钮或表单操作。"),
    413: ("提交的内容太大", "提交的内容超过了本站允许的大小。请删减后再提交。"),
    429: ("操作太频繁", "短时间内请求太多次。请过一会儿再试。"),
    500: ("服务器出错了", "处理请求时出了问题，已记录在日志里。请稍后再试；如果一直出错，请联系管理员。"),
}


def is_api() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def problem_response(status: int, detail: str, title: str | None = None,
                     headers: dict[str, str] | None = None) -> Response:
    """An RFC 9457 problem document. `error` repeats `detail` for clients written before."""
    body = {"type": "about:blank", "title": title or _english_title(status), "status": status,
            "detail": detail, "error": detail}
    response = Response(json.dumps(body, ensure_ascii=False), status=status,
                        mimetype="application/problem+json")
    response.headers.update(headers or {})
    return response


def _english_title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def error_page(status: int, headers: dict[str, str] | None = None):
    title, text = PAGES.get(status, PAGES[500] if status >= 500 else PAGES[400])
    body = render_template("errors/error.html", status=status, title=title, text=text)
    return body, status, headers or {}


def handle(err: HTTPException):
    status = err.code or 500
    headers = dict(err.get_response().headers) if status == 405 else {}
    allow = {k: v for k, v in headers.items() if k.lower() == "allow"}
    if is_api():
        return problem_response(status, err.description or err.name, err.name, allow)
    return error_page(status, allow)


def handle_crash(err: Exception):
    if isinstance(err, HTTPException):
        return handle(err)
    log.exception("unhandled error on %s %s", request.method, request.path)
    return handle(InternalServerError())


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle)
    app.register_error_handler(Exception, handle_crash)
