"""The passage shown for an article found in the archive (search results, the newest articles).

Presentation over stored rows: the store returns an article's title, text and the stored
snippet of its first hit; which passage people see is chosen here, for the CLI and web alike."""

from __future__ import annotations

from tracker.text.normalize import normalize, normalize_term
from tracker.text.snippets import snippet

OPENING = 80  # characters shown of an article with nothing to mark


def found_passage(title: str | None, text: str, query: str = "",
                  hit_snippet: str | None = None) -> str:
    """Where `query` first stands in the text (else the title), its hit marked 【】; with no
    query, the stored snippet of the article's first hit; else the article's opening."""
    key = normalize_term(query) if query else ""
    if key:
        for field in (text or "", title or ""):
            norm = normalize(field)
            at = norm.key.find(key)
            if at >= 0:
                s, e = norm.source_span(at, at + len(key))
                return snippet(field, s, e).marked()
    elif hit_snippet is not None:
        return hit_snippet
    return (text or "")[:OPENING]
