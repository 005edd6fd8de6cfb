"""The admin pages: login, dashboard, retry, subscriptions, and the rules editor (on a copy of
the rules folder: saving never touches the repository's rules)."""

from __future__ import annotations

import re
import shutil
from datetime import date, datetime, timedelta
from html import unescape
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from conftest import REPO_RULES, csrf_token
from tracker.store import connect, transaction
from builders import add_article
from tracker.store.articles import NewArticle
from tracker.store.runs import finish_run, start_run
from tracker.store.subscriptions import add_subscription, set_state

PASSWORD = "correct horse"


def make_app(tmp_path: Path, **overrides):
    from tracker.web import create_app

    config = {"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"),
              "RULES": str(tmp_path / "rules"), "ADMIN_PASSWORD": PASSWORD,
              "BASE_URL": "https://tracker.example.org", "SUBSCRIBE_LIMIT": "1000 per hour"}
    return create_app({**config, **overrides})


@pytest.fixture
def rules_dir(tmp_path) -> Path:
    folder = tmp_path / "rules"
    shutil.copytree(REPO_RULES, folder)
    return folder


@pytest.fixture
def admin_app(tmp_path, rules_dir, fresh_archive):
    fresh_archive(tmp_path / "instance" / "tracker.db")
    return make_app(tmp_path)


@pytest.fixture
def anon(admin_app):
    return admin_app.test_client()


@pytest.fixture
def admin(admin_app):
    client = admin_app.test_client()
    login(client, PASSWORD)
    return client


@pytest.fixture
def db(admin_app):
    database = connect(Path(admin_app.config["INSTANCE_PATH"]) / "tracker.db")
    yield database
    database.conn.close()


def login(client, password: str, next_path: str | None = None):
    token = csrf_token(client, "/admin/login")
    data = {"csrf_token": token, "password": password}
    if next_path is not None:
        data["next"] = next_path
    return client.post("/admin/login", data=data)


def text_of(response) -> str:
    return unescape(response.get_data(as_text=True))


def form_token(client, url: str) -> str:
    return csrf_token(client, url)


def editor_form(client, url: str) -> dict:
    page = client.get(url).get_data(as_text=True)
    fields = {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page).group(1),
              "yaml": unescape(re.search(r"<textarea[^>]*>\n?(.*?)</textarea>", page, re.S).group(1))}
    base = re.search(r'name="base" value="([^"]+)"', page)
    if base:
        fields["base"] = base.group(1)
    return fields


# Login.

def test_login_wrong_password_is_401_with_the_form(anon):
    response = login(anon, "wrong")
    assert response.status_code == 401
    assert 'name="password"' in response.get_data(as_text=True)
    assert anon.get("/admin").status_code == 302


def test_login_right_password_opens_admin_and_logout_closes_it(anon):
    response = login(anon, PASSWORD)
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin")
    with anon.session_transaction() as session:
        assert session["admin"]  # a server-side session id
    assert anon.get("/admin").status_code == 200
    token = form_token(anon, "/admin")
    assert anon.post("/admin/logout", data={"csrf_token": token}).status_code == 302
    assert anon.get("/admin").status_code == 302


@pytest.mark.parametrize("target,expected", [
    ("/admin/rules", "/admin/rules"),
    ("https://evil.example/x", "/admin"),
    ("//evil.example/x", "/admin"),
    ("/\\evil.example", "/admin"),
    ("javascript:alert(1)", "/admin"),
])
def test_login_follows_next_only_to_a_local_path(anon, target, expected):
    response = login(anon, PASSWORD, target)
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_a_protected_page_sends_to_login_with_next(anon):
    response = anon.get("/admin/rules")
    assert response.status_code == 302
    assert "/admin/login?next=/admin/rules" in response.headers["Location"].replace("%2F", "/")


def test_admin_is_closed_without_a_password(tmp_path, rules_dir):
    client = make_app(tmp_path, ADMIN_PASSWORD="").test_client()
    page = client.get("/admin/login")
    assert page.status_code == 403 and "TRACKER_ADMIN_PASSWORD" in page.get_data(as_text=True)
    assert client.post("/admin/login", data={"password": ""}).status_code in (400, 403)
    assert client.get("/admin").status_code == 302  # to the closed login page


def test_failed_logins_are_throttled(anon):
    statuses = [login(anon, "wrong").status_code for _ in range(11)]
    assert statuses[:10] == [401] * 10 and statuses[10] == 429


