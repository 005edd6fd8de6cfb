"""The problems met reading a source carry a code and fields beside their English (issue #24):
str() of a FetchProblem is the English the CLI, the logs and the runs table show, and the admin's
source editor says each in Chinese by its code (tracker.web.problems.fetch_problem), so the
English can be reworded without changing the Chinese. The codes are checked where they arise:
real HTTP on loopback, real files, the e-paper readers' named problems."""

from __future__ import annotations

import pickle
import socket

import pytest

from loopback import respond
from tracker.errors import FETCH_CODES, FetchProblem, InputError
from tracker.sources.epaper.problems import PROBLEMS, named_error
from tracker.sources.http import fetch
from tracker.sources.reader import read_file
from tracker.web.problems import FETCH, FETCH_GENERAL, fetch_problem

URL = "http://paper.example.cn/html/2025-04/09/content_1.htm"


def test_every_code_has_a_chinese_sentence():
    assert set(FETCH) == set(FETCH_CODES)
    for code in FETCH_CODES:
        assert FETCH[code] and not FETCH[code].isascii(), code


def test_every_named_problem_is_a_code():
    assert {name.replace("-", "_") for name in PROBLEMS} <= set(FETCH_CODES)


# code, fields, the English, a reworded English, the Chinese said
SAID = [
    ("http_status", {"status": 404}, "server answered HTTP 404 Not Found", "got a 404",
     "网站返回错误（HTTP 404）"),
    ("timeout", {"seconds": 20.0}, "timed out after 20 s", "no answer in 20 seconds",
     "网站响应超时（超过 20 秒）"),
    ("unreachable", {}, "cannot connect ([Errno 111] Connection refused)", "refused",
     "无法连接网站"),
    ("too_large", {"limit": 50_000_000}, "is larger than the 50,000,000-byte limit", "too big",
     "文件太大，超过 50,000,000 字节的上限"),
    ("too_many_links", {"count": 10_000, "limit": 400}, "lists 10,000 article links", "many",
     "链接过多（10,000 个，上限 400），不像报纸版面，未读取"),
    ("unknown_layout", {"layout": "founder"}, "no page, article or PDF links", "nothing found",
     "未识别的版面格式（founder），请换一种版面格式"),
    ("outside_folder", {}, "a link to a file outside the folder; not read", "outside",
     "这是指向文件夹以外的链接，未读取"),
    ("not_http", {"scheme": "ftp"}, "not an http(s) link; not fetched", "not web", "不是 http(s) 链接，未读取"),
    ("other", {}, "HTTP request failed (WriteError: broken pipe)", "failed", "读取出错"),
]


@pytest.mark.parametrize("code, fields, english, reworded, chinese", SAID, ids=[s[0] for s in SAID])
def test_the_chinese_is_chosen_by_code_not_by_the_english(code, fields, english, reworded, chinese):
    problem = FetchProblem(URL, english, code, fields)
    assert str(problem) == problem == f"{URL}: {english}"  # what the CLI and the logs show
    assert fetch_problem(problem, detail=False) == f"{URL}：{chinese}"
    assert fetch_problem(problem) == f"{URL}：{chinese}（{english}）"  # the admin pages' detail
    assert fetch_problem(FetchProblem(URL, reworded, code, fields), detail=False) == f"{URL}：{chinese}"


def test_a_named_problem_shows_its_english_once_without_its_own_chinese():
    problem = FetchProblem.of(URL, named_error(URL, "script-built"))
    assert problem.code == "script_built"
    assert fetch_problem(problem) == (f"{URL}：该报网站用脚本加载版面，暂不支持（script-built: this "
                                      "site loads its pages by script; not supported）")


def test_missing_fields_or_plain_text_fall_back_to_the_general_sentence():
    assert fetch_problem(FetchProblem(URL, "over the limit", "too_large"), detail=False) == \
        f"{URL}：{FETCH_GENERAL}"
    assert fetch_problem(f"{URL}: something else") == f"{URL}：{FETCH_GENERAL}（something else）"
    assert FETCH_GENERAL in fetch_problem("no colon here")
    other = FetchProblem.of(URL, ValueError("odd"))
    assert (other.code, str(other)) == ("other", f"{URL}: odd")


