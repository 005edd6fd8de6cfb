"""The JSON API: bearer-token auth, every route, no secrets, and its OpenAPI document."""

from __future__ import annotations

import json
import re

import pytest

from tracker.store import transaction
from builders import add_article
from tracker.store.articles import NewArticle
from tracker.store.subscriptions import add_subscription

AUTH = {"Authorization": "Bearer t0ken"}
SECRETS = ("s3cret-signing-key", "T000SECRETPATH", "qs-secret", "dingtokentoken", "pw-hidden")


@pytest.fixture
def ids(app):
    with app.app_context():
        from tracker.web.db import get_db

        db = get_db()
        ids = {}
        with transaction(db):
            db["sources"].insert({"id": "dxrb", "name": "东溪日报", "type": "feed",
                                  "location": "x"})
            for key, day, title, text, hits in [
                ("a1", "2025-04-14", "东溪镇专业镇建设再提速", "东溪镇推动专业镇转型，园区用上绿电。",
                 {"zhuanyezhen": "2025-04-14T02:00:00+00:00", "lvdian": "2025-04-14T02:00:01+00:00"}),
                ("a2", "2025-04-08", "西岭绿电交易首单落地", "西岭县完成首笔绿电交易。",
                 {"lvdian": "2025-04-08T02:00:00+00:00"}),
                ("a3", "2025-04-10", "标准地出让提速", "北山镇出让标准地两宗。", {}),
            ]:
                ids[key], _ = add_article(db, NewArticle(
                    source_id="dxrb", title=title, text=text, issue_date=day, page="2",
                    url=f"https://dxrb.example.cn/{day}/{key}.html"))
                for rule_id, at in hits.items():
                    db["hits"].insert({
                        "article_id": ids[key], "rule_id": rule_id, "rule_name": rule_id,
                        "count": 1, "matched_at": at, "snippets": json.dumps(
                            [{"keyword": "k", "field": "body", "offset": 0,
                              "snippet": f"{title}【{rule_id}】"}], ensure_ascii=False)})
            add_subscription(db, "email", "reader@example.com", ["lvdian"], "daily", active=True)
            add_subscription(db, "webhook",
                             "https://hooks.example.com/services/T000SECRETPATH?key=qs-secret",
                             ["lvdian", "zhuanyezhen"], "instant", active=True,
                             secret="s3cret-signing-key")
            add_subscription(db, "webhook", "https://user:pw-hidden@hooks.example.org:8443/x",
                             ["lvdian"], "instant", active=True)
            add_subscription(db, "chat", "dingtalk://dingtokentoken/", ["lvdian"], "daily",
                             active=True)
        return ids


def get(client, url, headers=AUTH, status=200):
    response = client.get(url, headers=headers)
    assert response.status_code == status, (url, response.get_data(as_text=True))
    assert response.is_json
    return response.get_json()


def api_routes(app) -> set[tuple[str, str]]:
    """(OpenAPI path, method) of every /api route the app has."""
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            routes |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    return routes


DATA_ROUTES = ["/api/rules", "/api/subscriptions", "/api/articles?q=绿电", "/api/articles/1",
               "/api/hits"]


# Auth ---------------------------------------------------------------------------------

def test_every_data_route_is_covered_here(app):
    """DATA_ROUTES (used by the auth tests below) holds one URL of each /api route."""
    paths = {re.sub(r"\?.*", "", u).replace("/1", "/{article_id}") for u in DATA_ROUTES}
    assert paths == {p for p, _ in api_routes(app)} - {"/api/openapi.json", "/api/docs"}


@pytest.mark.parametrize("url", DATA_ROUTES)
@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer"}, {"Authorization": "Bearer "},
    {"Authorization": "Bearer wrong"}, {"Authorization": "Bearer t0ke"},
    {"Authorization": "Bearer t0ken0"}, {"Authorization": "Basic t0ken"},
    {"Authorization": "t0ken"}, {"X-Api-Token": "t0ken"},
])
def test_no_or_wrong_token_is_401(client, ids, url, headers):
    response = client.get(url, headers=headers)
    assert response.status_code == 401
    assert response.get_json()["detail"] == "a valid token is required: Authorization: Bearer <token>"
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "东溪" not in response.get_data(as_text=True)


@pytest.mark.parametrize("url", DATA_ROUTES)
def test_the_right_token_is_200(client, ids, url):
    get(client, url)
    get(client, url, headers={"Authorization": "bearer t0ken"})  # the scheme is case-blind


@pytest.mark.parametrize("url", DATA_ROUTES)
@pytest.mark.parametrize("headers", [{}, AUTH, {"Authorization": "Bearer "}])
def test_without_a_configured_token_the_api_is_off(app, client, ids, url, headers):
    app.config["API_TOKEN"] = ""
    assert get(client, url, headers=headers, status=403)["error"].startswith("API disabled")


def test_the_token_is_compared_in_constant_time(client, ids, monkeypatch):
    import hmac

    calls, compare = [], hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: calls.append((a, b)) or compare(a, b))
    get(client, "/api/rules")
    assert calls == [(b"t0ken", b"t0ken")]


