"""E-paper (数字报) sources: one date's issue, its pages (版面) and their articles.

    issue     reading an issue: the index (through a landing page), pages, articles, page PDFs
    layouts   the presets (`layout: founder`, `founder-pc`, `founder-nbs`) and their link patterns
    links     the links of a page: pages with their names, articles, the page's PDF
    article   one article page: headline (kicker, title, subtitle) and body
    landing   landing pages that forward, pages built by script
    problems  the named problems an issue reports
"""

from tracker.sources.epaper.article import parse_article
from tracker.sources.epaper.issue import (Issue, NoIssue, PageRead, issue_dates, issue_documents,
                                          source_layout)
from tracker.sources.epaper.layouts import LAYOUTS, guess_layout
from tracker.sources.epaper.links import (article_links, page_label, page_links, page_name,
                                          squeeze, tidy_title)

__all__ = ["LAYOUTS", "Issue", "NoIssue", "PageRead", "article_links", "guess_layout",
           "issue_dates", "issue_documents", "page_label", "page_links", "page_name",
           "parse_article", "source_layout", "squeeze", "tidy_title"]
