"""Builders for test inputs made at run time from the seed pages (never stored in the repo)."""

from __future__ import annotations

import html
import io
import re

from reportlab.lib import pdfencrypt
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

FONT = "STSong-Light"
CHARS_PER_LINE = 30  # fits an A4 line at 12 pt
LINES_PER_PAGE = 40


def make_pdf(pages: list[list[str]], encrypt: pdfencrypt.StandardEncryption | None = None) -> bytes:
    """A PDF with one page per list of lines (an empty list makes a page with a drawing only)."""
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, encrypt=encrypt)
    for lines in pages:
        pdf.setFont(FONT, 12)
        if not lines:
            pdf.rect(72, 400, 300, 200, fill=1)
        for number, line in enumerate(lines):
            pdf.drawString(40, 800 - 18 * number, line)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def seed_lines(text: str) -> list[str]:
    """Seed lines cut to what fits on a PDF line."""
    lines = []
    for line in text.splitlines():
        line = " ".join(line.split())
        chunks = (line[i:i + CHARS_PER_LINE].strip() for i in range(0, len(line), CHARS_PER_LINE))
        lines += [chunk for chunk in chunks if chunk]
    return lines


def pdf_of(text: str) -> bytes:
    """A whole page of text as a PDF, broken into short lines like a column layout."""
    lines = seed_lines(text)
    return make_pdf([lines[i:i + LINES_PER_PAGE] for i in range(0, len(lines), LINES_PER_PAGE)])


def html_of(text: str, charset: str = "utf-8") -> str:
    """A page of text as an e-paper HTML page: paragraphs, inline tags inside words, a script and
    a comment that mention a theme (neither is visible text)."""
    body = "".join(f"<p>{_inline_tags(line)}</p>\n" for line in text.splitlines())
    return (f'<!DOCTYPE html><html><head><meta charset="{charset}"><title>数字报</title>'
            "<script>var theme = '专业镇 标准地 绿电';</script></head><body>"
            f"<!-- 专业镇 营商环境 -->{body}</body></html>")


def _inline_tags(line: str) -> str:
    """Wrap every second Chinese character in an inline tag: 专<b>业</b>镇."""
    escaped = line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([\u4e00-\u9fff])([\u4e00-\u9fff])", r"\1<b>\2</b>", escaped)


def broken_lines(text: str, every: int = 17) -> str:
    """Column breaks inside words: a line break every few characters, spaces between some."""
    flat = "".join(text.split("\n"))
    out = []
    for i in range(0, len(flat), every):
        chunk = flat[i:i + every]
        out.append(chunk[:5] + " " + chunk[5:] if len(chunk) > 6 else chunk)
    return "\n".join(out)


def as_rss(items: list[dict[str, str]], encoding: str = "utf-8", doctype: str = "") -> str:
    entries = "".join(
        "<item>" + "".join(f"<{key}>{html.escape(value)}</{key}>" for key, value in item.items()) + "</item>"
        for item in items)
    return (f'<?xml version="1.0" encoding="{encoding}"?>{doctype}<rss version="2.0" '
            f'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>山西日报</title>'
            f"{entries}</channel></rss>")


def billion_laughs() -> str:
    entities = "".join(f'<!ENTITY lol{n} "{("&lol%d;" % (n - 1)) * 10}">' for n in range(1, 10))
    return as_rss([{"title": "x", "description": "y"}],
                  doctype=f'<!DOCTYPE rss [<!ENTITY lol0 "lol">{entities}]>').replace(
                      "<title>x</title>", "<title>&lol9;</title>")


def add_article(db, article):
    """Keep one article unless it is kept already; (its id, whether it is new). A test's
    shorthand for tracker.store.articles.add_articles with one article, in a transaction."""
    from tracker.store.articles import add_articles

    return add_articles(db, [article])[0]
