"""The admin's source editor (/admin/sources): a source added and edited from the browser, its
preview the same reading as `tracker sources try` (here a policy list and an e-paper of our own
on loopback), sources.yaml checked by `tracker sources check`'s checker, written atomically with
its history (and put back), CSRF on every form, the SSRF rules on the URL and on every fetch of
a preview, everything in Chinese."""

from __future__ import annotations

import re
from html import unescape

import pytest

import epaper_site
import policy_site
from conftest import REPO_RULES, csrf_token
from tracker.sources.catalog import check_sources

START = """\
# 我们的来源（注释要保留）
sources:
  - id: drop
    name: 投放目录
    path: /srv/drop   # 服务器上的文件夹
  # 下面是省报
  - id: sxrb
    name: 山西日报
    url: https://epaper.example.cn/sxrb/html/{date:%Y-%m}/{date:%d}/node_1.htm
    schedule: "30 6 * * *"
"""


def make_app(tmp_path, **extra):
    from tracker.web import create_app

    instance = tmp_path / "instance"
    instance.mkdir(exist_ok=True)
    (instance / "sources.yaml").write_text(START, encoding="utf-8")
    return create_app({"TESTING": True, "INSTANCE_PATH": str(instance), "RULES": str(REPO_RULES),
                       "ADMIN_PASSWORD": "pw", "HTTP_TOTAL_TIMEOUT": 5, **extra})


@pytest.fixture
def admin(tmp_path):
    app = make_app(tmp_path, WEBHOOK_ALLOW_PRIVATE=True)
    client = app.test_client()
    client.post("/admin/login", data={"csrf_token": csrf_token(client, "/admin/login"),
                                      "password": "pw"})
    return client, tmp_path / "instance" / "sources.yaml"


def text_of(response) -> str:
    return unescape(response.get_data(as_text=True))


def form(client, page_url: str, **fields) -> dict:
    page = client.get(page_url).get_data(as_text=True)
    base = re.search(r'name="base" value="([^"]+)"', page)
    data = {"csrf_token": csrf_token(client, page_url), "enabled": "on", "schedule": "30 6 * * *",
            "timezone": "Asia/Shanghai", "day": "2025-04-10", **fields}
    if base:
        data["base"] = base.group(1)
    return data


def test_the_pages_need_the_admin_login(tmp_path):
    client = make_app(tmp_path).test_client()
    for url in ("/admin/sources", "/admin/sources/new", "/admin/sources/sxrb", "/admin/sources/history"):
        assert client.get(url).status_code in (302, 303), url


def test_the_list_shows_each_source_in_chinese(admin):
    client, _ = admin
    page = text_of(client.get("/admin/sources"))
    assert "山西日报" in page and "投放目录" in page and "电子报" in page and "文件夹" in page
    assert "新增来源" in page and "编辑与试读" in page


def test_preview_of_a_new_policy_source_reads_it_now_and_writes_nothing(admin, site):
    client, path = admin
    portal = policy_site.build(site)
    response = client.post("/admin/sources/new", data=form(
        client, "/admin/sources/new", id="zcwj", name="示例省政府·政策文件", type="policy",
        url=portal.url, action="preview"))
    page = text_of(response)
    assert response.status_code == 200, page
    assert "试读：示例省政府·政策文件" in page and "文章（4）" in page
    assert "发文机关：示例省人民政府办公厅 · 发文字号：示政办发〔2025〕12号" in page
    assert "content_404.htm" in page and "问题（1）" in page  # the gone document, named
    assert "没有保存任何内容" in page
    assert "+  - id: \"zcwj\"" in page or '+  - id: "zcwj"' in page  # the change it would make
    assert path.read_text(encoding="utf-8") == START


def test_preview_of_an_epaper_shows_its_pages(admin, site):
    client, _ = admin
    paper = epaper_site.build(site, epaper_site.DAY)
    page = text_of(client.post("/admin/sources/new", data=form(
        client, "/admin/sources/new", id="paper", name="试读报", type="epaper",
        url=paper.template, day=epaper_site.DAY.isoformat(), action="preview")))
    assert "版面格式 founder" in page and "第01版 要闻" in page and "我省新认定十二个省级专业镇" in page


