"""Atom feeds of hits, for a feed reader (Miniflux, FreshRSS, Inoreader…) to follow.

    /rules/<rule id>/feed.atom   a public rule's hits, public
    /feeds/<token>.atom          a subscription's rules, behind its private token

One entry per story, the latest first (anchored at its copy first matched: a reprint read later
adds to its 也见于 line and never shows as a new item; a story that fired several of the feed's
rules names them all), with the snippets and the links to the archive and to the original. Feeds answer conditional GETs: a strong ETag of the document and
Last-Modified of its newest hit, so a reader polling an unchanged feed gets a 304.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from xml.etree.ElementTree import Element, SubElement, tostring

from flask import Blueprint, Response, abort, current_app, request, url_for
from markupsafe import escape

from tracker.alerts.lines import chinese_date, page_label
from tracker.alerts.links import FEED, read_token
from tracker.store.hits import feed_hits
from tracker.store.stories import copies_of
from tracker.store.subscriptions import get_subscription
from tracker.web.archive import mark, public_rule, rule_names
from tracker.web.db import get_db

bp = Blueprint("feeds", __name__)

ATOM = "http://www.w3.org/2005/Atom"
ENTRIES = 50
HITS_READ = ENTRIES * 4  # hits read for ENTRIES stories: copies and rules of one story merge


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _clean(text: str | None) -> str:
    """Text as XML 1.0 allows it: a control character from a PDF would make the feed invalid."""
    return _NOT_XML.sub("", text or "")


def _base() -> str:
    return str(current_app.config.get("BASE_URL") or request.host_url).rstrip("/")


def _entries(rule_ids: list[str]) -> list[dict]:
    """The feed's stories: one entry per story (or per article not in a story), anchored at
    the copy first matched, so a later paper's copy never makes it new again in a reader (the
    entry's id and date stay); rules of that copy merged; the latest story first."""
    entries: dict[object, dict] = {}
    for hit in reversed(feed_hits(get_db(), rule_ids, HITS_READ)):  # the oldest first
        key = hit["story_id"] or ("article", hit["article_id"])
        entry = entries.get(key)
        if entry is None:
            entries[key] = {**hit, "rules": {hit["rule_id"]: hit["rule_name"]}}
        elif hit["article_id"] == entry["article_id"] and hit["rule_id"] not in entry["rules"]:
            entry["rules"][hit["rule_id"]] = hit["rule_name"]
            entry["snippets"] += [s for s in hit["snippets"] if s not in entry["snippets"]]
    kept = sorted(entries.values(), key=lambda e: (e["matched_at"], e["id"]), reverse=True)
    kept = kept[:ENTRIES]
    copies = copies_of(get_db(), [e["story_id"] for e in kept if e["story_id"]])
    for entry in kept:
        entry["rules"] = dict(sorted(entry["rules"].items()))
        entry["also_in"] = [c for c in copies.get(entry["story_id"], [])
                            if c.article_id != entry["article_id"]]
    return kept


def _strong(snippet: str) -> str:
    """A snippet escaped, its 【hit】 in <strong> (which every reader keeps; <mark> is
    stripped by some)."""
    return str(mark(snippet)).replace("<mark>", "<strong>").replace("</mark>", "</strong>")


def _content(entry: dict, names: dict[str, str]) -> str:
    """The entry's HTML: paper, date and page, the rules, the snippets (hits marked), the
    other papers, the links. Everything from a source is escaped."""
    meta = " · ".join([entry["source_name"] or "未知报纸", chinese_date(entry["date"]),
                       page_label(entry["page"])])
    parts = [f"<p>{escape(meta)}</p>",
             f"<p>主题：{escape('、'.join(names.get(r, n or r) for r, n in entry['rules'].items()))}</p>"]
    parts += [f"<p>{_strong(s)}</p>" for s in entry["snippets"][:5]]
    if entry["also_in"]:
        also = "、".join(f"{c.source_name} {page_label(c.page)}" if c.page else c.source_name
                        for c in entry["also_in"][:8])
        parts.append(f"<p>也见于 {escape(also)}</p>")
    archive = f"{_base()}/articles/{int(entry['article_id'])}"
    parts.append(f'<p><a href="{escape(archive)}">在存档中阅读</a>'
                 + (f' · <a href="{escape(entry["url"])}">看原文</a>'
                    if (entry["url"] or "").startswith(("http://", "https://")) else "") + "</p>")
    return "".join(parts)