def test_every_admin_route_requires_login(anon, db):
    for url in ("/admin", "/admin/subscriptions", "/admin/rules", "/admin/rules/new",
                "/admin/rules/lvdian", "/admin/rules/lvdian/history"):
        response = anon.get(url)
        assert response.status_code == 302 and "/admin/login" in response.headers["Location"], url
    token = form_token(anon, "/admin/login")  # a valid token: the login, not CSRF, refuses
    for url in ("/admin/deliveries/1/retry", "/admin/rules/lvdian", "/admin/rules/new",
                "/admin/rules/lvdian/history/1/restore"):
        response = anon.post(url, data={"csrf_token": token, "action": "save", "yaml": "x"})
        assert response.status_code == 302 and "/admin/login" in response.headers["Location"], url


def test_csrf_token_missing_is_400(admin, rules_dir):
    before = (rules_dir / "lvdian.yaml").read_bytes()
    response = admin.post("/admin/rules/lvdian", data={"action": "save", "yaml": "id: x\n"})
    assert response.status_code == 400
    assert (rules_dir / "lvdian.yaml").read_bytes() == before
    assert admin.post("/admin/logout").status_code == 400


# Dashboard.

def seed_failures(db) -> tuple[int, int]:
    with transaction(db):
        db["sources"].insert({"id": "sxrb", "name": "山西日报", "type": "epaper",
                              "location": "https://example.org"})
    run = start_run(db, "sxrb")
    finish_run(db, run, status="error", error="HTTP 503 from https://example.org/<b>")
    with transaction(db):
        sub, _ = add_subscription(db, "webhook", "https://hooks.example.org/a", ["lvdian"],
                                  "instant", active=True)
        gone, _ = add_subscription(db, "webhook", "https://hooks.example.org/gone", ["lvdian"],
                                   "instant", active=True)
        set_state(db, gone.id, "disabled", "gone", detail="the endpoint answered 410 Gone")
        dead = db["deliveries"].insert({
            "subscription_id": sub.id, "frequency": "instant", "created_at": "2024-01-01",
            "status": "dead", "attempts": 8, "next_attempt_at": None,
            "last_error": "HTTP 500 from receiver", "error_code": "server_error",
            "error_fields": '{"status": 500}', "message_id": "<m>", "webhook_id": "w"}).last_pk
        db["deliveries"].insert({
            "subscription_id": sub.id, "frequency": "instant", "created_at": "2024-01-01",
            "status": "sent", "attempts": 1, "sent_at": "2024-01-02T08:00:00+00:00",
            "message_id": "<n>", "webhook_id": "v"})
    return dead, gone.id


def test_dashboard_shows_source_errors_dead_deliveries_and_disabled_subscriptions(admin, db):
    seed_failures(db)
    page = admin.get("/admin")
    assert page.status_code == 200
    text = text_of(page)
    assert "HTTP 503 from https://example.org/<b>" in text  # escaped in the HTML
    assert "<b>" not in page.get_data(as_text=True).split("HTTP 503")[1][:40]
    assert "山西日报" in text
    assert "HTTP 500 from receiver" in text and "https://hooks.example.org/a" in text
    assert "the endpoint answered 410 Gone" in text
    assert "投递：已放弃" in text and "立即重试" in text
    # Chinese words for states; no English status word in a table cell.
    assert "对方服务出错（HTTP 500）" in text and "已停用" in text and "出错" in text
    assert not re.search(r">\s*(?:pending|sent|failed|dead|active|instant|error)\s*<",
                         page.get_data(as_text=True))
    # The source's health above the run log.
    health = text.split("来源状况")[1].split("抓取记录")[0]
    assert "山西日报" in health and "还没有成功过" in health and "HTTP 503" in health


def test_dashboard_times_are_local_and_the_run_log_pages(admin, db, app):
    with transaction(db):
        db["sources"].insert({"id": "sxrb", "name": "山西日报", "type": "epaper", "location": "x"})
        for i in range(45):
            db["runs"].insert({"source_id": "sxrb", "started": "2025-04-09T01:02:03.123456+00:00",
                               "finished": "2025-04-09T01:02:04.654321+00:00", "status": "ok",
                               "fetched": i, "new_articles": 0, "hits": 0})
    html = admin.get("/admin").get_data(as_text=True)
    assert "2025-04-09 09:02" in html and ".123456" not in html and "01:02:03" not in html
    assert "第 1 / 3 页" in html and html.count("<td>山西日报</td>") == 20  # the source by its name
    last = admin.get("/admin?page=3").get_data(as_text=True)
    assert "第 3 / 3 页" in last and last.count("<td>山西日报</td>") == 5
    assert "第 3 / 3 页" in admin.get("/admin?page=99").get_data(as_text=True)