# Routes -------------------------------------------------------------------------------

def test_rules(client, ids):
    rules = {r["id"]: r for r in get(client, "/api/rules")["rules"]}
    assert {"lvdian", "zhuanyezhen", "biaozhundi"} <= set(rules)
    assert rules["lvdian"]["name"] == "绿电"
    assert "绿电" in rules["lvdian"]["keywords"]


def test_subscriptions_hide_secrets(client, ids):
    response = client.get("/api/subscriptions", headers=AUTH)
    text = response.get_data(as_text=True)
    for secret in SECRETS:
        assert secret not in text
    assert "secret" not in {k for s in response.get_json()["subscriptions"] for k in s}
    subs = {s["id"]: s for s in response.get_json()["subscriptions"]}
    assert [(s["channel"], s["address"], s["has_secret"]) for s in subs.values()] == [
        ("email", "reader@example.com", False),
        ("webhook", "https://hooks.example.com/…", True),
        ("webhook", "https://hooks.example.org:8443/…", False),
        ("chat", "dingtalk://…", False)]
    assert subs[2]["rules"] == ["lvdian", "zhuanyezhen"]
    assert (subs[2]["frequency"], subs[2]["state"]) == ("instant", "active")
    assert (subs[2]["state_code"], subs[2]["state_fields"], subs[2]["state_reason"]) == (
        None, None, None)


def test_why_a_subscription_was_disabled_is_a_code_with_fields(app, client, ids):
    """For programs the code and its fields; the English sentence is for people."""
    from tracker.store.subscriptions import set_state
    from tracker.web.db import get_db

    with app.app_context():
        db = get_db()
        with transaction(db):
            set_state(db, 2, "disabled", "failing", fields={
                "since": "2025-04-01T08:00:00+00:00", "error_code": "server_error",
                "error_fields": {"status": 502}}, detail="failing since 2025-04-01T08:00; …")
    answer = get(client, "/api/subscriptions")
    subs = {s["id"]: s for s in answer["subscriptions"]}
    assert (subs[2]["state"], subs[2]["state_code"]) == ("disabled", "failing")
    assert subs[2]["state_fields"]["error_fields"] == {"status": 502}
    assert subs[2]["state_reason"].startswith("failing since")
    jsonschema = pytest.importorskip("jsonschema")
    doc = get(client, "/api/openapi.json", headers={})
    schema = doc["paths"]["/api/subscriptions"]["get"]["responses"]["200"]["content"][
        "application/json"]["schema"]
    jsonschema.validate(answer, {**schema, "components": doc["components"]},
                        cls=jsonschema.Draft202012Validator)


@pytest.mark.parametrize("query,titles", [
    ("q=绿电", ["东溪镇专业镇建设再提速", "西岭绿电交易首单落地"]),
    ("q=绿电&limit=1", ["东溪镇专业镇建设再提速"]),
    ("q=绿电&since=2025-04-09", ["东溪镇专业镇建设再提速"]),
    ("q=绿电&until=2025-04-09", ["西岭绿电交易首单落地"]),
    ("q=绿电&source=other", []),
    ("q=绿电&rule=zhuanyezhen", ["东溪镇专业镇建设再提速"]),
    ("rule=lvdian", ["东溪镇专业镇建设再提速", "西岭绿电交易首单落地"]),
    ("rule=lvdian&source=dxrb&since=2025-04-09", ["东溪镇专业镇建设再提速"]),
    ("q=氢能源", []),
])
def test_articles_search(client, ids, query, titles):
    found = get(client, f"/api/articles?{query}")["articles"]
    assert [a["title"] for a in found] == titles


def test_article_found_fields(client, ids):
    (found,) = get(client, "/api/articles?q=专业镇")["articles"]
    assert found == {"id": ids["a1"], "title": "东溪镇专业镇建设再提速", "source": "dxrb",
                     "source_name": "东溪日报", "date": "2025-04-14", "page": "2",
                     "url": "https://dxrb.example.cn/2025-04-14/a1.html",
                     "snippet": "东溪镇推动【专业镇】转型，园区用上绿电。", "story_id": None,
                     "also_in": []}


@pytest.mark.parametrize("query,message", [
    ("", "give q"), ("source=dxrb", "give q"), ("q=绿电&limit=0", "limit"),
    ("q=绿电&limit=201", "limit"), ("q=绿电&limit=abc", "limit"), ("q=绿电&limit=-1", "limit"),
    ("q=绿电&since=yesterday", "since"), ("q=绿电&until=2025-13-01", "until"),
])
def test_articles_bad_parameters_are_400(client, ids, query, message):
    assert message in get(client, f"/api/articles?{query}", status=400)["error"]


def test_one_article(client, ids):
    article = get(client, f"/api/articles/{ids['a1']}")["article"]
    assert article["title"] == "东溪镇专业镇建设再提速"
    assert article["date"] == "2025-04-14" and article["source_name"] == "东溪日报"
    assert article["text"] == "东溪镇推动专业镇转型，园区用上绿电。"
    assert [(h["rule_id"], h["hits"][0]["snippet"]) for h in article["hits"]] == [
        ("lvdian", "东溪镇专业镇建设再提速【lvdian】"),
        ("zhuanyezhen", "东溪镇专业镇建设再提速【zhuanyezhen】")]
    assert get(client, f"/api/articles/{ids['a3']}")["article"]["hits"] == []


