"""Policy list pages (政策文件, 通知公告 栏目 of government sites) as a source: a list page and its
pagination link to documents, and each linked document becomes one article.

    listing   the list pages: article links by pattern, the next list pages (index_1.html…,
              also when a script writes the pager), what is already archived skipped
    document  one linked page: title, date and main text through trafilatura (htmldate for the
              date), and the gov.cn-style 发文机关 / 发文字号 / 成文日期 / 发布日期 fields
"""

from tracker.sources.policy.document import FIELD_NAMES, PolicyPage, gov_fields, read_policy_page
from tracker.sources.policy.listing import (DEFAULT_ARTICLES, DEFAULT_LIST_PAGES, DEFAULT_PAGES,
                                            Listing, Reader)

__all__ = ["DEFAULT_ARTICLES", "DEFAULT_LIST_PAGES", "DEFAULT_PAGES", "FIELD_NAMES", "Listing",
           "PolicyPage", "Reader", "gov_fields", "read_policy_page"]