def test_retry_now_makes_a_dead_delivery_pending_keeping_attempts(admin, db):
    dead, _ = seed_failures(db)
    token = form_token(admin, "/admin")
    response = admin.post(f"/admin/deliveries/{dead}/retry", data={"csrf_token": token})
    assert response.status_code == 302
    row = db["deliveries"].get(dead)
    assert row["status"] == "pending" and row["attempts"] == 8 and row["next_attempt_at"]
    # A sent delivery is not retried.
    sent = db.execute("SELECT id FROM deliveries WHERE status = 'sent'").fetchone()[0]
    admin.post(f"/admin/deliveries/{sent}/retry", data={"csrf_token": token})
    assert db["deliveries"].get(sent)["status"] == "sent"


def test_subscriptions_page_lists_state_rules_and_last_delivery(admin, db):
    seed_failures(db)
    text = text_of(admin.get("/admin/subscriptions"))
    assert "https://hooks.example.org/a" in text and "2024-01-02 16:00" in text
    assert "绿电" in text and "已停用" in text and "410 Gone" in text
    assert "lvdian" not in text  # rules by their names, not their ids


# Rules editor.

def test_rules_list_links_each_rule(admin):
    text = text_of(admin.get("/admin/rules"))
    for rule_id in ("lvdian", "biaozhundi", "xinnengyuan"):
        assert f"/admin/rules/{rule_id}" in text
    assert "lvdian.yaml" in text and "绿电" in text and "/admin/rules/new" in text


def test_editor_shows_the_whole_file(admin, rules_dir):
    form = editor_form(admin, "/admin/rules/lvdian")
    assert form["yaml"] == (rules_dir / "lvdian.yaml").read_text(encoding="utf-8")


def test_broken_yaml_shows_line_and_column_and_leaves_the_file_alone(admin, rules_dir):
    before = (rules_dir / "lvdian.yaml").read_bytes()
    form = editor_form(admin, "/admin/rules/lvdian")
    form.update(action="save", yaml="id: lvdian\nname: 绿电\nkeywords:\n\t- 绿电\n")
    response = admin.post("/admin/rules/lvdian", data=form)
    assert response.status_code == 422
    text = text_of(response)
    assert "第 4 行，第 1 列" in text
    assert (rules_dir / "lvdian.yaml").read_bytes() == before
    # A sound YAML that is not a sound rule: also refused, with where.
    form["yaml"] = "id: lvdian\nname: 绿电\nkeywords: []\n"
    response = admin.post("/admin/rules/lvdian", data=form)
    assert response.status_code == 422 and "第 3 行" in text_of(response)
    assert (rules_dir / "lvdian.yaml").read_bytes() == before


def revisions(db) -> list[dict]:
    return list(db["rule_revisions"].rows_where(order_by="id"))


def test_save_writes_the_file_and_records_a_revision(admin, rules_dir, db):
    old = (rules_dir / "lvdian.yaml").read_text(encoding="utf-8")
    form = editor_form(admin, "/admin/rules/lvdian")
    form.update(action="save", yaml=form["yaml"].replace("绿电直连]", "绿电直连, 绿电园区]")
                .replace("\n", "\r\n"))  # as a browser posts a textarea
    response = admin.post("/admin/rules/lvdian", data=form)
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/rules/lvdian")
    new = (rules_dir / "lvdian.yaml").read_text(encoding="utf-8")
    assert "绿电园区" in new and "\r" not in new
    assert not [p for p in rules_dir.iterdir() if p.name.startswith(".")]  # no temp file left
    [revision] = revisions(db)
    assert revision["old_text"] == old and revision["new_text"] == new
    assert revision["who"] == "admin" and revision["remote_addr"] == "127.0.0.1"
    assert revision["file"] == "lvdian.yaml" and revision["action"] == "edit"
    assert "-keywords: [绿电" in revision["diff"] and "+keywords: [绿电" in revision["diff"]
    assert revision["diff"].startswith("--- a/lvdian.yaml\n+++ b/lvdian.yaml\n")


