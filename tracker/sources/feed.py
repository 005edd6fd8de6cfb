"""RSS/Atom text (already downloaded and decoded) to one Document per entry.

feedparser only ever sees bytes in hand, never a URL or a path (it would fetch with no timeout,
or open a local file). XML with entity declarations is refused before parsing: expanding them
is how "billion laughs" and external-entity attacks work, and no real feed needs them. The bytes
are looked at before any parser sees them (`_refuse_entities`): a DOCTYPE with an internal
subset, or an entity declaration anywhere, is refused. Asking defusedxml alone is not enough: a
prolog it finds malformed stops it before the declarations, and feedparser's lenient parser,
which then reads the feed, expands "safe" entities (a 150 KB feed made 1.9 GB of text).
"""

from __future__ import annotations

import email.utils
import io
import re
from datetime import date, datetime, timezone
from typing import Any
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree
import feedparser
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

from tracker.documents import Document, InputError
from tracker.text.html import HTML_TYPES, visible_text

XML_DECLARED_ENCODING = re.compile(r"""\A(\s*<\?xml\b[^>]*?\bencoding\s*=\s*)(["'])[^"']*\2""", re.I)
ISO_DATE = re.compile(r"\A\d{4}-\d{2}-\d{2}\Z")
# A DOCTYPE whose internal subset opens ("[" before its ">", quoted ids skipped), or an entity
# declaration, in any letter case (lenient parsers do not all insist on upper case).
INTERNAL_SUBSET = re.compile(rb"""<!DOCTYPE(?:[^>\["']|"[^"]*"|'[^']*')*\[|<!ENTITY""", re.I)
ENTITIES_REFUSED = "feed declares XML entities; refused"


def feed_documents(ref: str, text: str, base_url: str | None = None) -> list[Document]:
    """The entries of the feed in `text`, named `ref#1`, `ref#2`, ... in feed order."""
    data = _as_utf8(text)
    _refuse_entities(ref, data)
    headers = {"content-type": "application/xml; charset=utf-8"}
    if base_url:
        headers["content-location"] = base_url
    parsed = feedparser.parse(io.BytesIO(data), response_headers=headers)
    if not parsed.entries:
        if parsed.bozo:
            raise InputError(ref, f"not a readable RSS/Atom feed: {_reason(parsed.bozo_exception)}")
        if not parsed.version:
            raise InputError(ref, "not a readable RSS/Atom feed: no RSS or Atom root element")
    feed_title = parsed.feed.get("title")
    return [_document(ref, number, entry, feed_title) for number, entry in enumerate(parsed.entries, 1)]


def _as_utf8(text: str) -> bytes:
    """UTF-8 bytes whose XML declaration says UTF-8 (the text was decoded from whatever it was)."""
    # Whitespace before the XML declaration makes it an error (kurtmckee/feedparser#508): dropped.
    text = XML_DECLARED_ENCODING.sub(r'\1"utf-8"', text.lstrip("\ufeff").lstrip(), count=1)
    return text.encode("utf-8", "replace")


def _refuse_entities(ref: str, data: bytes) -> None:
    """InputError when the feed declares entities: first by its bytes, then by defusedxml."""
    if INTERNAL_SUBSET.search(data):
        raise InputError(ref, ENTITIES_REFUSED)
    try:
        defusedxml.ElementTree.fromstring(data)
    except (EntitiesForbidden, DTDForbidden, ExternalReferenceForbidden):
        raise InputError(ref, ENTITIES_REFUSED) from None
    except ParseError:
        pass  # merely malformed: feedparser's lenient parser may still read it


def _reason(error: Any) -> str:
    message = str(error).strip() if error is not None else ""
    return message or type(error).__name__


def _document(ref: str, number: int, entry: Any, feed_title: str | None) -> Document:
    contents = [c for c in entry.get("content", []) if c.get("value")]
    body = max(contents, key=lambda c: len(c["value"])) if contents else entry.get("summary_detail")
    title = _plain(entry.get("title_detail"), entry.get("title"))
    published, raw = _published(entry)
    meta = {k: v for k, v in (("feed_title", feed_title), ("id", entry.get("id")),
                              ("published_raw", raw)) if v}
    return Document(
        name=f"{ref}#{number}",
        text=_plain(body, None),
        kind="feed-entry",
        title=" ".join(title.split()) or None,
        url=entry.get("link") or None,
        published=published,
        meta=meta,
    )


def _plain(detail: Any, fallback: str | None) -> str:
    """The visible text of a feedparser text construct (HTML or plain)."""
    value = (detail or {}).get("value") or fallback or ""
    if (detail or {}).get("type", "text/html") in HTML_TYPES:
        return visible_text(value)[1]
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


def _published(entry: Any) -> tuple[str | None, str | None]:
    """(ISO date or datetime, keeping the feed's own UTC offset; the raw string as given)."""
    raw = (entry.get("published") or entry.get("updated") or entry.get("created") or "").strip()
    # A date alone stays a date; else RFC 822 (RSS), else ISO 8601 (Atom).
    parsers = [date.fromisoformat] if ISO_DATE.match(raw) else [
        email.utils.parsedate_to_datetime, datetime.fromisoformat]
    for parse in parsers if raw else []:
        try:
            return parse(raw).isoformat(), raw
        except (TypeError, ValueError, IndexError):
            continue
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)  # feedparser's reading of odd formats, normalised to UTC
        if parsed:
            return datetime(*parsed[:6], tzinfo=timezone.utc).isoformat(), raw or None
    return None, raw or None
