"""What is new at one configured source, by its type. No database here: what the source has seen
before comes in as SourceState, and what to remember comes back in Collected, for the worker to
record only after the articles are stored (a worker killed half-way then loses nothing).

`Collected.documents` streams: files, linked pages and issues are read as the worker takes their
documents, so memory holds a batch, not the source. `problems` and `files` are complete once the
documents have been taken to the end.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Iterable, Iterator, Mapping
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from tracker.documents import Document, InputError
from tracker.errors import FetchProblem
from tracker.sources.catalog import Source
from tracker.sources.http import fetch
from tracker.sources.reader import documents, read
from tracker import settings

FOLDER_SUFFIXES = {".txt", ".text", ".html", ".htm", ".pdf"}
TEASER_CHARS = 200  # an entry whose text is shorter is a teaser (with fetch_full: read the page)
_DATE_IN_NAME = re.compile(r"(20\d\d)[-_.]?([01]\d)[-_.]?([0-3]\d)")
_PAGE_IN_NAME = re.compile(r"[-_.](?:p|page|ban)0*(\d{1,3})(?:[-_.]|$)", re.I)  # …_p3.txt: page 3


@dataclass(frozen=True)
class SourceState:
    """What the source gave before: validators for a conditional GET, files already read."""

    etag: str | None = None
    last_modified: str | None = None
    files: Mapping[str, str] = field(default_factory=dict)  # path → sha256
    known_url: Callable[[str], bool] = lambda url: False  # policy: a document already archived


@dataclass(frozen=True)
class SeenFile:
    path: str
    sha256: str
    size: int
    mtime: float
    error: str | None = None


@dataclass
class Collected:
    documents: Iterable[Document] = ()  # read lazily, once

    problems: list[FetchProblem] = field(default_factory=list)  # parts that failed; the rest went on
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    no_issue: bool = False  # e-paper: no issue of the days asked for is out (yet)
    files: list[SeenFile] = field(default_factory=list)


def collect(source: Source, config: Mapping[str, Any], state: SourceState,
            today: date | None = None) -> Collected:
    """What is new at `source`; an InputError when the source as a whole cannot be read."""
    today = today or datetime.now(ZoneInfo(source.timezone)).date()
    if source.type == "feed":
        return collect_feed(source, config, state, today)
    if source.type == "folder":
        return collect_folder(source, config, state, today)
    if source.type == "epaper":
        return collect_epaper(source, config, today)
    if source.type == "policy":
        return collect_policy(source, config, state, today)
    raise InputError(source.location, f"unknown source type {source.type!r}")


def collect_feed(source: Source, config: Mapping[str, Any], state: SourceState,
                 today: date) -> Collected:
    url = source.url or ""
    fetched = fetch(url, config, etag=state.etag, last_modified=state.last_modified, home=url)
    if fetched.not_modified:
        return Collected(etag=state.etag, last_modified=state.last_modified, not_modified=True)
    suffix = PurePosixPath(urlsplit(fetched.url).path).suffix.lower()
    entries = documents(url, fetched.data, suffix=suffix, content_type=fetched.content_type,
                        charset=fetched.charset, url=fetched.url, config=config)
    if any(d.kind != "feed-entry" for d in entries):
        raise InputError(url, f"expected an RSS/Atom feed but got {entries[0].kind}")
    out = Collected(etag=fetched.etag, last_modified=fetched.last_modified)
    found = (_entry(source, d, today) for d in _unique_ids(entries))
    if source.fetch_full:  # each linked page is read when its entry is taken
        found = (_full_text(d, config, out.problems, url) for d in found)
    out.documents = found
    return out


def _unique_ids(entries: list[Document]) -> list[Document]:
    """Identity by guid or link only where it is unique in this fetch: some feeds give every
    entry the same guid or link (miniflux#4197), and distinct articles must not collapse."""
    ids = Counter(d.meta.get("id") for d in entries)
    links = Counter(d.url for d in entries)
    return [replace(d, meta={**d.meta,
                             "guid": d.meta.get("id") if ids[d.meta.get("id")] == 1 else None,
                             "link_is_id": bool(d.url) and links[d.url] == 1})
            for d in entries]


def _entry(source: Source, entry: Document, today: date) -> Document:
    issue = (entry.published or "")[:10] or today.isoformat()
    return replace(entry, source=source.id, meta={**entry.meta, "issue_date": issue})


def _full_text(entry: Document, config: Mapping[str, Any], problems: list[FetchProblem],
               home: str) -> Document:
    """The linked page's text for a teaser entry; the teaser stays when the page fails. The
    link is the feed's word, not the administrator's: an http(s) URL only, and only to public
    addresses or the feed's own site (`home`), every redirect checked again."""
    if not entry.url or len(entry.text) >= TEASER_CHARS:
        return entry
    if urlsplit(entry.url).scheme.lower() not in ("http", "https"):
        problems.append(FetchProblem(entry.url, "not an http(s) link; not fetched", "not_http",
                                     {"scheme": urlsplit(entry.url).scheme}))
        return entry
    try:
        fetched = fetch(entry.url, config, home=home)
        suffix = PurePosixPath(urlsplit(fetched.url).path).suffix.lower()
        pages = documents(entry.url, fetched.data, suffix=suffix,
                          content_type=fetched.content_type, charset=fetched.charset,
                          url=fetched.url, config=config)
    except InputError as err:
        problems.append(FetchProblem.of(err.where, err))
        return entry
    body = "\n".join(p.text for p in pages if p.text)
    return replace(entry, text=body) if len(body) > len(entry.text) else entry


def collect_folder(source: Source, config: Mapping[str, Any], state: SourceState,
                   today: date) -> Collected:
    root = Path(source.path or "")
    if not root.is_dir():
        raise InputError(str(root), "is not a folder (or cannot be read)")
    out = Collected()
    out.documents = _folder_documents(source, root, config, state, out)
    return out


def _folder_documents(source: Source, root: Path, config: Mapping[str, Any], state: SourceState,
                      out: Collected) -> Iterator[Document]:
    """The documents of each new or changed file, one file read at a time."""
    settle = float(settings.value(config, "FOLDER_SETTLE_SECONDS"))
    inside = root.resolve()
    for path in sorted(p for p in root.rglob("*") if _droppable(p, root)):
        if not path.resolve().is_relative_to(inside):  # whoever drops files may drop a link
            out.problems.append(FetchProblem(str(path), "a link to a file outside the folder; "
                                                        "not read", "outside_folder"))
            continue
        info = path.stat()
        if time.time() - info.st_mtime < settle:
            continue  # still being written: next cycle
        rel = path.relative_to(root).as_posix()
        digest = _sha256(path)
        if state.files.get(rel) == digest:
            continue
        try:
            found = read(str(path), config)
        except InputError as err:
            out.problems.append(FetchProblem.of(err.where, err))
            out.files.append(SeenFile(rel, digest, info.st_size, info.st_mtime, err.problem))
            continue
        issue = _date_in_name(path.name) or datetime.fromtimestamp(info.st_mtime).date()
        for d in found:
            page = _PAGE_IN_NAME.search(path.stem)
            yield replace(d, source=source.id, meta={
                **d.meta, "file": rel, "issue_date": issue.isoformat(),
                **({"page": page.group(1)} if page and "page" not in d.meta else {})})
        out.files.append(SeenFile(rel, digest, info.st_size, info.st_mtime))


def _droppable(path: Path, root: Path) -> bool:
    """A regular file with a readable suffix, not hidden, not a partial upload."""
    parts = path.relative_to(root).parts
    return path.is_file() and path.suffix.lower() in FOLDER_SUFFIXES \
        and not any(p.startswith(".") for p in parts)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _date_in_name(name: str) -> date | None:
    m = _DATE_IN_NAME.search(name)
    if not m:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def collect_epaper(source: Source, config: Mapping[str, Any], today: date) -> Collected:
    out = Collected()
    out.documents = _epaper_documents(source, config, today, out)
    return out


def _epaper_documents(source: Source, config: Mapping[str, Any], today: date,
                      out: Collected) -> Iterator[Document]:
    """Each issue's documents, one issue fetched at a time."""
    from tracker.sources.epaper import NoIssue, issue_dates, issue_documents

    out.no_issue = True
    for day in issue_dates(source, today):
        try:
            issue = issue_documents(source, day, config)
        except NoIssue:
            continue
        out.no_issue = False
        out.problems.extend(issue.problems)
        yield from issue.documents


def collect_policy(source: Source, config: Mapping[str, Any], state: SourceState,
                   today: date) -> Collected:
    """The documents a policy list page (and its next pages) links that are not archived yet
    (tracker.sources.policy)."""
    from tracker.sources.policy import Reader

    out = Collected()
    reader = Reader(source, config, today, state.known_url)

    def documents() -> Iterator[Document]:
        yield from reader.documents()
        out.problems.extend(reader.listing.problems)

    out.documents = documents()
    return out