def test_a_save_from_a_stale_page_is_refused(admin, rules_dir, db):
    form = editor_form(admin, "/admin/rules/lvdian")
    (rules_dir / "lvdian.yaml").write_text(form["yaml"] + "# someone else\n", encoding="utf-8")
    before = (rules_dir / "lvdian.yaml").read_bytes()
    form.update(action="save", yaml=form["yaml"].replace("name: 绿电", "name: 绿电2"))
    response = admin.post("/admin/rules/lvdian", data=form)
    assert response.status_code == 409 and "已被修改" in text_of(response)
    assert (rules_dir / "lvdian.yaml").read_bytes() == before and not revisions(db)


def test_history_lists_diffs_and_restore_puts_the_old_text_back(admin, rules_dir, db):
    original = (rules_dir / "lvdian.yaml").read_text(encoding="utf-8")
    form = editor_form(admin, "/admin/rules/lvdian")
    form.update(action="save", yaml=form["yaml"].replace("name: 绿电", "name: 绿色电力专题"))
    assert admin.post("/admin/rules/lvdian", data=form).status_code == 302
    page = admin.get("/admin/rules/lvdian/history")
    text = text_of(page)
    assert "-name: 绿电" in text and "+name: 绿色电力专题" in text
    [revision] = revisions(db)
    token = form_token(admin, "/admin/rules/lvdian/history")
    response = admin.post(f"/admin/rules/lvdian/history/{revision['id']}/restore",
                          data={"csrf_token": token})
    assert response.status_code == 302
    assert (rules_dir / "lvdian.yaml").read_text(encoding="utf-8") == original
    first, second = revisions(db)
    assert second["action"] == "restore" and second["new_text"] == original
    assert second["old_text"] == first["new_text"]
    assert "恢复" in text_of(admin.get("/admin/rules/lvdian/history"))


def test_history_times_are_local_like_the_rest_of_admin(admin, admin_app, db):
    """A save recorded in UTC is shown in TRACKER_TIMEZONE, to the minute, as the dashboard
    shows its times."""
    admin_app.config["TIMEZONE"] = "America/New_York"
    form = editor_form(admin, "/admin/rules/lvdian")
    form.update(action="save", yaml=form["yaml"].replace("name: 绿电", "name: 绿色电力专题"))
    assert admin.post("/admin/rules/lvdian", data=form).status_code == 302
    [revision] = revisions(db)
    at = datetime.fromisoformat(revision["at"]).astimezone(ZoneInfo("America/New_York"))
    text = text_of(admin.get("/admin/rules/lvdian/history"))
    assert at.strftime("%Y-%m-%d %H:%M") in text
    assert revision["at"] not in text and not re.search(r"\d{2}:\d{2}:\d{2}", text)


def test_new_rule_is_saved_as_id_yaml_once(admin, rules_dir, db):
    form = editor_form(admin, "/admin/rules/new")
    assert "id: new-rule" in form["yaml"]
    form.update(action="save", yaml="id: qingjie\nname: 清洁能源\nkeywords: [清洁能源]\n")
    response = admin.post("/admin/rules/new", data=form)
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/rules/qingjie")
    assert (rules_dir / "qingjie.yaml").read_text(encoding="utf-8").startswith("id: qingjie")
    assert revisions(db)[-1]["action"] == "create" and revisions(db)[-1]["old_text"] == ""
    # The same id again: a duplicate, refused.
    response = admin.post("/admin/rules/new", data=form)
    assert response.status_code == 422 and "重复" in text_of(response)
    # A file of that name that holds no rule of that id: refused, not overwritten.
    (rules_dir / "other.yaml").write_text("# notes\n", encoding="utf-8")
    form["yaml"] = "id: other\nname: 其他\nkeywords: [其他]\n"
    response = admin.post("/admin/rules/new", data=form)
    assert response.status_code == 409 and "已存在" in text_of(response)
    assert (rules_dir / "other.yaml").read_text(encoding="utf-8") == "# notes\n"


