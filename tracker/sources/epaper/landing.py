"""Index pages that are not one: a landing page that forwards to the day's index, and a page
whose content a script builds from JSON (which we do not run).

Forwarding, as real sites do it (湖南日报's hnrb_epaper/, 浙江日报's paperindex.htm, 厦门日报):
    <meta http-equiv="refresh" content="0; URL=html/2025-04/09/node_201.htm">
    window.location.href = "html/2025-04/09/node_1.htm";   location.replace('…')
    setTimeout("javascript:location.href='…'", 3000)
Only a page without page or article links is read as a landing page (an index may reload
itself with a bare `refresh` every few minutes, or carry such scripts in its menus).
"""

from __future__ import annotations

import datetime
import re
from urllib.parse import urljoin

from tracker.sources.epaper.links import parse, squeeze
from tracker.text.html import visible_text

REFRESH_URL = re.compile(r"""^\s*\d*\s*[;,]?\s*url\s*=\s*['"]?\s*([^'"\s>]+)""", re.I)
SCRIPT_HOP = re.compile(
    r"""(?:(?:window|document|top|self)\.)?location(?:\.href)?\s*=\s*(['"])([^'"]+)\1"""
    r"""|location\.(?:replace|assign)\(\s*(['"])([^'"]+)\3\s*\)""")
SPA_MOUNT = ("#app", "#root", "#__nuxt", "#__next", "[ng-app]", "[ng-version]")
SCRIPT_FETCH = re.compile(r"XMLHttpRequest|\bfetch\(|\baxios\b|\$\.(?:ajax|post|get(?:JSON)?)\(|"
                          r"\.json\b|/api/|newspaperapi", re.I)
SHELL_TEXT = 200  # a page built by script shows fewer characters than this before it runs
URL_DATES = (
    re.compile(r"(?<!\d)(20\d\d)-(\d\d)[/-](\d\d)(?!\d)"),  # html/2025-04/09/, 2025-04-09
    re.compile(r"(?<!\d)(20\d\d)(\d\d)/(\d\d)(?!\d)"),  # pc/layout/202504/09/
    re.compile(r"(?<!\d)(20\d\d)(\d\d)(\d\d)(?!\d)"),  # _20250409_
)


def forward_target(html: str, base_url: str) -> str | None:
    """The absolute URL a landing page sends the browser to, or None."""
    tree = parse(html)
    for meta in tree.css("meta[http-equiv]"):
        if (meta.attributes.get("http-equiv") or "").strip().lower() == "refresh":
            match = REFRESH_URL.match(meta.attributes.get("content") or "")
            if match:
                return urljoin(base_url, match.group(1))
    for script in tree.css("script"):
        match = SCRIPT_HOP.search(script.text(deep=True) or "")
        if match:
            target = match.group(2) or match.group(4)
            return urljoin(base_url, target.removeprefix("javascript:"))
    return None


def script_built(html: str) -> bool:
    """Whether the page is an empty shell that scripts fill from JSON: scripts, almost no text,
    and an app's mount point or a script that asks a server for data."""
    tree = parse(html)
    scripts = tree.css("script")
    if not scripts:
        return False
    _, text = visible_text(html)
    if len(squeeze(text)) >= SHELL_TEXT:
        return False
    if any(tree.css_first(selector) is not None for selector in SPA_MOUNT):
        return True
    return any(script.attributes.get("src") or SCRIPT_FETCH.search(script.text(deep=True) or "")
               for script in scripts)


def url_date(url: str) -> datetime.date | None:
    """The issue date a URL's path names (html/2025-04/09/, pc/layout/202504/09/, _20250409_)."""
    for pattern in URL_DATES:
        for match in pattern.finditer(url):
            try:
                return datetime.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
            except ValueError:
                continue
    return None
