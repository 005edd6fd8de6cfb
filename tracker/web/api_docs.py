"""/api/docs: the API's documentation as a page of this site, rendered on the server from the
same OpenAPI document /api/openapi.json serves. No script and nothing from a CDN, so it reads
the same offline; the words are Chinese (the document's English stays in openapi.json)."""

from __future__ import annotations

import json

from flask import render_template, request

from tracker.web.api import PUBLIC, bp, openapi_document

PUBLIC.add("api.docs")

SUMMARY = {
    "openapi": "本接口的 OpenAPI 3.1 文档（机器可读）。",
    "docs": "本页：接口文档。",
    "listRules": "所有规则（主题）和它们的关键词；规则文件有问题时一并列出。",
    "listSubscriptions": "所有订阅（不含密钥；Webhook 和聊天地址只显示协议和主机）。",
    "searchArticles": "搜索存档（与网页上的搜索相同），按日期从新到旧。给 q、rule 或两者；"
                      "只给 rule 时返回该主题最新命中的文章。",
    "getArticle": "一篇文章：正文和命中的主题。",
    "listHits": "命中记录，最新的在前。",
}
PARAMETER = {
    "q": "要找的词（中文，任意长度，繁简通用）；几个词用空格、顿号或逗号隔开，找同时含有它们的文章，加引号按整个短语找。", "rule": "只看这个规则（id）命中的。",
    "source": "只看这个来源（id）的文章。", "since": "从这天起（含），年-月-日。",
    "until": "到这天为止（含），年-月-日。", "limit": "最多返回多少条（默认 50，最大 200）。",
    "article_id": "文章的 id。",
}
STATUS = {"200": "成功", "400": "参数不对（detail 说明哪个）", "401": "没有令牌或令牌不对",
          "403": "接口未开启（没有设置 TRACKER_API_TOKEN）", "404": "找不到"}


def _schema_text(schema: dict) -> str:
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "enum" in schema:
        return " | ".join(map(str, schema["enum"]))
    kind = schema.get("type", "")
    text = " 或 ".join(kind) if isinstance(kind, list) else kind
    if schema.get("format"):
        text += f"（{schema['format']}）"
    return text


@bp.get("/docs")
def docs():
    """The API documentation page (no token needed: it holds no data)."""
    doc = openapi_document()
    operations = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            operations.append({
                "method": method.upper(), "path": path, "id": op.get("operationId", ""),
                "summary": SUMMARY.get(op.get("operationId", ""), op.get("summary", "")),
                "open": op.get("security") == [],
                "parameters": [{"name": p["name"], "where": "路径" if p["in"] == "path" else "查询",
                                "required": p.get("required", False),
                                "type": _schema_text(p.get("schema", {})),
                                "text": PARAMETER.get(p["name"], p.get("description", ""))}
                               for p in op.get("parameters", [])],
                "responses": [(code, STATUS.get(code, "")) for code in op.get("responses", {})],
            })
    schemas = {name: json.dumps(schema, ensure_ascii=False, indent=2)
               for name, schema in doc["components"]["schemas"].items()}
    return render_template("api/docs.html", operations=operations, schemas=schemas,
                           base=request.host_url.rstrip("/"))