def test_save_adds_the_source_keeping_the_rest_and_records_it(admin, site):
    client, path = admin
    portal = policy_site.build(site)
    response = client.post("/admin/sources/new", data=form(
        client, "/admin/sources/new", id="zcwj", name="政策文件", type="policy", url=portal.url,
        list_pages="2", articles=r"content_\d+\.htm", action="save"))
    assert response.status_code == 302, text_of(response)
    text = path.read_text(encoding="utf-8")
    assert text.startswith(START)  # the other sources and the comments as they were
    sources, problems = check_sources(path)
    assert problems == []
    added = {s.id: s for s in sources}["zcwj"]
    assert (added.type, added.url, added.list_pages, added.articles) == (
        "policy", portal.url, 2, r"content_\d+\.htm")
    # What the worker does with a new source (test_worker_deployed): read once at once.
    assert "worker 会在一分钟内抓取它一次" in text_of(client.get(response.location))
    history = text_of(client.get("/admin/sources/history"))
    assert "新增" in history and "zcwj" in history and "+    list_pages: 2" in history
    assert not site.requested  # saving fetches nothing


def test_edit_changes_only_that_entry_and_history_puts_it_back(admin):
    client, path = admin
    response = client.post("/admin/sources/sxrb", data=form(
        client, "/admin/sources/sxrb", name="山西日报（新）", type="epaper",
        url="https://epaper.example.cn/sxrb/html/{date:%Y-%m}/{date:%d}/node_1.htm",
        schedule="0 7 * * *", days="2", action="save"))
    assert response.status_code == 302, text_of(response)
    assert "下次按抓取时间抓取" in text_of(client.get(response.location))
    text = path.read_text(encoding="utf-8")
    assert "# 下面是省报" in text and "# 服务器上的文件夹" in text
    assert {s.id: s for s in check_sources(path)[0]}["sxrb"].days == 2
    assert text.count("id:") == 2
    token = csrf_token(client, "/admin/sources/history")
    [revision] = re.findall(r"/admin/sources/history/(\d+)/restore", client.get("/admin/sources/history").get_data(as_text=True))
    assert client.post(f"/admin/sources/history/{revision}/restore",
                       data={"csrf_token": token}).status_code == 302
    assert path.read_text(encoding="utf-8") == START
    assert "恢复" in text_of(client.get("/admin/sources/history"))


@pytest.mark.parametrize("fields, chinese", [
    ({"schedule": "30 25 * * *"}, "抓取时间 30 25 * * * 无法使用"),
    ({"url": "ftp://example.cn/x"}, "网址必须以 http:// 或 https:// 开头"),
    ({"days": "40"}, "天数是 1 到 31 的整数"),
    ({"articles": "content_(\\d+"}, "`articles` 不是有效的正则表达式"),
    ({"id": "Bad Id"}, "id 只能用小写字母、数字、_ 或 -"),
    ({"id": "sxrb"}, "id `sxrb` 已被另一个来源使用"),
    ({"type": "folder"}, "只能选择电子报、订阅源或政策栏目"),
])
def test_a_wrong_field_is_refused_in_chinese_and_nothing_is_written(admin, fields, chinese):
    client, path = admin
    data = form(client, "/admin/sources/new", id="new-paper", name="新报", type="epaper",
                url="https://e.example.cn/{date:%Y%m%d}/node_1.htm", action="save")
    response = client.post("/admin/sources/new", data={**data, **fields})
    assert response.status_code == 422
    assert chinese in text_of(response)
    assert path.read_text(encoding="utf-8") == START


def test_a_url_on_this_host_is_refused_and_never_fetched(tmp_path, site):
    """Without WEBHOOK_ALLOW_PRIVATE (production) a loopback URL is refused when previewed and
    when saved, before any request leaves."""
    app = make_app(tmp_path)
    client = app.test_client()
    client.post("/admin/login", data={"csrf_token": csrf_token(client, "/admin/login"),
                                      "password": "pw"})
    portal = policy_site.build(site)
    for action in ("preview", "save"):
        response = client.post("/admin/sources/new", data=form(
            client, "/admin/sources/new", id="zcwj", name="政策", type="policy", url=portal.url,
            action=action))
        assert response.status_code == 422
        assert "网址只能指向公网地址" in text_of(response) and "loopback" in text_of(response)
    assert site.requested == []


