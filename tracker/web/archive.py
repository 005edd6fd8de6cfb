"""The archive pages: search the articles (/articles), read one (/articles/<id>), see how often
each rule fires in the papers (/trends).

Snippets carry their hit between 【 and 】 (as the store keeps them): they are escaped first and
only then are the markers turned into <mark>, so no text from a newspaper is ever markup.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, render_template, request, url_for
from markupsafe import Markup, escape

from tracker.store.articles import get_article
from tracker.store.hits import hit_rule_names, hits_for_article, rules_of_articles
from tracker.store.latest import latest
from tracker.store.search import search
from tracker.store.sources import source_names as stored_source_names
from tracker.store.stories import Copy, copies_of, stories_of
from tracker.store.trends import week_start, weekly_counts, weekly_story_counts
from tracker.text.normalize import normalize_term
from tracker.text.passage import result_passage
from tracker.text.query import MAX_WORDS, query_words
from tracker.web import limiter
from tracker.web.charts import line_chart, sparkline
from tracker.web.db import get_db
from tracker.web.rulecache import checked_rules
from tracker import settings

bp = Blueprint("archive", __name__)

RESULTS = 50
LATEST = 20
STORY_READS = 3  # articles read per story shown: the copies of one story collapse into one row
TREND_WEEKS = 12
MAX_TREND_WEEKS = 104
_MARKED = re.compile(r"【([^【】]*)】")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def mark(snippet: str | None) -> Markup:
    """The snippet escaped, its 【hit】 markers (balanced, not nested) as <mark>hit</mark>."""
    escaped = str(escape(snippet or ""))
    return Markup(_MARKED.sub(r"<mark>\1</mark>", escaped))


def marked_terms(snippet: str) -> list[str]:
    return [t for t in _MARKED.findall(snippet or "") if t.strip()]


def highlight(text: str, terms: list[str]) -> Markup:
    """`text` escaped, each occurrence of any of `terms` in <mark>."""
    terms = sorted({t for t in terms if t}, key=len, reverse=True)
    if not terms:
        return escape(text)
    pattern = re.compile("|".join(re.escape(t) for t in terms))
    out, at = [], 0
    for m in pattern.finditer(text):
        out.append(str(escape(text[at:m.start()])))
        out.append(f"<mark>{escape(m.group())}</mark>")
        at = m.end()
    out.append(str(escape(text[at:])))
    return Markup("".join(out))


def paragraphs(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def parse_day(value: str | None) -> date | None:
    """A YYYY-MM-DD date, or None when absent or not one."""
    if not value or not _DAY.fullmatch(value.strip()):
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


def public_rule(rule_id: str) -> bool:
    """Not a subscriber's own keywords: `personal-<id>` rule files and hits that earlier
    versions left (until the worker moves them into their subscription), `personal:<id>`."""
    return not rule_id.startswith(("personal-", "personal:"))


def rule_names() -> dict[str, str]:
    """Rule id → name: the rules in the rules folder (the sound ones, even if another file is
    broken), then rules only the archive remembers (removed since, with hits kept). Never a
    subscriber's own keywords (public_rule)."""
    names: dict[str, str] = {}
    rules, _problems = checked_rules()
    for rule in rules:
        if public_rule(rule.id):
            names[rule.id] = rule.name
    for rule_id, name in hit_rule_names(get_db()):
        if public_rule(rule_id):
            names.setdefault(rule_id, name or rule_id)
    return names


def source_names() -> dict[str, str]:
    """Source id → newspaper name, for every source the archive holds articles or a row for."""
    names = stored_source_names(get_db())
    return dict(sorted(names.items(), key=lambda kv: kv[1]))


def today() -> date:
    """Today where the newspapers are (TIMEZONE, default Asia/Shanghai)."""
    try:
        zone = ZoneInfo(settings.value(current_app.config, "TIMEZONE"))
    except (KeyError, ValueError):
        zone = ZoneInfo("Asia/Shanghai")
    return datetime.now(zone).date()


MIN_QUERY = 2  # characters a search needs: one (的) is in nearly every article


def search_limit() -> str:
    """The searches one client may make (SEARCH_LIMIT): each scans its part of the index."""
    return current_app.config["SEARCH_LIMIT"]


def too_short(word: str) -> bool:
    """Whether a word has fewer than MIN_QUERY characters once normalised (spaces not
    counted): such a word would range over a large part of the index for every request."""
    return bool(word) and len("".join(normalize_term(word).split())) < MIN_QUERY


