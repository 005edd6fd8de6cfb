"""Named problems of an e-paper issue. Each is `name: English detail（中文）`: the name is stable
(tests, logs and whoever reads the runs table key on it), the English says what happened, the
Chinese is what an administrator reads on the admin page, where a source's last error is shown
as it was recorded. A problem line is `url: ` followed by one of these (like str(InputError))."""

from __future__ import annotations

from tracker.documents import InputError

# name → (English, with {fields}; Chinese)
PROBLEMS = {
    "script-built": ("this site loads its pages by script; not supported",
                     "该报网站用脚本加载版面，暂不支持"),
    "unknown-layout": ("no page, article or PDF links of the layout `{layout}` ({detail}); the "
                       "site may use another layout (see docs/sources.md)",
                       "未识别的版面格式"),
    "too-many-links": ("lists {count:,} article links, more than {limit:,} "
                       "(EPAPER_MAX_PAGE_LINKS); not a newspaper page, not read",
                       "链接过多，不像报纸版面"),
    "too-many-pages": ("links {count:,} pages; only the first {limit:,} are read (EPAPER_MAX_PAGES)",
                       "版面过多，只读前面的版面"),
    "too-many-articles": ("more than {limit:,} articles; the rest are not read (EPAPER_MAX_ARTICLES)",
                          "文章过多，其余未读"),
    "deadline": ("the issue took longer than EPAPER_DEADLINE ({limit:g} s); the rest is not read",
                 "读取超时，其余未读"),
    "redirect-loop": ("{detail} (a redirect loop?); not read", "网址重定向循环"),
    "forward-loop": ("the landing page forwards in a loop ({detail}); not read",
                     "入口页跳转循环"),
    "undated-forward": ("the landing page forwards to {detail}, which names no date; give the "
                        "url with {{date}} instead", "入口页跳转的网址没有日期"),
    "pdf-unreadable": ("the page's PDF cannot be read: {detail}", "版面 PDF 无法读取"),
    "no-links": ("the list page has no document link matching `{pattern}`; the site may have "
                 "changed its layout (see docs/sources.md)", "列表页上没有符合规则的文件链接"),
    "no-text": ("no article text found (looked for {detail})", "没有找到正文"),
}


def named(name: str, **fields: object) -> str:
    """The problem `name` with its fields filled in: "script-built: this site … （…）"."""
    english, chinese = PROBLEMS[name]
    return f"{name}: {english.format(**fields)}（{chinese}）"


def named_error(url: str, name: str, **fields: object) -> InputError:
    """An InputError naming `url` whose problem is the named problem."""
    return InputError(url, named(name, **fields), code=name.replace("-", "_"), fields=fields)