def test_missing_article_is_404_json(client, ids):
    assert get(client, "/api/articles/999999", status=404) == {
        "type": "about:blank", "title": "Not Found", "status": 404,
        "detail": "no article 999999", "error": "no article 999999"}
    assert client.get("/api/articles/abc", headers=AUTH).status_code == 404


@pytest.mark.parametrize("method, url, status", [
    ("GET", "/api", 404), ("GET", "/api/no/such/thing", 404), ("DELETE", "/api/rules", 405),
    ("POST", "/api/articles", 405)])
def test_api_errors_are_problem_details(client, method, url, status):
    """RFC 9457: a program gets a problem document, never an HTML page."""
    response = client.open(url, method=method, headers=AUTH)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["detail"]
    assert "<html" not in response.get_data(as_text=True)


@pytest.mark.parametrize("query,expected", [
    ("", [("a1", "lvdian"), ("a1", "zhuanyezhen"), ("a2", "lvdian")]),
    ("rule=lvdian", [("a1", "lvdian"), ("a2", "lvdian")]),
    ("rule=lvdian&limit=1", [("a1", "lvdian")]),
    ("since=2025-04-09", [("a1", "lvdian"), ("a1", "zhuanyezhen")]),
    ("rule=biaozhundi", []),
])
def test_hits(client, ids, query, expected):
    found = get(client, f"/api/hits?{query}")["hits"]
    by_id = {v: k for k, v in ids.items()}
    assert [(by_id[h["article_id"]], h["rule_id"]) for h in found] == expected


def test_hit_fields(client, ids):
    hit = get(client, "/api/hits?rule=lvdian&limit=1")["hits"][0]
    assert hit["matched_at"] == "2025-04-14T02:00:01+00:00"
    assert hit["snippets"] == ["东溪镇专业镇建设再提速【lvdian】"]
    assert hit["article"] == {"title": "东溪镇专业镇建设再提速", "source": "dxrb",
                              "date": "2025-04-14",
                              "url": "https://dxrb.example.cn/2025-04-14/a1.html"}


@pytest.mark.parametrize("query", ["limit=0", "since=2025/04/09"])
def test_hits_bad_parameters_are_400(client, ids, query):
    get(client, f"/api/hits?{query}", status=400)


# OpenAPI ------------------------------------------------------------------------------

def test_openapi_needs_no_token(app, client):
    doc = get(client, "/api/openapi.json", headers={})
    assert doc["openapi"].startswith("3.1")
    app.config["API_TOKEN"] = ""  # the document stays readable with the API off
    get(client, "/api/openapi.json", headers={})


def test_openapi_describes_every_route_and_nothing_else(app, client):
    doc = get(client, "/api/openapi.json", headers={})
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert documented == api_routes(app)


def test_openapi_parameters_and_security(app, client):
    doc = get(client, "/api/openapi.json", headers={})
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": "The value of TRACKER_API_TOKEN."}
    assert doc["security"] == [{"bearerAuth": []}]
    assert doc["paths"]["/api/openapi.json"]["get"]["security"] == []

    def params(path):
        return {p["name"] for p in doc["paths"][path]["get"].get("parameters", [])}

    assert params("/api/articles") == {"q", "rule", "source", "since", "until", "limit"}
    assert params("/api/hits") == {"rule", "since", "limit"}
    assert params("/api/articles/{article_id}") == {"article_id"}
    for path, ops in doc["paths"].items():
        responses = ops["get"]["responses"]
        assert "200" in responses
        if path not in ("/api/openapi.json", "/api/docs"):
            assert {"401", "403"} <= set(responses)


def test_openapi_document_is_valid(client):
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(get(client, "/api/openapi.json", headers={}))


def test_responses_match_their_schemas(client, ids):
    """Each route's real answer validates against the schema the document gives it."""
    jsonschema = pytest.importorskip("jsonschema")
    doc = get(client, "/api/openapi.json", headers={})
    for url, path in [("/api/rules", "/api/rules"), ("/api/subscriptions", "/api/subscriptions"),
                      ("/api/articles?rule=lvdian", "/api/articles"),
                      (f"/api/articles/{ids['a1']}", "/api/articles/{article_id}"),
                      ("/api/hits", "/api/hits")]:
        schema = doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"][
            "schema"]
        jsonschema.validate(get(client, url),
                            {**schema, "components": doc["components"]},
                            cls=jsonschema.Draft202012Validator)


def test_api_docs_page_reads_offline_and_in_chinese(client):
    """A readable page from the same document, with no token, no script and nothing fetched
    from another host."""
    response = client.get("/api/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    doc = get(client, "/api/openapi.json", headers={})
    for path, ops in doc["paths"].items():
        for method in ops:
            assert f"{method.upper()} {path}" in html
    assert "Authorization: Bearer" in html and "接口文档" in html and "搜索存档" in html
    assert "<script" not in html
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html)  # nothing from elsewhere