def _atom(title: str, self_url: str, page_url: str, entries: list[dict],
          names: dict[str, str]) -> tuple[bytes, datetime | None]:
    feed = Element("feed", {"xmlns": ATOM, "xml:lang": "zh-CN"})
    SubElement(feed, "title").text = _clean(title)
    SubElement(feed, "id").text = self_url
    SubElement(feed, "link", {"rel": "self", "type": "application/atom+xml", "href": self_url})
    SubElement(feed, "link", {"rel": "alternate", "type": "text/html", "href": page_url})
    newest = max((e["matched_at"] for e in entries), default=None)
    SubElement(feed, "updated").text = newest or "1970-01-01T00:00:00+00:00"
    SubElement(SubElement(feed, "author"), "name").text = "政策追踪"
    SubElement(feed, "generator").text = "tracker"
    for e in entries:
        item = SubElement(feed, "entry")
        archive = f"{_base()}/articles/{int(e['article_id'])}"
        SubElement(item, "id").text = archive
        SubElement(item, "title").text = _clean(e["title"]) or "（无标题）"
        SubElement(item, "updated").text = e["matched_at"]
        SubElement(item, "link", {"rel": "alternate", "type": "text/html", "href": archive})
        if (e["url"] or "").startswith(("http://", "https://")):
            SubElement(item, "link", {"rel": "related", "type": "text/html", "href": e["url"]})
        SubElement(SubElement(item, "author"), "name").text = _clean(e["source_name"]) or "未知报纸"
        for rule_id, name in e["rules"].items():
            SubElement(item, "category", {"term": rule_id,
                                          "label": _clean(names.get(rule_id, name or rule_id))})
        SubElement(item, "summary").text = _clean(" ".join(
            s.replace("【", "").replace("】", "") for s in e["snippets"][:2]) or e["title"])
        SubElement(item, "content", {"type": "html"}).text = _clean(_content(e, names))
    body = b'<?xml version="1.0" encoding="utf-8"?>\n' + tostring(feed, encoding="utf-8",
                                                                 xml_declaration=False)
    return body, datetime.fromisoformat(newest) if newest else None


def _respond(body: bytes, modified: datetime | None, cache: str) -> Response:
    response = Response(body, mimetype="application/atom+xml")
    response.headers["Content-Type"] = "application/atom+xml; charset=utf-8"
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    if modified is not None:
        response.last_modified = modified
    response.cache_control.max_age = 300
    setattr(response.cache_control, cache, True)
    return response.make_conditional(request)


@bp.get("/rules/<rule_id>/feed.atom")
def rule_feed(rule_id: str):
    names = rule_names()
    if not public_rule(rule_id) or rule_id not in names:
        abort(404)
    body, modified = _atom(f"政策追踪 · {names[rule_id]}",
                           f"{_base()}{url_for('feeds.rule_feed', rule_id=rule_id)}",
                           f"{_base()}{url_for('archive.articles', rule=rule_id)}",
                           _entries([rule_id]), names)
    return _respond(body, modified, "public")


@bp.get("/feeds/<token>.atom")
def subscription_feed(token: str):
    subscription_id = read_token(current_app.config, FEED, token)
    found = get_subscription(get_db(), subscription_id) if subscription_id is not None else None
    if found is None or found.state in ("unsubscribed", "disabled"):
        abort(404)
    names = rule_names()
    rules = [r for r in found.rules if public_rule(r)]
    body, modified = _atom(f"政策追踪 · 我的订阅（{'、'.join(names.get(r, r) for r in rules)}）",
                           f"{_base()}/feeds/{token}.atom", f"{_base()}/articles",
                           _entries(rules), names)
    response = _respond(body, modified, "private")
    response.headers["X-Robots-Tag"] = "noindex"
    return response