def test_an_id_of_another_file_is_refused(admin, rules_dir, db):
    before = (rules_dir / "lvdian.yaml").read_bytes()
    form = editor_form(admin, "/admin/rules/lvdian")
    form.update(action="save", yaml=form["yaml"].replace("id: lvdian", "id: biaozhundi"))
    response = admin.post("/admin/rules/lvdian", data=form)
    assert response.status_code == 422
    assert "biaozhundi" in text_of(response) and "重复" in text_of(response)
    assert (rules_dir / "lvdian.yaml").read_bytes() == before and not revisions(db)


def seed_articles(db) -> None:
    today = date.today()
    old = (today - timedelta(days=90)).isoformat()
    with transaction(db):
        db["sources"].insert({"id": "demo", "name": "示例日报", "type": "feed", "location": "x"})
        for title, text, day in (
            ("甲市绿电交易规模扩大", "今年以来，甲市绿电交易电量同比增长。", today.isoformat()),
            ("乙县氢能产业园开工", "乙县氢能产业园今天开工，氢能重卡同步投用。", today.isoformat()),
            ("丙区氢能旧闻", "丙区三个月前的氢能项目。", old),
        ):
            add_article(db, NewArticle("demo", title, text, issue_date=day))


def test_preview_shows_would_match_and_would_stop_matching_without_writing(admin, rules_dir, db):
    seed_articles(db)
    before = (rules_dir / "lvdian.yaml").read_bytes()
    form = editor_form(admin, "/admin/rules/lvdian")
    form.update(action="preview",
                yaml="id: lvdian\nname: 绿电\nkeywords: [氢能]\n")
    response = admin.post("/admin/rules/lvdian", data=form)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    would, stop = (re.search(rf'<ul class="{c}">(.*?)</ul>', html, re.S) for c in
                   ("would-match", "would-stop"))
    assert would and "乙县氢能产业园开工" in would.group(1)
    assert "丙区氢能旧闻" not in html  # older than 30 days
    assert stop and "甲市绿电交易规模扩大" in stop.group(1)
    assert "保存前命中 1 篇，保存后命中 1 篇" in unescape(html)
    assert (rules_dir / "lvdian.yaml").read_bytes() == before and not revisions(db)
    # The edited text stays in the textarea.
    assert "keywords: [氢能]" in unescape(html)


def test_preview_of_a_new_rule(admin, rules_dir, db):
    seed_articles(db)
    form = editor_form(admin, "/admin/rules/new")
    form.update(action="preview", yaml="id: qingneng\nname: 氢能\nkeywords: [氢能]\n")
    response = admin.post("/admin/rules/new", data=form)
    assert response.status_code == 200 and "乙县氢能产业园开工" in text_of(response)
    assert not (rules_dir / "qingneng.yaml").exists()


def test_rule_text_is_escaped(admin, rules_dir):
    (rules_dir / "xss.yaml").write_text(
        'id: xss\nname: "<script>alert(1)</script>"\nkeywords: [测试]\n', encoding="utf-8")
    for url in ("/admin/rules", "/admin/rules/xss"):
        html = admin.get(url).get_data(as_text=True)
        assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url


@pytest.mark.parametrize("rule_id", ["../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "%2e%2e",
                                     "Lvdian", "lvdian.yaml", ".hidden"])
def test_traversal_and_non_slug_ids_are_refused(admin, rule_id, rules_dir):
    for url in (f"/admin/rules/{rule_id}", f"/admin/rules/{rule_id}/history"):
        assert admin.get(url).status_code == 404, url
    token = form_token(admin, "/admin/rules")
    response = admin.post(f"/admin/rules/{rule_id}",
                          data={"csrf_token": token, "action": "save", "yaml": "id: x\n"})
    assert response.status_code in (404, 405)


def test_new_rule_with_a_non_slug_id_is_refused(admin, rules_dir, tmp_path):
    form = editor_form(admin, "/admin/rules/new")
    form.update(action="save", yaml="id: ../../evil\nname: 坏\nkeywords: [坏]\n")
    response = admin.post("/admin/rules/new", data=form)
    assert response.status_code == 422 and "slug" in text_of(response)
    assert not (tmp_path / "evil.yaml").exists() and not list(tmp_path.glob("**/evil*"))


