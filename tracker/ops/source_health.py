"""Whether a scheduled source is healthy, judged from its own run history: a pure function over
the rows of the runs table (tracker.store.runs), newest last, so every rule is a table of runs
in a test. The worker asks after each run of a source (tracker.alerts.admin.watch_source).

Four signals, each an episode of its own (it opens when the signal first shows and closes when a
later run no longer shows it):

    failing  the last HEALTH_FAIL_RUNS runs (3) all failed (status `error`)
    silent   no run brought a new article for longer than HEALTH_GAP_FACTOR (2) times the
             source's usual gap between runs that did (the median gap), when at least
             HEALTH_MIN_HISTORY (4) runs brought some; a folder that is fed once a week is
             silent after two weeks, a daily paper after two days
    empty    the last good run read 0 articles where the good runs before it read some (their
             median is above 0): the layout changed, the patterns match nothing
    low      the last good run read fewer than HEALTH_LOW_RATIO (0.25) of the median of the
             good runs before it, when that median is at least HEALTH_LOW_MIN (8)

"Good" runs are those that read the source (`ok`, `partial`); `not_modified` (a feed's 304) and
`no_issue` (an e-paper's issue not out yet) read nothing and say nothing about its size. The
median needs HEALTH_MIN_HISTORY good runs before the last; until then `empty` and `low` wait.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median
from typing import Any, Mapping, Sequence

from tracker import settings

KINDS = ("failing", "silent", "empty", "low")
READ = ("ok", "partial")  # runs that read the source (its size counts)
ZH_KIND = {"failing": "连续读取失败", "silent": "长时间没有新内容", "empty": "读到 0 篇文章",
           "low": "文章数量骤减"}


@dataclass(frozen=True)
class Thresholds:
    fail_runs: int = 3
    gap_factor: float = 2.0
    min_history: int = 4
    low_ratio: float = 0.25
    low_min: float = 8.0
    window: int = 60  # runs looked at, the newest

    @classmethod
    def of(cls, config: Mapping[str, Any]) -> "Thresholds":
        """From HEALTH_FAIL_RUNS, HEALTH_GAP_FACTOR, HEALTH_MIN_HISTORY, HEALTH_LOW_RATIO,
        HEALTH_LOW_MIN (tracker.settings: their defaults are those above)."""
        return cls(*(settings.value(config, name) for name in (
            "HEALTH_FAIL_RUNS", "HEALTH_GAP_FACTOR", "HEALTH_MIN_HISTORY", "HEALTH_LOW_RATIO",
            "HEALTH_LOW_MIN")))


@dataclass(frozen=True)
class Signal:
    kind: str  # one of KINDS
    detail: str  # what an administrator reads, in Chinese


def _when(run: Mapping[str, Any]) -> datetime | None:
    stamp = run.get("finished") or run.get("started")
    try:
        return datetime.fromisoformat(stamp) if stamp else None
    except ValueError:
        return None


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:.1f} 天" if hours >= 48 else f"{hours:.1f} 小时"


def evaluate(runs: Sequence[Mapping[str, Any]], now: datetime,
             limits: Thresholds = Thresholds()) -> list[Signal]:
    """The signals `runs` (one source's, oldest first, finished ones) show at `now`."""
    runs = [r for r in runs if r.get("status") not in (None, "running")][-limits.window:]
    signals: list[Signal] = []
    if not runs:
        return signals
    tail = runs[-limits.fail_runs:]
    if len(tail) >= limits.fail_runs and all(r["status"] == "error" for r in tail):
        error = (tail[-1].get("error") or "")[:300]
        signals.append(Signal("failing", f"连续 {len(tail)} 次读取失败；最近一次：{error}"))

    brought = [t for r in runs if (r.get("new_articles") or 0) > 0 and (t := _when(r))]
    if len(brought) >= limits.min_history:
        gaps = [b - a for a, b in zip(brought, brought[1:])]
        usual = median(gaps)
        since = now - brought[-1]
        if usual > timedelta(0) and since > limits.gap_factor * usual:
            signals.append(Signal("silent", f"已 {_hours(since)} 没有新文章（通常每 "
                                            f"{_hours(usual)}就有），最近一次有新文章在 "
                                            f"{brought[-1].isoformat(timespec='minutes')}"))

    read = [r for r in runs if r["status"] in READ]
    if len(read) > limits.min_history:  # a later 304 or "no issue yet" changes nothing
        last = read[-1].get("fetched") or 0
        usual_count = median([r.get("fetched") or 0 for r in read[:-1]])
        if last == 0 and usual_count > 0:
            signals.append(Signal("empty", f"本次读到 0 篇文章，此前通常每次 {usual_count:g} 篇"))
        elif 0 < last < limits.low_ratio * usual_count and usual_count >= limits.low_min:
            signals.append(Signal("low", f"本次只读到 {last} 篇文章，此前通常每次 {usual_count:g} 篇"))
    return signals