def test_a_fetch_problem_is_frozen_and_survives_pickling():
    problem = FetchProblem(URL, "server answered HTTP 500", "http_status", {"status": 500})
    with pytest.raises(AttributeError):
        problem.code = "other"
    with pytest.raises(TypeError):
        problem.fields["status"] = 404
    again = pickle.loads(pickle.dumps(problem))
    assert (again, again.code, dict(again.fields)) == (problem, "http_status", {"status": 500})
    with pytest.raises(AssertionError):
        FetchProblem(URL, "x", "no_such_code")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# path, the route (None: the server's port closed), extra config, the code, its fields
HTTP = [
    ("/gone.htm", respond(b"gone", status=404), {}, "http_status", {"status": 404}),
    ("/broken.htm", respond(b"oops", status=500), {}, "http_status", {"status": 500}),
    ("/big.htm", respond(b"x" * 2000), {"MAX_DOCUMENT_BYTES": 1000}, "too_large", {"limit": 1000, "size": 2000}),
    ("/slow.htm", "slow", {"HTTP_TOTAL_TIMEOUT": 0.5}, "timeout", {"seconds": 0.5}),
    ("/closed.htm", None, {}, "unreachable", {}),
]


@pytest.mark.parametrize("path, route, config, code, fields", HTTP, ids=[h[3] + h[0] for h in HTTP])
def test_http_failures_get_their_codes(site, path, route, config, code, fields):
    if route == "slow":
        site.routes[path] = lambda handler: site.release.wait(5)
    elif route is not None:
        site.routes[path] = route
    url = f"http://127.0.0.1:{_closed_port()}{path}" if route is None else site.base + path
    with pytest.raises(InputError) as caught:
        fetch(url, {"HTTP_TOTAL_TIMEOUT": 5, **config})
    problem = FetchProblem.of(url, caught.value)
    assert (problem.code, dict(problem.fields)) == (code, fields)
    assert str(problem) == str(caught.value)  # the English as before
    assert not fetch_problem(problem, detail=False).endswith(FETCH_GENERAL)


def test_a_redirect_off_the_site_is_off_host(site):
    port = site.base.rsplit(":", 1)[1]
    site.routes["/away.htm"] = respond(b"", status=302,
                                       headers={"Location": f"http://localhost:{port}/x.htm"})
    with pytest.raises(InputError) as caught:
        fetch(site.base + "/away.htm", {"HTTP_TOTAL_TIMEOUT": 5}, home=site.base, same_host=True)
    assert caught.value.code == "off_host"
    assert caught.value.fields == {"target": f"http://localhost:{port}/x.htm"}


@pytest.mark.parametrize("make, code", [
    (lambda tmp: tmp / "absent.txt", "not_found"),
    (lambda tmp: tmp, "unreadable"),
    (lambda tmp: (tmp / "big.txt", (tmp / "big.txt").write_bytes(b"x" * 200))[0], "too_large"),
], ids=["not_found", "unreadable", "too_large"])
def test_file_failures_get_their_codes(tmp_path, make, code):
    with pytest.raises(InputError) as caught:
        read_file(str(make(tmp_path)), 100)
    assert caught.value.code == code


def test_a_link_out_of_a_drop_folder_is_outside_folder(tmp_path):
    from datetime import date

    from tracker.sources.catalog import Source
    from tracker.sources.collect import SourceState, collect_folder

    drop, outside = tmp_path / "drop", tmp_path / "secret.txt"
    drop.mkdir()
    outside.write_text("secret", encoding="utf-8")
    (drop / "link.txt").symlink_to(outside)
    source = Source(id="drop", name="投放", type="folder", path=str(drop))
    collected = collect_folder(source, {"FOLDER_SETTLE_SECONDS": 0}, SourceState(), date(2025, 4, 9))
    assert list(collected.documents) == []
    [problem] = collected.problems
    assert problem.code == "outside_folder" and problem.where == str(drop / "link.txt")
    assert problem == f"{drop / 'link.txt'}: a link to a file outside the folder; not read"