def test_a_symlink_out_of_the_rules_folder_is_not_written(admin, rules_dir, tmp_path, db):
    outside = tmp_path / "outside.yaml"
    outside.write_text("id: outside\nname: 外面\nkeywords: [外面]\n", encoding="utf-8")
    (rules_dir / "outside.yaml").symlink_to(outside)
    assert admin.get("/admin/rules/outside").status_code == 403
    token = form_token(admin, "/admin/rules")
    admin.post("/admin/rules/outside", data={"csrf_token": token, "action": "save",
                                             "yaml": "id: outside\nname: 改\nkeywords: [改]\n"})
    assert "外面" in outside.read_text(encoding="utf-8") and not revisions(db)


def test_a_keyword_listed_twice_is_warned_about_not_refused(admin, app):
    path = Path(app.config["RULES"]) / "lvdian.yaml"
    token = form_token(admin, "/admin/rules/lvdian")
    text = path.read_text(encoding="utf-8").replace("keywords: [绿电,", "keywords: [绿电, 綠電,")
    response = admin.post("/admin/rules/lvdian", data={
        "csrf_token": token, "yaml": text, "action": "preview",
        "base": re.search(r'name="base" value="([^"]+)"',
                          admin.get("/admin/rules/lvdian").get_data(as_text=True)).group(1)})
    html = response.get_data(as_text=True)
    assert "“綠電”写了两次" in html and "不影响保存" in html
    assert "写了两次" not in admin.get("/admin/rules/zhuanyezhen").get_data(as_text=True)


# The rule language in the editor: regex terms, global excludes.

def lists(html: str) -> tuple[str, str]:
    return tuple((m.group(1) if (m := re.search(rf'<ul class="{c}">(.*?)</ul>', html, re.S))
                  else "") for c in ("would-match", "would-stop"))


def test_preview_of_a_regex_rule_shows_what_it_gains_and_loses(admin, rules_dir, db):
    seed_articles(db)
    form = editor_form(admin, "/admin/rules/lvdian")
    form.update(action="preview", yaml="id: lvdian\nname: 绿电\nregex: ['氢能(产业园|重卡)']\n")
    response = admin.post("/admin/rules/lvdian", data=form)
    assert response.status_code == 200
    would, stop = lists(response.get_data(as_text=True))
    assert "乙县氢能产业园开工" in would and "甲市绿电交易规模扩大" in stop
    form.update(yaml="id: lvdian\nname: 绿电\nregex: ['(?<=甲市)绿电']\n")
    response = admin.post("/admin/rules/lvdian", data=form)
    assert response.status_code == 422 and "RE2 cannot compile" in text_of(response)


def test_global_excludes_are_created_shown_and_previewed_for_every_rule(admin, rules_dir, db):
    seed_articles(db)
    assert "还没有全局排除词" in text_of(admin.get("/admin/rules"))
    form = editor_form(admin, "/admin/rules/new")
    form.update(action="preview", yaml="exclude: [规模]\n")
    response = admin.post("/admin/rules/new", data=form)
    html = text_of(response)
    assert response.status_code == 200 and "全局排除词将从" in html
    would, stop = lists(response.get_data(as_text=True))
    assert "甲市绿电交易规模扩大" in stop and not would
    assert not (rules_dir / "_global.yaml").exists()
    form.update(action="save")
    response = admin.post("/admin/rules/new", data=form)
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/rules/_global")
    assert (rules_dir / "_global.yaml").read_text(encoding="utf-8") == "exclude: [规模]\n"
    listing = text_of(admin.get("/admin/rules"))
    assert "<code>规模</code>" in listing and "/admin/rules/_global" in listing
    editor = text_of(admin.get("/admin/rules/lvdian"))
    assert "全局排除词（对每条规则生效）：<code>规模</code>" in editor
    # Editing a rule previews it with the global excludes in force.
    form = editor_form(admin, "/admin/rules/lvdian")
    form.update(action="preview", yaml="id: lvdian\nname: 绿电\nkeywords: [绿电, 氢能]\n")
    would, stop = lists(admin.post("/admin/rules/lvdian", data=form).get_data(as_text=True))
    assert "乙县氢能产业园开工" in would and "甲市" not in would + stop
    # Editing the global excludes previews every rule they change.
    form = editor_form(admin, "/admin/rules/_global")
    form.update(action="preview", yaml="exclude: [氢能]\n")
    would, stop = lists(admin.post("/admin/rules/_global", data=form).get_data(as_text=True))
    assert "甲市绿电交易规模扩大" in would and "乙县氢能产业园开工" in stop  # 新能源 loses it