def searched_words(q: str) -> tuple[list[str], list[str]]:
    """The words of a query to search with (each of MIN_QUERY characters or more, at most
    MAX_WORDS), and what to tell the visitor about the words left out."""
    words = query_words(q)
    short = [w for w in words if too_short(w)]
    kept = [w for w in words if not too_short(w)]
    problems = []
    if short:
        problems.append(f"关键词{quoted(short)}太短，没有用来搜索：请至少输入 {MIN_QUERY} 个字"
                        "（单个字几乎出现在每篇文章里）" + (f"。下面只按{quoted(kept)}搜索。" if kept
                                                   else "，如“绿电”“标准地”。"))
    if len(kept) > MAX_WORDS:
        problems.append(f"一次最多按 {MAX_WORDS} 个词搜索，{quoted(kept[MAX_WORDS:])}没有用上。")
    return kept[:MAX_WORDS], problems


def quoted(words: list[str]) -> str:
    return "".join(f"“{w}”" for w in words)


@bp.get("/articles")
@limiter.limit(search_limit, exempt_when=lambda: not request.args.get("q", "").strip())
def articles():
    args = request.args
    q = args.get("q", "").strip()[:200]
    rule = args.get("rule", "").strip()
    rule = rule if public_rule(rule) else ""
    source = args.get("source", "").strip()
    since_raw, until_raw = args.get("since", "").strip(), args.get("until", "").strip()
    since, until = parse_day(since_raw), parse_day(until_raw)
    problems = [f"日期“{raw}”看不懂，请用 年-月-日（如 2025-04-07）" for raw, day in
                ((since_raw, since), (until_raw, until)) if raw and day is None]
    rules, sources = rule_names(), source_names()
    words, said = searched_words(q)
    problems += said
    searched = bool(words or rule)
    found = []
    wanted = RESULTS if searched else LATEST
    if not searched:  # before any search: the newest articles
        found = latest(get_db(), source=source or None,
                       since=since.isoformat() if since else None,
                       until=until.isoformat() if until else None, limit=wanted * STORY_READS)
    else:
        found = search(get_db(), words, rule=rule or None, source=source or None,
                       since=since.isoformat() if since else None,
                       until=until.isoformat() if until else None, limit=wanted * STORY_READS)
    found, copies = one_per_story(found, wanted)
    article_rules: dict[int, list[tuple[str, str]]] = {}
    for article_id, rule_id, name in rules_of_articles(get_db(), [f.id for f in found]):
        if public_rule(rule_id):
            article_rules.setdefault(article_id, []).append((rule_id, rules.get(rule_id, name)))
    return render_template(
        "archive/articles.html", q=q, rule=rule, source=source,
        since=since.isoformat() if since else since_raw,
        until=until.isoformat() if until else until_raw, problems=problems, rules=rules,
        sources=sources, searched=searched, found=found, article_rules=article_rules, mark=mark,
        passages={f.id: result_passage(f.title, f.text, words, f.hit_snippet) for f in found},
        limit=wanted, words=words, all_words=quoted(words) if len(words) > 1 else "",
        copies=copies)


def one_per_story(found: list, limit: int) -> tuple[list, dict[int, list[Copy]]]:
    """The articles found, one per story (its newest found copy stands for it), at most
    `limit`; and for each kept article its story's copies (the first appearance first)."""
    stories = stories_of(get_db(), [f.id for f in found])
    kept, seen = [], set()
    for f in found:
        story = stories.get(f.id, ("article", f.id))
        if story not in seen:
            seen.add(story)
            kept.append(f)
    kept = kept[:limit]
    every = copies_of(get_db(), [stories[f.id] for f in kept if f.id in stories])
    return kept, {f.id: every.get(stories.get(f.id), []) for f in kept}


def papers(copies: list[Copy]) -> int:
    """How many papers carried a story."""
    return len({c.source_id for c in copies})


@bp.get("/articles/<int:article_id>")
def article(article_id: int):
    db = get_db()
    row = get_article(db, article_id)
    if row is None:
        abort(404)
    rules = rule_names()
    hits = [h for h in hits_for_article(db, article_id) if public_rule(h["rule_id"])]
    terms = [t for h in hits for one in h["snippets"] for t in marked_terms(one.get("snippet", ""))]
    for h in hits:
        h["name"] = rules.get(h["rule_id"], h["rule_name"] or h["rule_id"])
        h["passages"] = passages_of(h["snippets"])
    date_ = row.get("issue_date") or (row.get("published") or "")[:10] or \
        (row.get("first_seen") or "")[:10]
    story = stories_of(db, [article_id]).get(article_id)
    copies = copies_of(db, [story]).get(story, []) if story else []
    return render_template(
        "archive/article.html", article=row, date=date_, hits=hits, mark=mark, copies=copies,
        title_html=highlight(row.get("title") or "", terms),
        body=[highlight(p, terms) for p in paragraphs(row.get("text") or "")],
        source_name=source_names().get(row.get("source_id"), row.get("source_id")),
        safe_url=_http_url(row.get("url")))


