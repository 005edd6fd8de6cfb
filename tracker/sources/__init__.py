"""Reading inputs (files, web pages, feeds, PDFs) into Documents: `read(ref, config)`.

Also the outbound HTTP every layer above uses: `http` (limits, user agent) and `ssrf` (the
address check for any URL the service fetches or posts to). May use text, documents, config
and yamlcheck; never store, alerts or anything above.
"""

from __future__ import annotations

from typing import Any

__all__ = ["read"]


def __getattr__(name: str) -> Any:
    """`read` on first use: a module that needs only `ssrf` or `http` (the subscribe form, the
    alert senders) does not import every reader (httpx, feedparser, pdfium) with it."""
    if name == "read":
        from tracker.sources.reader import read

        return read
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