def test_every_fetch_of_a_preview_is_checked_the_sites_own_too(admin, site, monkeypatch):
    """The URL passed the save check (development: private addresses allowed there), but the
    preview's fetches are checked on their own, the source's own site included: with private
    addresses not allowed to the reader, the loopback site is refused before any request."""
    from tracker.sources import trial

    real = trial.try_source

    def no_private(source, day, config, every_hop=False):
        return real(source, day, {**config, "WEBHOOK_ALLOW_PRIVATE": False}, every_hop=every_hop)
    monkeypatch.setattr(trial, "try_source", no_private)
    client, _ = admin
    page = text_of(client.post("/admin/sources/new", data=form(
        client, "/admin/sources/new", id="feed", name="订阅", type="feed",
        url=site.base + "/rss.xml", action="preview")))
    assert "读取失败" in page and "not fetched" in page and "loopback" in page
    assert site.requested == []


def test_a_stale_form_does_not_overwrite_a_change_made_meanwhile(admin):
    client, path = admin
    data = form(client, "/admin/sources/sxrb", name="山西日报", type="epaper",
                url="https://epaper.example.cn/sxrb/html/{date:%Y-%m}/{date:%d}/node_1.htm",
                days="3", action="save")
    path.write_text(START.replace("山西日报", "山西日报社"), encoding="utf-8")
    response = client.post("/admin/sources/sxrb", data=data)
    assert response.status_code == 409 and "在你编辑期间已被修改" in text_of(response)
    assert "山西日报社" in path.read_text(encoding="utf-8")


def test_forms_need_csrf_and_a_get_never_writes(admin):
    client, path = admin
    data = form(client, "/admin/sources/new", id="x1", name="x", type="feed",
                url="https://example.cn/rss.xml", action="save")
    del data["csrf_token"]
    assert client.post("/admin/sources/new", data=data).status_code == 400
    assert client.get("/admin/sources/new", query_string={**data, "action": "save"}).status_code == 200
    assert client.get("/admin/sources/history/1/restore").status_code == 405
    assert path.read_text(encoding="utf-8") == START


def test_a_folder_source_is_not_edited_from_the_browser(admin):
    client, _ = admin
    response = client.get("/admin/sources/drop", follow_redirects=True)
    assert "只能直接在 sources.yaml 里修改" in text_of(response)


def test_preview_says_the_problems_of_a_broken_site_in_chinese(admin, site):
    # issue #24: each problem by its code in Chinese, its URL, the English after it in （…）
    client, _ = admin
    portal = policy_site.build(site)
    page = text_of(client.post("/admin/sources/new", data=form(
        client, "/admin/sources/new", id="zcwj", name="示例省政府·政策文件", type="policy",
        url=portal.url, action="preview")))
    gone = portal.site.base + portal.path(policy_site.GONE)
    assert f"{gone}：网站返回错误（HTTP 404）（server answered HTTP 404 Not Found）" in page
    paper = epaper_site.build(site, epaper_site.DAY, broken_page=True)
    page = text_of(client.post("/admin/sources/new", data=form(
        client, "/admin/sources/new", id="paper", name="试读报", type="epaper",
        url=paper.template, day=epaper_site.DAY.isoformat(), action="preview")))
    assert f"{paper.url('node_2.htm')}：网站返回错误（HTTP 500）" in page


def test_preview_of_a_site_that_cannot_be_read_says_why_in_chinese(admin, site):
    client, _ = admin
    site.routes["/zwgk/"] = lambda handler: handler.send_error(503)
    page = text_of(client.post("/admin/sources/new", data=form(
        client, "/admin/sources/new", id="zcwj", name="政策文件", type="policy",
        url=site.base + "/zwgk/", action="preview")))
    assert f"读取失败：{site.base}/zwgk/：网站返回错误（HTTP 503）（server answered HTTP 503" in page
