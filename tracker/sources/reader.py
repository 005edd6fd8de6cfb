"""One input (a file path or an http(s) URL, as the user typed it) to Documents.

The kind (pdf, feed, html, text) comes from the content first: a PDF signature, an RSS/Atom root
element or an HTML root are decisive; the file extension or Content-Type decides otherwise, and
stray tags make an unnamed input HTML. Every failure is an InputError naming the input.
"""

from __future__ import annotations

import re
import stat
from pathlib import Path, PurePosixPath
from typing import Any, Mapping
from urllib.parse import urlsplit

from tracker.documents import Document, InputError
from tracker.sources.feed import feed_documents
from tracker.sources.http import fetch, setting
from tracker.text.encoding import decode
from tracker.text.html import HTML_TYPES, TooDeep, page_layout
from tracker.text.pdf import pdf_text

URL = re.compile(r"\Ahttps?://", re.I)
OTHER_SCHEME = re.compile(r"\A([a-z][a-z0-9+.-]*)://", re.I)

PDF_SUFFIXES = {".pdf"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml", ".shtml"}
FEED_SUFFIXES = {".xml", ".rss", ".atom", ".rdf"}
TEXT_SUFFIXES = {".txt", ".text"}
PDF_TYPES = {"application/pdf", "application/x-pdf"}
FEED_TYPES = {"application/rss+xml", "application/atom+xml", "application/rdf+xml",
              "application/xml", "text/xml"}
TEXT_TYPES = {"text/plain"}

# Content sniffing on the decoded start of the input: an XML prolog (declaration, comments,
# a DOCTYPE with its internal subset), then the root element.
PROLOG = r"\A\s*(?:<\?.*?\?>\s*|<!--.*?-->\s*|<!doctype[^\[>]*(?:\[.*?\]\s*)?>\s*)*"
FEED_ROOT = re.compile(PROLOG + r"<(?:rss|feed|rdf:rdf)[\s>]", re.I | re.S)
HTML_ROOT = re.compile(r"\A\s*(?:<\?.*?\?>\s*|<!--.*?-->\s*)*(?:<!doctype\s+html|<html[\s>])", re.I | re.S)
HTML_TAG = re.compile(r"<(?:html|head|body|title|meta|p|div|br|table|span|font|h[1-6]|ul|li)[\s/>]", re.I)
SNIFF_CHARS = 64 * 1024


def read(ref: str, config: Mapping[str, Any]) -> list[Document]:
    """The Documents in `ref` (one, or one per feed entry); named `ref` exactly as given."""
    if not ref.strip():
        raise InputError(ref, "no file or URL given")
    if URL.match(ref):
        fetched = fetch(ref, config)
        data, url, content_type, charset = fetched.data, fetched.url, fetched.content_type, fetched.charset
        suffix = PurePosixPath(urlsplit(url).path).suffix.lower()
    else:
        other = OTHER_SCHEME.match(ref)
        if other:
            raise InputError(ref, f"unsupported URL scheme {other.group(1)!r}; "
                                  "give a file path or an http(s) URL", code="not_http",
                             fields={"scheme": other.group(1)})
        data = read_file(ref, int(setting(config, "MAX_DOCUMENT_BYTES")))
        url = content_type = charset = None
        suffix = Path(ref).suffix.lower()
    return documents(ref, data, suffix=suffix, content_type=content_type, charset=charset, url=url,
                     config=config)


def read_file(ref: str, limit: int) -> bytes:
    """The bytes of a regular file, refused by its size before anything is read."""
    path = Path(ref)
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise InputError(ref, "is a directory, not a file", code="unreadable")
        if not stat.S_ISREG(info.st_mode):
            raise InputError(ref, "is not a regular file", code="unreadable")
        if info.st_size > limit:
            raise InputError(ref, f"is {info.st_size:,} bytes, "
                                  f"over the {limit:,}-byte limit (MAX_DOCUMENT_BYTES)",
                             code="too_large", fields={"limit": limit})
        with path.open("rb") as file:
            data = file.read(limit + 1)  # the file may have grown since stat
    except FileNotFoundError:
        raise InputError(ref, "no such file", code="not_found") from None
    except PermissionError:
        raise InputError(ref, "permission denied", code="unreadable") from None
    except OSError as error:
        raise InputError(ref, f"cannot be read ({error.strerror or error})",
                         code="unreadable") from None
    except ValueError as error:  # e.g. a NUL character in the path
        raise InputError(ref, f"is not a usable path ({error})") from None
    if len(data) > limit:
        raise InputError(ref, f"is over the {limit:,}-byte limit (MAX_DOCUMENT_BYTES)",
                         code="too_large", fields={"limit": limit})
    return data


def documents(ref: str, data: bytes, *, suffix: str = "", content_type: str | None = None,
              charset: str | None = None, url: str | None = None,
              config: Mapping[str, Any] | None = None) -> list[Document]:
    """Documents from the bytes of `ref`; `suffix`, `content_type` and `charset` are hints;
    `config` gives the limits a PDF is read within (PDF_MAX_MEMORY, PDF_TIMEOUT)."""
    if not data:
        raise InputError(ref, "is empty", code="empty")
    meta: dict[str, Any] = {"content_type": content_type} if content_type else {}
    if b"%PDF-" in data[:1024]:
        limits = config or {}
        text = pdf_text(data, ref, int(setting(limits, "PDF_MAX_MEMORY")),
                        setting(limits, "PDF_TIMEOUT"))
        return [Document(ref, text, "pdf", url=url, meta=meta)]
    if suffix in PDF_SUFFIXES or content_type in PDF_TYPES:
        raise InputError(ref, "is said to be a PDF but does not start like one (no %PDF- header)")
    text, encoding = decode(data, ref, charset)
    meta["encoding"] = encoding
    kind = detect_kind(text[:SNIFF_CHARS], suffix, content_type)
    try:
        if kind == "feed":
            return feed_documents(ref, text, base_url=url)
        if kind == "html":
            # A page's <title> names the site or the edition, not an article: the page is split
            # into articles like any other, and the <title> is kept for display.
            html_title, body, headings = page_layout(text)
            if html_title:
                meta["html_title"] = html_title
            if headings:
                meta["headings"] = headings  # the splitter reads articles from them first
            return [Document(ref, body, "html", url=url, meta=meta)]
    except TooDeep as error:
        raise InputError(ref, str(error)) from None
    return [Document(ref, text, "text", url=url, meta=meta)]


def detect_kind(head: str, suffix: str = "", content_type: str | None = None) -> str:
    """"feed", "html" or "text" for decoded text starting with `head`."""
    if FEED_ROOT.match(head):
        return "feed"
    if HTML_ROOT.match(head):
        return "html"
    if suffix in TEXT_SUFFIXES or content_type in TEXT_TYPES:
        return "text"
    if suffix in HTML_SUFFIXES or content_type in HTML_TYPES:
        return "html"
    if suffix in FEED_SUFFIXES or content_type in FEED_TYPES:
        return "feed"
    return "html" if HTML_TAG.search(head) else "text"
