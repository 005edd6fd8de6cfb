"""Error pages: in the site's layout, in Chinese, with a way back; under /api/ a problem
document (RFC 9457) instead. Never Werkzeug's English page."""

from __future__ import annotations

import pytest

from tracker.web import create_app


def chinese_page(response, status: int, title: str) -> str:
    html = response.get_data(as_text=True)
    assert response.status_code == status and response.mimetype == "text/html"
    assert '<header class="top">' in html and f"<h1>{title}</h1>" in html
    assert 'href="/"' in html and 'href="/articles"' in html  # a way back
    for english in ("Not Found", "Method Not Allowed", "Internal Server Error",
                    "The requested URL", "Request Entity Too Large"):
        assert english not in html
    return html


@pytest.mark.parametrize("method, url, status, title", [
    ("GET", "/no/such/page", 404, "找不到页面"),
    ("GET", "/articles/99999", 404, "找不到页面"),
    ("GET", "/articles/abc", 404, "找不到页面"),
    ("DELETE", "/subscribe", 405, "不支持这种操作"),
    ("PUT", "/articles", 405, "不支持这种操作"),
])
def test_errors_are_chinese_pages(client, method, url, status, title):
    response = client.open(url, method=method)
    chinese_page(response, status, title)
    if status == 405:
        assert "GET" in response.headers["Allow"]


def test_a_crash_is_a_chinese_page_and_logged(tmp_path, caplog):
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance")})

    @app.get("/boom")
    def boom():
        raise RuntimeError("the database went away")

    response = app.test_client().get("/boom")
    html = chinese_page(response, 500, "服务器出错了")
    assert "the database went away" not in html  # the detail goes to the log, not the page
    assert "the database went away" in caplog.text


def test_too_large_is_a_chinese_page(tmp_path):
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"),
                      "MAX_CONTENT_LENGTH": 1000, "WTF_CSRF_ENABLED": False})
    response = app.test_client().post("/subscribe", data={"email": "x" * 5000})
    chinese_page(response, 413, "提交的内容太大")


@pytest.mark.parametrize("method, url, status", [
    ("GET", "/api", 404), ("GET", "/api/", 404), ("GET", "/api/nothing", 404),
    ("PATCH", "/api/rules", 405), ("GET", "/api/articles/abc", 404)])
def test_api_errors_are_problem_documents(client, method, url, status):
    response = client.open(url, method=method, headers={"Authorization": "Bearer x"})
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["type"] == "about:blank"


def test_favicon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.data[:4] == b"\x00\x00\x01\x00"  # an ICO
    assert 'rel="icon"' in client.get("/subscribe").get_data(as_text=True)
