"""The configured sources: `instance/sources.yaml`, checked like rule files (file:line).

    sources:
      - id: sxrb                       # slug; articles and rules refer to it
        name: 山西日报
        type: epaper                   # feed | epaper | folder | policy (told from url/path
                                       #   when clear; policy is always said)
        url: https://example.cn/sxrb/html/{date:%Y-%m}/{date:%d}/node_1.htm
        schedule: "30 6 * * *"         # cron, minute hour day month weekday (default 06:30)
        timezone: Asia/Shanghai        # the schedule's and the issue dates' zone (default)
        enabled: true
        days: 2                        # epaper: today and the days before (default 1: today)
        layout: founder                # epaper: a preset (founder, founder-pc, founder-nbs);
                                       #   default: as the url's shape names it
        pages: 'node_\\d+\\.htm'          # epaper: links to the other pages (版面) (default:
        articles: 'content_[\\w-]+\\.htm' #   the layout's); links to the articles of a page
      - id: gov-feed
        name: 省政府信息公开
        url: https://example.cn/rss.xml  # a feed: entries become articles
        fetch_full: true                 # when an entry is only a teaser, read the linked page
      - id: gov-zcwj
        name: 示例省政府·政策文件
        type: policy                     # a list page: each linked document is one article
        url: https://www.example.gov.cn/zwgk/zcwj/index.html
        articles: 'content_\\d+\\.htm'  # document links (default: content_N.htm,
                                         #   tYYYYMMDD_N.html, art_N_N.html)
        pages: 'index_\\d+\\.html'      # the list's next pages (default index_N.html)
        list_pages: 3                    # list pages read at most (1-20, default 3)
      - id: drop
        name: 投放目录
        path: /srv/tracker/drop          # a folder: .txt .html .pdf files, each read once
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from tracker.yamlcheck import CODES as NODE_CODES
from tracker.yamlcheck import ID_PATTERN, NodeReader, Problem, ProblemsError

TYPES = ("feed", "epaper", "folder", "policy")
DEFAULT_SCHEDULE = "30 6 * * *"
DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_PAGES = r"node_\d+\.htm"  # the founder layout's (tracker.sources.epaper.layouts)
DEFAULT_ARTICLES = r"content_[\w-]+\.htm"
FIELDS = ("id", "name", "type", "url", "path", "schedule", "timezone", "enabled", "days",
          "layout", "pages", "articles", "fetch_full", "list_pages")
_CRON_FIELD = re.compile(r"^[\d*/,\-a-zA-Z?]+$")

# Every code a sources file's problem can have, with the names of its fields: the node checks'
# (tracker.yamlcheck) and the sources' own. `detail` is a third party's English (APScheduler's
# cron check, Python's re). The pages say each in Chinese by its code (tracker.web.problems).
CODES: dict[str, tuple[str, ...]] = {
    **NODE_CODES,
    "no_sources_key": (),
    "sources_not_list": (),
    "duplicate_id": ("id", "first_line"),
    "lacks": ("field",),
    "not_slug": ("id",),
    "url_or_path": (),  # both or neither
    "url_scheme": (),
    "type_unknown": (),  # not said, and the url does not tell
    "bad_type": ("type", "types"),
    "needs": ("kind", "field"),
    "cron_shape": (),
    "cron_invalid": ("schedule", "detail"),
    "unknown_zone": ("zone",),
    "layout_not_epaper": (),
    "unknown_layout": ("layout", "layouts"),
    "bad_pattern": ("field", "detail"),
    "not_bool": ("field",),
    "list_pages_not_policy": (),
    "list_pages_range": ("limit",),
    "days_range": ("limit",),
}
MAX_LIST_PAGES = 20
MAX_DAYS = 31


@dataclass(frozen=True)
class Source:
    id: str
    name: str
    type: str
    url: str | None = None
    path: str | None = None
    schedule: str = DEFAULT_SCHEDULE
    timezone: str = DEFAULT_TIMEZONE
    enabled: bool = True
    days: int = 1
    layout: str | None = None  # epaper: a preset name; None: as the url's shape names it
    pages: str | None = None  # epaper: None: the layout's patterns
    articles: str | None = None
    fetch_full: bool = False
    list_pages: int = 3  # policy: list pages read at most (the first and its next pages)
    file: str | None = None
    line: int | None = None

    @property
    def location(self) -> str:
        return self.url or self.path or ""


class SourcesError(ProblemsError):
    """A sources file that cannot be used; `problems` lists each as `file:line: what`."""


def infer_type(url: str | None, path: str | None, layout: str | None = None) -> str | None:
    """The type a source's url or path (or an e-paper layout) makes plain, or None when it must
    be said."""
    if path:
        return "folder"
    if not url:
        return None
    if "{date" in url or layout:
        return "epaper"
    path = url.lower().split("?")[0]
    if path.endswith((".xml", ".rss", ".atom", "/feed", "/rss")) or "rss" in url.lower():
        return "feed"
    return None


class _SourcesReader(NodeReader):
    codes = CODES

    def read(self, text: str) -> list[Source]:
        root = self.compose(text, empty="the file lists no source")
        if root is None:
            return []
        fields = self.mapping(root, ("sources",), "the file")
        if fields is None:
            return []
        if "sources" not in fields:
            self.problem(root, "no_sources_key", "the file must start with `sources:` and a list")
            return []
        items = fields["sources"][1]
        if not isinstance(items, yaml.SequenceNode):
            self.problem(items, "sources_not_list", "`sources:` must be followed by a list of "
                         "sources")
            return []
        found = [s for node in items.value if (s := self.source(node)) is not None]
        seen: dict[str, Source] = {}
        for source in found:
            if source.id in seen:
                first = seen[source.id].line
                self.add(source.line or 1, "duplicate_id", f"duplicate id `{source.id}` (first "
                         f"at line {first})", id=source.id, first_line=first)
            seen.setdefault(source.id, source)
        return list(seen.values())

    def source(self, node: yaml.Node) -> Source | None:
        before = len(self.problems)
        fields = self.mapping(node, FIELDS, "a source")
        if fields is None:
            return None
        values: dict = {}
        for name in ("id", "name", "type", "url", "path", "schedule", "timezone", "layout",
                     "pages", "articles"):
            if name in fields:
                values[name] = self.text(fields[name][1], name)
        for name in ("id", "name"):
            if name not in fields:
                self.problem(node, "lacks", f"the source lacks `{name}`", field=name)
        if values.get("id") and not ID_PATTERN.match(values["id"]):
            self.problem(fields["id"][1], "not_slug", "id must be a slug: lower-case a-z, 0-9, _ "
                         "or -", id=values["id"])
        url, path = values.get("url"), values.get("path")
        if bool(url) == bool(path):
            self.problem(node, "url_or_path", "a source has either `url` or `path`, not both or "
                         "neither")
        if url and not re.match(r"^https?://", url):
            self.problem(fields["url"][1], "url_scheme", "`url` must start with http:// or "
                         "https://")
        kind = values.get("type") or infer_type(url, path, values.get("layout"))
        if kind is None:
            self.problem(node, "type_unknown", "cannot tell the type from the url: say "
                         "`type: feed` or `type: epaper`")
        elif kind not in TYPES:
            self.problem(fields["type"][1], "bad_type", f"`type` is one of {', '.join(TYPES)}, "
                         f"not {kind}", type=kind, types=", ".join(TYPES))
        elif kind == "folder" and not path or kind != "folder" and not url:
            needed = "path" if kind == "folder" else "url"
            self.problem(node, "needs", f"a {kind} source needs `{needed}`", kind=kind,
                         field=needed)
        values["type"] = kind
        self.check_schedule(fields, values)
        self.check_layout(fields, values, kind)
        for name in ("pages", "articles"):
            if values.get(name):
                try:
                    re.compile(values[name])
                except re.error as err:
                    self.problem(fields[name][1], "bad_pattern", f"`{name}` is not a regular "
                                 f"expression: {err}", field=name, detail=str(err))
        for name in ("enabled", "fetch_full"):
            if name in fields:
                value = fields[name][1]
                if value.tag != "tag:yaml.org,2002:bool":
                    self.problem(value, "not_bool", f"`{name}` is true or false", field=name)
                else:
                    values[name] = value.value.lower() in ("true", "yes", "on")
        if "list_pages" in fields:
            value = fields["list_pages"][1]
            if kind != "policy":
                self.problem(value, "list_pages_not_policy", "`list_pages` is for policy sources "
                             "only")
            elif value.tag != "tag:yaml.org,2002:int" or not 1 <= int(value.value) <= MAX_LIST_PAGES:
                self.problem(value, "list_pages_range", "`list_pages` is a whole number from 1 "
                             f"to {MAX_LIST_PAGES}", limit=MAX_LIST_PAGES)
            else:
                values["list_pages"] = int(value.value)
        if "days" in fields:
            value = fields["days"][1]
            if value.tag != "tag:yaml.org,2002:int" or not 1 <= int(value.value) <= MAX_DAYS:
                self.problem(value, "days_range", f"`days` is a whole number from 1 to {MAX_DAYS}",
                             limit=MAX_DAYS)
            else:
                values["days"] = int(value.value)
        if len(self.problems) > before:
            return None
        clean = {k: v for k, v in values.items() if v is not None}
        return Source(**clean, file=self.filename, line=node.start_mark.line + 1)

    def check_layout(self, fields: dict, values: dict, kind: str | None) -> None:
        layout = values.get("layout")
        if layout is None:
            return
        from tracker.sources.epaper.layouts import LAYOUTS

        if kind != "epaper":
            self.problem(fields["layout"][1], "layout_not_epaper",
                         "`layout` is for epaper sources only")
        elif layout not in LAYOUTS:
            self.problem(fields["layout"][1], "unknown_layout", f"unknown layout `{layout}`: one "
                         f"of {', '.join(LAYOUTS)}", layout=layout, layouts=", ".join(LAYOUTS))

    def check_schedule(self, fields: dict, values: dict) -> None:
        """The schedule as the worker reads it (APScheduler's crontab), so that every schedule
        the worker would refuse is refused here, with its line: `30 25 * * *` has no hour 25."""
        zone = values.get("timezone")
        if zone is not None:
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                self.problem(fields["timezone"][1], "unknown_zone", f"unknown time zone `{zone}`",
                             zone=zone)
                zone = None
        schedule = values.get("schedule")
        if schedule is None:
            return
        parts = schedule.split()
        if len(parts) != 5 or not all(_CRON_FIELD.match(p) for p in parts):
            self.problem(fields["schedule"][1], "cron_shape", "`schedule` is cron: five fields, "
                         "minute hour day month weekday (e.g. \"30 6 * * *\")")
            return
        if why := cron_problem(schedule, zone or DEFAULT_TIMEZONE):
            self.problem(fields["schedule"][1], "cron_invalid", f"`schedule` {schedule!r}: {why}",
                         schedule=schedule, detail=why)


def cron_problem(expression: str, zone: str = DEFAULT_TIMEZONE) -> str | None:
    """Why the worker's scheduler would refuse this crontab expression (None: it would not)."""
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(expression, timezone=ZoneInfo(zone))
    except ValueError as err:
        return str(err)
    return None


def parse_sources_text(text: str, filename: str = "sources.yaml") -> tuple[list[Source],
                                                                            list[Problem]]:
    reader = _SourcesReader(filename)
    sources = reader.read(text)
    return sources, sorted(reader.problems, key=lambda p: (p.line, p.column or 0))


def check_sources(path: str | Path) -> tuple[list[Source], list[Problem]]:
    """The sound sources in the file and every problem found."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return [], [Problem(str(path), 1, "no such file (copy sources.example.yaml to start)",
                            code="missing")]
    except (OSError, UnicodeDecodeError) as err:
        return [], [Problem(str(path), 1, f"cannot read: {err}", code="unreadable",
                            fields={"detail": str(err)})]
    return parse_sources_text(text, str(path))


def load_sources(path: str | Path) -> list[Source]:
    """All sources in the file; raises SourcesError listing every problem if there is any."""
    sources, problems = check_sources(path)
    if problems:
        raise SourcesError(problems)
    return sources
