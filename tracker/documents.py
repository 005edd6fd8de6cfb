"""The value passed between stages: a document read from an input (InputError is re-exported)."""

from __future__ import annotations

from dataclasses import dataclass, field

from tracker.errors import InputError
from tracker.text.normalize import Normalized, normalize, simplified

__all__ = ["ARTICLE_KINDS", "Document", "InputError"]


# Kinds that are one article each; any other document is a page, split into its articles.
ARTICLE_KINDS = frozenset({"feed-entry", "epaper", "article"})


@dataclass
class Document:
    """One readable unit: a newspaper page, a web page, or one entry of a feed.

    `name` is how the user named it (the INPUT exactly as given, or `INPUT#N` for a feed entry);
    `text` is its visible text with line structure kept (articles are split from it);
    `title` is set when the format itself says what the title is (a feed entry, an e-paper article).
    """

    name: str
    text: str
    kind: str  # a page: "text" | "html" | "pdf"; an article: "feed-entry" | "epaper" | "article"
    title: str | None = None
    url: str | None = None
    published: str | None = None  # ISO date or datetime, when the format says
    source: str | None = None  # a configured source id, when read by the worker
    meta: dict = field(default_factory=dict)
    # Worked out once on the way from fetch to store, then shared by the splitter, the matcher
    # and the store (never copied by dataclasses.replace: a new text starts without them).
    simplified: str | None = field(default=None, init=False, repr=False, compare=False)
    _keys: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def is_article(self) -> bool:
        return self.kind in ARTICLE_KINDS

    def simplified_text(self) -> str:
        """`text` in simplified characters, offset for offset (see tracker.text.normalize)."""
        if self.simplified is None:
            self.simplified = simplified(self.text)
        return self.simplified

    def text_key(self) -> Normalized:
        """The match key of `text` with its offset map, normalised once."""
        if "text" not in self._keys:
            self._keys["text"] = normalize(self.text, self.simplified_text())
        return self._keys["text"]

    def title_key(self) -> Normalized:
        """The match key of `title` ("" when there is none), normalised once."""
        if "title" not in self._keys:
            self._keys["title"] = normalize(self.title or "")
        return self._keys["title"]
