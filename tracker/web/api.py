"""The JSON API under /api/, read-only, for admins' scripts.

    curl -H "Authorization: Bearer $TRACKER_API_TOKEN" http://127.0.0.1:5000/api/articles?q=绿电

Every route but /api/openapi.json needs the token (TRACKER_API_TOKEN, compared in constant
time): none or a wrong one is 401; with no token configured the API is off (403). Only GET, and
a bearer token rather than a cookie, so CSRF does not apply. Subscriptions never show their
webhook secret, nor the parts of a webhook or chat address that are credentials themselves.
Snippets mark their hit with 【 and 】.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from tracker.alerts.subscribe import mask_address
from tracker.rules import check_rules
from tracker.store.articles import get_article
from tracker.store.hits import hits_for_article, latest_hits
from tracker.store.search import search
from tracker.store.stories import Copy, copies_of, stories_of
from tracker.store.subscriptions import STATE_CODES, list_subscriptions
from tracker.text.passage import result_passage
from tracker.web import csrf
from tracker.web.archive import parse_day, source_names
from tracker.web.db import get_db
from tracker.web.problems import problem_json
from tracker import settings

bp = Blueprint("api", __name__, url_prefix="/api")
csrf.exempt(bp)

DEFAULT_LIMIT, MAX_LIMIT = 50, 200
PUBLIC = {"api.openapi"}


class BadRequest(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _error(status: int, message: str, **headers: str):
    """An RFC 9457 problem document (application/problem+json); `error` repeats the detail."""
    from tracker.web.errors import problem_response

    return problem_response(status, message, headers=headers)


@bp.before_request
def require_token():
    if request.endpoint in PUBLIC:
        return None
    expected = str(settings.value(current_app.config, "API_TOKEN"))
    if not expected:
        return _error(403, "API disabled: set TRACKER_API_TOKEN to turn it on")
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(),
                                                             expected.encode()):
        return _error(401, "a valid token is required: Authorization: Bearer <token>",
                      **{"WWW-Authenticate": 'Bearer realm="tracker"'})
    return None


@bp.errorhandler(BadRequest)
def bad_request(err: BadRequest):
    return _error(400, err.message)


@bp.errorhandler(HTTPException)
def http_error(err: HTTPException):
    return _error(err.code or 500, err.description or err.name)


def _limit() -> int:
    raw = request.args.get("limit", "")
    if not raw:
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise BadRequest(f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return int(raw)


def _day(name: str) -> str | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    day = parse_day(raw)
    if day is None:
        raise BadRequest(f"{name} must be a date: YYYY-MM-DD")
    return day.isoformat()


@bp.get("/rules")
def rules():
    found, problems = check_rules(current_app.config["RULES"])
    return jsonify(rules=[{
        "id": r.id, "name": r.name, "description": r.description, "keywords": list(r.keywords),
        "all": list(r.all), "exclude": list(r.exclude),
        "near": [{"terms": list(n.terms), "with": list(n.with_), "within": n.within}
                 for n in r.near],
        "fields": list(r.fields), "sources": list(r.sources), "match": r.match,
    } for r in found], problems=[str(p) for p in problems],
        problem_details=[problem_json(p) for p in problems])


@bp.get("/subscriptions")
def subscriptions():
    return jsonify(subscriptions=[{
        "id": s.id, "channel": s.channel, "address": mask_address(s.channel, s.address, whole_email=True),
        "rules": list(s.rules), "frequency": s.frequency, "state": s.state,
        "created_at": s.created_at, "confirmed_at": s.confirmed_at,
        "state_reason": s.state_reason, "state_code": s.state_code,
        "state_fields": s.state_fields if s.state_code else None,
        "failing_since": s.failing_since,
        "has_secret": bool(s.secret),
    } for s in list_subscriptions(get_db())])


def _story(article_ids: list[int]) -> dict[int, tuple[int | None, list[dict]]]:
    """Article id → (its story id, the story's other copies), for the API's `story_id` and
    `also_in` (the first appearance first)."""
    db = get_db()
    stories = stories_of(db, article_ids)
    copies = copies_of(db, list(stories.values()))

    def one(c: Copy) -> dict:
        return {"id": c.article_id, "title": c.title, "source": c.source_id,
                "source_name": c.source_name, "date": c.day, "page": c.page, "url": c.url}

    return {a: (stories.get(a), [one(c) for c in copies.get(stories.get(a), [])
                                 if c.article_id != a]) for a in article_ids}


@bp.get("/articles")
def articles():
    q = request.args.get("q", "").strip()
    rule = request.args.get("rule", "").strip() or None
    if not q and not rule:
        raise BadRequest("give q (words to look for) or rule (a rule id), or both")
    names = source_names()
    found = search(get_db(), q, rule=rule, source=request.args.get("source") or None,
                   since=_day("since"), until=_day("until"), limit=_limit())
    story = _story([f.id for f in found])
    return jsonify(articles=[{
        "id": f.id, "title": f.title, "source": f.source, "source_name": names.get(f.source),
        "date": f.date, "page": f.page, "url": f.url,
        "snippet": result_passage(f.title, f.text, q, f.hit_snippet),
        "story_id": story[f.id][0], "also_in": story[f.id][1],
    } for f in found])


@bp.get("/articles/<int:article_id>")
def article(article_id: int):
    db = get_db()
    row = get_article(db, article_id)
    if row is None:
        return _error(404, f"no article {article_id}")
    story_id, also_in = _story([article_id])[article_id]
    return jsonify(article={
        "story_id": story_id, "also_in": also_in,
        "id": row["id"], "title": row["title"], "source": row["source_id"],
        "source_name": source_names().get(row["source_id"]), "date": row["day"],
        "issue_date": row["issue_date"], "page": row["page"], "url": row["url"],
        "published": row["published"], "first_seen": row["first_seen"], "text": row["text"],
        "hits": [{"rule_id": h["rule_id"], "rule_name": h["rule_name"], "count": h["count"],
                  "hits": [{"keyword": x.get("keyword"), "field": x.get("field"),
                            "snippet": x.get("snippet"), "name": x.get("name")}
                           for x in h["snippets"]]}
                 for h in hits_for_article(db, article_id)],
    })


@bp.get("/hits")
def hits():
    found = latest_hits(get_db(), rule=request.args.get("rule", "").strip() or None,
                        since=_day("since"), limit=_limit())
    story = _story([h["article_id"] for h in found])
    return jsonify(hits=[{
        "story_id": story[h["article_id"]][0], "also_in": story[h["article_id"]][1],
        "id": h["id"], "article_id": h["article_id"], "rule_id": h["rule_id"],
        "rule_name": h["rule_name"], "count": h["count"], "matched_at": h["matched_at"],
        "snippets": h["snippets"],
        "article": {"title": h["title"], "source": h["source_id"], "date": h["date"],
                    "url": h["url"]},
    } for h in found])


# The OpenAPI document ---------------------------------------------------------------------

def _param(name: str, description: str, schema: dict, *, where: str = "query",
           required: bool = False) -> dict:
    return {"name": name, "in": where, "required": required, "description": description,
            "schema": schema}


_STR, _NSTR, _INT = {"type": "string"}, {"type": ["string", "null"]}, {"type": "integer"}
_DATE = {"type": "string", "format": "date"}
_LIMIT = _param("limit", f"At most this many (default {DEFAULT_LIMIT}).",
                {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT})


def _ok(description: str, schema_name: str, key: str, *, many: bool = True) -> dict:
    ref = {"$ref": f"#/components/schemas/{schema_name}"}
    body = {"type": "object", "required": [key],
            "properties": {key: {"type": "array", "items": ref} if many else ref}}
    return {"description": description, "content": {"application/json": {"schema": body}}}


def _errors(*codes: int) -> dict:
    return {str(c): {"$ref": f"#/components/responses/E{c}"} for c in codes}


def openapi_document() -> dict:
    auth = (401, 403)
    story = {
        "story_id": {"type": ["integer", "null"], "description": "The story: the copies of one "
                     "news story in several papers (null until the archive is clustered)."},
        "also_in": {"type": "array", "description": "The story's other copies, the first "
                    "appearance first.", "items": {"type": "object", "properties": {
                        "id": _INT, "title": _NSTR, "source": _STR, "source_name": _STR,
                        "date": _NSTR, "page": _NSTR, "url": _NSTR}}}}
    snippet = {"type": "string", "description": "The passage around the hit, the hit in 【】."}
    schemas = {
        "Error": {"type": "object", "required": ["status", "detail", "error"],
                  "description": "A problem document (RFC 9457); error repeats detail.",
                  "properties": {"type": _STR, "title": _STR, "status": _INT, "detail": _STR,
                                 "error": _STR}},
        "Problem": {"type": "object", "required": ["file", "line", "code", "fields", "message"],
                    "properties": {
            "file": _STR, "line": _INT, "column": {"type": ["integer", "null"]},
            "code": {**_STR, "description": "What is wrong (tracker.rules.load.CODES), e.g. "
                     "not_slug, lacks, bad_yaml."},
            "fields": {"type": "object", "description": "The code's particulars, e.g. "
                       "{\"id\": \"Lv Dian\"} for not_slug."},
            "message": {**_STR, "description": "The same in English."}}},
        "Rule": {"type": "object", "required": ["id", "name", "keywords"], "properties": {
            "id": _STR, "name": _STR, "description": _STR,
            "keywords": {"type": "array", "items": _STR},
            "all": {"type": "array", "items": _STR}, "exclude": {"type": "array", "items": _STR},
            "near": {"type": "array", "items": {"type": "object", "properties": {
                "terms": {"type": "array", "items": _STR},
                "with": {"type": "array", "items": _STR}, "within": _INT}}},
            "fields": {"type": "array", "items": {"enum": ["title", "body"]}},
            "sources": {"type": "array", "items": _STR},
            "match": {"enum": ["word", "substring"]}}},
        "Subscription": {"type": "object", "required": ["id", "channel", "address", "rules"],
                         "properties": {
            "id": _INT, "channel": {"enum": ["email", "webhook", "chat"]},
            "address": {"type": "string", "description": "Email as is; webhook and chat URLs "
                        "cut to scheme and host (their path is often a credential)."},
            "rules": {"type": "array", "items": _STR},
            "frequency": {"enum": ["instant", "daily", "weekly"]},
            "state": {"enum": ["pending", "active", "unsubscribed", "disabled"]},
            "created_at": _NSTR, "confirmed_at": _NSTR,
            "state_reason": {**_NSTR, "description": "Why it changed state, in English (for "
                             "people; may be reworded)."},
            "state_code": {"enum": [*STATE_CODES, None], "description": "Why it changed state, "
                           "as a code (for programs): unsubscribe_link, gone (410), failing "
                           "(see state_fields), other (an earlier version's text)."},
            "state_fields": {"type": ["object", "null"], "description": "The code's fields: "
                             "for failing `since` (ISO 8601, UTC), `error_code` and "
                             "`error_fields` of the last error."},
            "failing_since": _NSTR,
            "has_secret": {"type": "boolean", "description": "Whether the webhook signs with a "
                           "secret (never shown)."}}},
        "ArticleFound": {"type": "object", "required": ["id", "snippet"], "properties": {
            "id": _INT, "title": _NSTR, "source": _NSTR, "source_name": _NSTR,
            "date": _NSTR, "page": _NSTR, "url": _NSTR, "snippet": snippet, **story}},
        "Article": {"type": "object", "required": ["id", "text", "hits"], "properties": {
            "id": _INT, "title": _NSTR, "source": _NSTR, "source_name": _NSTR, "date": _NSTR,
            "issue_date": _NSTR, "page": _NSTR, "url": _NSTR, "published": _NSTR,
            "first_seen": _NSTR, "text": _STR, **story,
            "hits": {"type": "array", "items": {"type": "object", "properties": {
                "rule_id": _STR, "rule_name": _NSTR,
                "count": {**_INT, "description": "Every hit of the rule in the article; `hits` "
                          "lists the first 100."},
                "hits": {"type": "array", "items": {"type": "object", "properties": {
                    "keyword": _NSTR, "field": _NSTR, "snippet": snippet,
                    "name": {**_NSTR, "description": "The keyword's display name, where the "
                             "rule gives one."}}}}}}}}},
        "Hit": {"type": "object", "required": ["id", "article_id", "rule_id"], "properties": {
            "id": _INT, "article_id": _INT, "rule_id": _STR, "rule_name": _NSTR,
            "count": _INT, "matched_at": _STR, **story,
            "snippets": {"type": "array", "items": snippet},
            "article": {"type": "object", "properties": {
                "title": _NSTR, "source": _NSTR, "date": _NSTR, "url": _NSTR}}}},
    }
    rules_ok = _ok("The rules in the rules folder.", "Rule", "rules")
    rules_ok["content"]["application/json"]["schema"]["properties"]["problems"] = {
        "type": "array", "items": _STR,
        "description": "Problems in the rules files (the rules listed are the sound ones), "
                       "each as `file:line: what` in English."}
    rules_ok["content"]["application/json"]["schema"]["properties"]["problem_details"] = {
        "type": "array", "items": {"$ref": "#/components/schemas/Problem"},
        "description": "The same problems, each with its code and fields: what a program goes "
                       "by (the English may be reworded)."}
    return {
        "openapi": "3.1.0",
        "info": {"title": "政策追踪 tracker API", "version": "1",
                 "description": "Read-only access to the archive, rules and subscriptions. "
                                "Every route except this document needs the bearer token."},
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "paths": {
            "/api/openapi.json": {"get": {
                "operationId": "openapi", "summary": "This document.", "security": [],
                "responses": {"200": {"description": "The OpenAPI document.",
                                      "content": {"application/json": {
                                          "schema": {"type": "object"}}}}}}},
            "/api/docs": {"get": {
                "operationId": "docs", "summary": "This API's documentation, as a web page.",
                "security": [],
                "responses": {"200": {"description": "The documentation page.",
                                      "content": {"text/html": {"schema": {"type": "string"}}}}}}},
            "/api/rules": {"get": {
                "operationId": "listRules", "summary": "The rules (themes) and their keywords.",
                "responses": {"200": rules_ok, **_errors(*auth)}}},
            "/api/subscriptions": {"get": {
                "operationId": "listSubscriptions",
                "summary": "Every subscription, without secrets.",
                "responses": {"200": _ok("The subscriptions.", "Subscription",
                                         "subscriptions"), **_errors(*auth)}}},
            "/api/articles": {"get": {
                "operationId": "searchArticles",
                "summary": "Search the archive (the web page's search), newest first.",
                "description": "Give q, rule or both. With rule only: the latest articles the "
                               "rule fired in.",
                "parameters": [
                    _param("q", "Words to look for (Chinese, any length; 繁/简 alike); several, "
                           "separated by spaces, 、 or commas, find the articles holding all "
                           "of them; a quoted phrase stays one.", _STR),
                    _param("rule", "Only articles this rule (id) fired in.", _STR),
                    _param("source", "Only articles of this source (id).", _STR),
                    _param("since", "Only articles dated this day or later.", _DATE),
                    _param("until", "Only articles dated this day or earlier.", _DATE),
                    _LIMIT],
                "responses": {"200": _ok("The articles found.", "ArticleFound", "articles"),
                              **_errors(400, *auth)}}},
            "/api/articles/{article_id}": {"get": {
                "operationId": "getArticle", "summary": "One article, its text and its hits.",
                "parameters": [_param("article_id", "The article's id.", _INT, where="path",
                                      required=True)],
                "responses": {"200": _ok("The article.", "Article", "article", many=False),
                              **_errors(*auth, 404)}}},
            "/api/hits": {"get": {
                "operationId": "listHits", "summary": "Hits, the latest matched first.",
                "parameters": [
                    _param("rule", "Only hits of this rule (id).", _STR),
                    _param("since", "Only hits matched on this day (UTC) or later.", _DATE),
                    _LIMIT],
                "responses": {"200": _ok("The hits.", "Hit", "hits"), **_errors(400, *auth)}}},
        },
        "components": {
            "securitySchemes": {"bearerAuth": {
                "type": "http", "scheme": "bearer",
                "description": "The value of TRACKER_API_TOKEN."}},
            "schemas": schemas,
            "responses": {f"E{code}": {"description": text, "content": {"application/problem+json": {
                "schema": {"$ref": "#/components/schemas/Error"}}}} for code, text in (
                (400, "A parameter is not valid."), (401, "No token, or a wrong one."),
                (403, "The API is disabled (no TRACKER_API_TOKEN)."), (404, "Not found."))},
        },
    }


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())