def passages_of(hits: list[dict]) -> list[tuple[str, list[str]]]:
    """Each passage of a rule's stored hits once, in page order, with the keyword names of the
    hits it holds: hits in one sentence share their passage, which is shown once."""
    out: dict[str, list[str]] = {}
    for one in hits:
        names = out.setdefault(one.get("snippet", ""), [])
        if one.get("name") and one["name"] not in names:
            names.append(one["name"])
    return list(out.items())


def _http_url(url: str | None) -> str | None:
    """The article's link, only if it is http(s): a javascript: URL never becomes an href."""
    if url and re.match(r"https?://", url.strip(), re.I):
        return url.strip()
    return None


def week_label(monday: date) -> str:
    return f"{monday.month}/{monday.day}"


def _chart(mondays: list[date], counts: dict[str, list[int]], rules: dict[str, str],
           source: str | None) -> tuple[Markup, list[tuple[str, str, int, int, Markup]]]:
    """The chart of `counts` (series named after the rules, biggest first) and a table row per
    rule: (id, name, total, this week, sparkline)."""
    order = sorted(counts, key=lambda r: (-sum(counts[r]), r))
    names: dict[str, str] = {}
    for rule_id in order:
        name = rules.get(rule_id, rule_id)
        names[rule_id] = name if name not in names.values() else f"{name}（{rule_id}）"
    labels = [week_label(m) for m in mondays]
    links = {}
    for rule_id in order:
        links[names[rule_id]] = [
            url_for("archive.articles", rule=rule_id, since=m.isoformat(),
                    until=(m + timedelta(days=6)).isoformat(),
                    **({"source": source} if source else {}))
            for m in mondays]
    chart = line_chart({names[r]: counts[r] for r in order}, labels, links)
    table = [(r, names[r], sum(counts[r]), counts[r][-1],
              sparkline(counts[r], f"{names[r]}：近 {len(mondays)} 周每周 "
                        + "、".join(map(str, counts[r])) + " 篇")) for r in order]
    return chart, table


def trend_range(args) -> tuple[date, int, list[str]]:
    """The last day and the number of weeks /trends covers: `until` (default today) and `since`
    (default TREND_WEEKS weeks before), or `weeks`; with the problems to show for bad dates."""
    problems = []
    until = parse_day(args.get("until"))
    since = parse_day(args.get("since"))
    for name, raw, day in (("截止日期", args.get("until"), until), ("开始日期", args.get("since"), since)):
        if raw and day is None:
            problems.append(f"{name}“{raw[:40]}”看不懂，请用 年-月-日（如 2025-04-07）。")
    last = min(until or today(), today())
    weeks = TREND_WEEKS
    raw_weeks = str(args.get("weeks", "")).strip()
    if raw_weeks.isdigit():
        weeks = int(raw_weeks)
    if since:
        if since > last:
            problems.append("开始日期在截止日期之后，已改为显示截止日期前的 12 周。")
        else:
            weeks = (week_start(last) - week_start(since)).days // 7 + 1
    return last, max(1, min(weeks, MAX_TREND_WEEKS)), problems


@bp.get("/trends")
def trends():
    db, rules, sources = get_db(), rule_names(), source_names()
    day, weeks, problems = trend_range(request.args)
    copies = request.args.get("copies") == "1"  # every paper's copy, not each story once
    mondays, counts = (weekly_counts if copies else weekly_story_counts)(db, weeks, day)
    counts = {r: c for r, c in counts.items() if public_rule(r)}
    overall, table = _chart(mondays, counts, rules, None)
    quiet = [(rid, name) for rid, name in rules.items() if rid not in counts]
    by_source = []
    for sid, name in sources.items():
        _, per_source = weekly_counts(db, weeks, day, source=sid)
        per_source = {r: c for r, c in per_source.items() if public_rule(r)}
        if per_source:
            chart, rows = _chart(mondays, per_source, rules, sid)
            by_source.append((sid, name, chart, sum(r[2] for r in rows)))
    by_source.sort(key=lambda s: -s[3])
    return render_template("archive/trends.html", overall=overall, table=table, quiet=quiet,
                           by_source=by_source, first=mondays[0],
                           last=mondays[-1] + timedelta(days=6), weeks=weeks, problems=problems,
                           until=day, spans=(4, 12, 26, 52), copies=copies)
