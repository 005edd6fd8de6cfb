"""The soak test (`make soak`, never `make test`): `tracker serve` and `tracker worker` as
processes on one fresh instance for SOAK_SECONDS (default 600), on loopback only. Three RSS
feeds grow by an item every ~20 s and a drop folder by a page every ~30 s (our own made-up
sentences, each naming one or two of the starter rules' themes); ten subscribers sign up through
the web form and confirm from the mail; the worker is SIGKILLed every 90–120 s and started again
at once while serve stays up and its public pages are read about once a second.

At the end, with the worker caught up: no alert lost (every subscriber got, in some mail, the
title of every item their rules name), at most one duplicate per kill (a message in flight when
the worker died, sent again), no 5xx, serve's memory flat after warm-up, each restarted
worker's peak within 10% of the first restarted one's, and `PRAGMA integrity_check` ok. The
figures are printed (docs/operations.md keeps the last ones)."""

from __future__ import annotations

import email
import functools
import os
import random
import re
import signal
import sqlite3
import statistics
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from email import policy
from pathlib import Path

from builders import as_rss
from loopback import respond, serve
from smtp_loopback import LoopbackController, Recorder
from test_demo import free_port
from test_serve_and_worker import browser, csrf, web_env
from test_worker import REPO, rows, source, wait_for, write_sources
from test_worker_deployed import Process

SECONDS = float(os.environ.get("SOAK_SECONDS", "600"))
SEED = int(os.environ.get("SOAK_SEED", "20250409"))
FEEDS = ["甲报", "乙报", "丙报"]
DROP = "丁刊"
FEED_EVERY = 20.0  # a new item in each feed (staggered)
DROP_EVERY = 30.0  # a new page in the drop folder
KILL_EVERY = (90.0, 120.0)
PAGES = ["/", "/articles", "/healthz", "/readyz"]  # polled in turn, a round a second
CATCH_UP = 180.0  # sources run once a minute: the last items need a tick, then a delivery
# Subscribers and their rules; the first six sign up at the start, the others during the run
# (their first alert is the welcome: the hits of the last days, then instant alerts).
SUBSCRIBERS = [["zhuanyezhen"], ["biaozhundi"], ["lvdian"], ["yingshang-huanjing"],
               ["xinnengyuan"], ["zhuanyezhen", "lvdian"], ["biaozhundi", "xinnengyuan"],
               ["zhuanyezhen", "biaozhundi", "lvdian", "yingshang-huanjing", "xinnengyuan"],
               ["yingshang-huanjing", "zhuanyezhen"], ["lvdian", "xinnengyuan", "biaozhundi"]]
AT_START = 6
# Our own sentences, one theme each: {n} is the item's serial, so that no two bodies are alike.
SENTENCES = {
    "zhuanyezhen": ["今年全省新认定特色专业镇{n}个，带动就业3万人。",
                    "第{n}批省级重点专业镇名单公布，金融机构推出专项贷款。"],
    "biaozhundi": ["开发区全面推行标准地出让，今年已出让{n}宗。",
                   "我市第{n}宗工业用地按标准地供应，企业拿地即开工。"],
    "lvdian": ["省内第{n}笔绿电交易在太原完成，成交电量1.2亿千瓦时。",
               "园区企业签约绿电直供，年用电{n}万千瓦时。"],
    "yingshang-huanjing": ["我市出台优化营商环境{n}条措施，审批时限压缩一半。",
                           "第{n}次营商环境评价结果发布，政务服务满意度提升。"],
    "xinnengyuan": ["全省新能源装机突破{n}00万千瓦，光伏项目加快建设。",
                    "第{n}个储能电站并网运行，风电消纳能力提升。"],
}
THEMES = list(SENTENCES)
PLAIN = "各地抓住有利时机，组织农民开展第{n}轮春耕生产。"  # no theme: an item no one is told of


@dataclass
class Item:
    title: str
    body: str
    rules: frozenset[str]


def make_item(paper: str, n: int, serial: int) -> Item:
    """Item `n` of `paper`: one or two themes (every seventh none), in words no other item has."""
    if serial % 7 == 6:
        chosen: list[str] = []
    elif serial % 3 == 2:
        chosen = [THEMES[serial % 5], THEMES[(serial + 2) % 5]]
    else:
        chosen = [THEMES[serial % 5]]
    text = "".join(SENTENCES[t][serial % 2].format(n=serial + 3) for t in chosen) or \
        PLAIN.format(n=serial + 3)
    return Item(f"{paper}第{n}条快讯", f"本报讯（{paper}第{n}条）{text}", frozenset(chosen))


@functools.cache
def starter_matcher():
    from tracker.worker.rulebook import RuleBook

    return RuleBook(REPO / "rules").refresh().matcher


def check_items_match_as_written(items: list[Item]) -> None:
    """The starter rules fire on each item exactly as it was written (else a lost alert would
    be a test whose sentences are wrong, not a lost alert)."""
    from tracker.documents import Document

    matcher = starter_matcher()
    for item in items:
        fired = {m.rule.id for m in matcher.match(Document(name=item.title, text=item.body,
                                                           kind="feed-entry", title=item.title))}
        assert fired == item.rules, (item, fired)


@dataclass
class Poll:
    """serve's public pages read about once a second: status and time of each request."""

    base: str
    stop: threading.Event = field(default_factory=threading.Event)
    results: list[tuple[str, int, float]] = field(default_factory=list)  # page, status, seconds

    def run(self) -> None:
        deadline = time.monotonic() + SECONDS + CATCH_UP + 600
        while not self.stop.is_set() and time.monotonic() < deadline:
            began = time.monotonic()
            for page in PAGES:
                self.results.append((page, *timed_get(self.base + page)))
            self.stop.wait(max(0.0, 1.0 - (time.monotonic() - began)))


def timed_get(url: str) -> tuple[int, float]:
    """(status, seconds); status 0 when no answer came."""
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310 - loopback only
            answer.read()
            status = answer.status
    except urllib.error.HTTPError as err:
        status = err.code
        err.read()
        err.close()
    except OSError:
        status = 0
    return status, time.monotonic() - started


def vm_rss(pid: int) -> int | None:
    """Resident set size of `pid` in kB, None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    found = re.search(r"^VmRSS:\s+(\d+) kB", text, re.M)
    return int(found.group(1)) if found else None


def sign_up(base: str, recorder: Recorder, address: str, chosen: list[str],
            statuses: list[int]) -> None:
    """Through the form as a visitor does: the form (a CSRF token in a cookie session), the
    POST, the confirmation mail from the relay, the confirm page and its button."""
    visitor = browser()

    def fetch(url: str, data: dict | None = None) -> str:
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        try:
            with visitor.open(url, data=body, timeout=60) as answer:
                statuses.append(answer.status)
                return answer.read().decode()
        except urllib.error.HTTPError as err:
            statuses.append(err.code)
            raise AssertionError(f"{url}: {err.code} {err.read()[:500]!r}") from err

    token = csrf(fetch(f"{base}/subscribe"))
    page = fetch(f"{base}/subscribe", {"csrf_token": token, "channel": "email", "email": address,
                                       "rules": chosen, "frequency": "instant"})
    assert "请查收确认邮件" in page, page[:2000]
    assert wait_for(lambda: recorder.received(address), 60, 0.2), address
    mail = email.message_from_bytes(recorder.received(address)[0].data, policy=policy.default)
    link = re.search(r"/confirm/[\w.-]+", mail.get_body(("plain",)).get_content()).group(0)
    page = fetch(base + link)
    fetch(base + link, {"csrf_token": csrf(page)})


def alert_titles(recorder: Recorder, address: str) -> list[tuple[str, set[str]]]:
    """(Message-ID, titles) of each alert mail `address` received (the plain part's ▸ lines)."""
    out = []
    for received in recorder.received(address):
        mail = email.message_from_bytes(received.data, policy=policy.default)
        text = mail.get_body(("plain",)).get_content()
        titles = {line.strip()[2:].strip() for line in text.splitlines()
                  if line.strip().startswith("▸ ")}
        if titles:
            out.append((str(mail["Message-ID"]), titles))
    return out


def tally(recorder: Recorder, addresses: dict[str, list[str]], items: list[Item]):
    """lost: (address, title) due and never mailed; duplicated: (address, title) in two mails
    or more, with whether those mails shared one Message-ID (the same message sent again);
    unexpected: titles mailed to someone whose rules do not name them."""
    lost, duplicated, unexpected = [], [], []
    for address, chosen in addresses.items():
        due = {i.title for i in items if i.rules & set(chosen)}
        mails = alert_titles(recorder, address)
        seen: dict[str, list[str]] = defaultdict(list)
        for message_id, titles in mails:
            for title in titles:
                seen[title].append(message_id)
        lost += [(address, t) for t in sorted(due - set(seen))]
        unexpected += [(address, t) for t in sorted(set(seen) - due)]
        duplicated += [(address, t, len(set(ids)) == 1) for t, ids in seen.items()
                       if len(ids) > 1]
    return lost, duplicated, unexpected


def test_soak(tmp_path):
    rng = random.Random(SEED)
    recorder = Recorder()
    relay = LoopbackController(recorder, hostname="127.0.0.1", port=0, ready_timeout=10,
                               auth_require_tls=False)
    relay.start()
    instance = tmp_path / "instance"
    instance.mkdir()
    drop = tmp_path / "drop"
    drop.mkdir()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = web_env(instance, relay.port, port)
    config = {"INSTANCE_PATH": str(instance)}
    items: list[Item] = []
    feeds: dict[str, list[Item]] = {paper: [] for paper in FEEDS}
    serial = iter(range(10**6))
    addresses: dict[str, list[str]] = {}
    form_statuses: list[int] = []
    web = workers = poll = poller = None
    kills = 0
    figures: dict[str, object] = {}
    serve_rss: list[int] = []
    worker_rss: list[list[int]] = []

    with serve() as site:
        def publish_feed(k: int, paper: str) -> None:
            item = make_item(paper, len(feeds[paper]) + 1, next(serial))
            check_items_match_as_written([item])
            feeds[paper].append(item)
            items.append(item)
            body = as_rss([{"title": i.title, "link": f"{site.base}/a/{k}/{n}",
                            "guid": f"{site.base}/a/{k}/{n}", "description": i.body}
                           for n, i in enumerate(feeds[paper], 1)]).encode()
            site.routes[f"/feed{k}.xml"] = respond(body, "application/rss+xml; charset=utf-8")

        def publish_page(n: int) -> None:
            item = make_item(DROP, n, next(serial))
            check_items_match_as_written([item])
            items.append(item)
            partial = drop / f".page{n}.part"
            partial.write_text(f"{item.title}\n{item.body}各地将抓好落实。\n", encoding="utf-8")
            os.replace(partial, drop / f"page{n:03}.txt")  # whole, as the folder expects
            return None

        for k, paper in enumerate(FEEDS):
            publish_feed(k, paper)
        pages = 1
        publish_page(pages)
        write_sources(instance, [source(f"feed{k}", url=f"{site.base}/feed{k}.xml",
                                        schedule='"* * * * *"') for k in range(len(FEEDS))]
                      + [source("drop", path=str(drop), schedule='"* * * * *"')])
        try:
            web = Process(env, "serve", "--port", str(port))
            assert wait_for(lambda: timed_get(f"{base}/healthz")[0] == 200, 90), web.lines
            workers = [Process(env, "worker")]
            poll = Poll(base)
            poller = threading.Thread(target=poll.run, daemon=True)
            poller.start()
            started = time.monotonic()
            for n in range(AT_START):
                addresses[f"reader{n}@example.org"] = SUBSCRIBERS[n]
                sign_up(base, recorder, f"reader{n}@example.org", SUBSCRIBERS[n], form_statuses)
            late = {started + SECONDS * (0.25 + 0.1 * j): AT_START + j
                    for j in range(len(SUBSCRIBERS) - AT_START)}
            next_feed = {k: started + FEED_EVERY * (k + 1) / len(FEEDS) for k in range(len(FEEDS))}
            next_page = started + DROP_EVERY
            next_kill = started + rng.uniform(*KILL_EVERY)
            next_sample = started
            worker_rss.append([])
            end = started + SECONDS
            while (now := time.monotonic()) < end:  # bounded by the clock
                for k, paper in enumerate(FEEDS):
                    if now >= next_feed[k]:
                        publish_feed(k, paper)
                        next_feed[k] = now + FEED_EVERY * rng.uniform(0.8, 1.2)
                if now >= next_page:
                    pages += 1
                    publish_page(pages)
                    next_page = now + DROP_EVERY * rng.uniform(0.8, 1.2)
                for at, n in list(late.items()):
                    if now >= at:
                        del late[at]
                        addresses[f"reader{n}@example.org"] = SUBSCRIBERS[n]
                        sign_up(base, recorder, f"reader{n}@example.org", SUBSCRIBERS[n],
                                form_statuses)
                if now >= next_kill:
                    workers[-1].proc.send_signal(signal.SIGKILL)
                    workers[-1].proc.wait(timeout=30)
                    kills += 1
                    workers.append(Process(env, "worker"))
                    worker_rss.append([])
                    next_kill = now + rng.uniform(*KILL_EVERY)
                if now >= next_sample:
                    serve_rss.append(vm_rss(web.proc.pid) or 0)
                    if (rss := vm_rss(workers[-1].proc.pid)) is not None:
                        worker_rss[-1].append(rss)
                    next_sample = now + 2.0
                time.sleep(0.2)
            for n in sorted(late.values()):  # a run too short for them: sign up now
                addresses[f"reader{n}@example.org"] = SUBSCRIBERS[n]
                sign_up(base, recorder, f"reader{n}@example.org", SUBSCRIBERS[n], form_statuses)

            # Nothing more is published: the worker catches up (a source tick, then delivery).
            caught_up = wait_for(lambda: not tally(recorder, addresses, items)[0]
                                 and rows(config, "SELECT count(*) FROM outbox o LEFT JOIN "
                                          "deliveries d ON d.id = o.delivery_id WHERE "
                                          "d.status IS NOT 'sent'")[0][0] == 0, CATCH_UP, 1.0)
            if (rss := vm_rss(workers[-1].proc.pid)) is not None:
                worker_rss[-1].append(rss)
            seconds = time.monotonic() - started
        finally:
            if poll is not None:
                poll.stop.set()
                poller.join(timeout=60)
            worker_code = workers[-1].stop() if workers else None
            web_code = web.stop() if web is not None else None
            relay.stop()

    lost, duplicated, unexpected = tally(recorder, addresses, items)
    with sqlite3.connect(instance / "tracker.db") as db:
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
        articles = db.execute("SELECT count(*) FROM articles").fetchone()[0]
        due = db.execute("SELECT count(*) FROM outbox").fetchone()[0]
        unsent = db.execute("SELECT count(*) FROM outbox o LEFT JOIN deliveries d ON "
                            "d.id = o.delivery_id WHERE d.status IS NOT 'sent'").fetchone()[0]
        active = db.execute("SELECT count(*) FROM subscriptions WHERE state = 'active'"
                            ).fetchone()[0]
    results = poll.results
    server_errors = [(p, s) for p, s, _ in results if s >= 500 and not (p == "/readyz" and s == 503)]
    unanswered = [p for p, s, _ in results if s == 0]
    latencies = sorted(t for _, _, t in results)
    p95 = latencies[int(0.95 * (len(latencies) - 1))] if latencies else 0.0
    # serve: the median just after a warm-up of the first 20% of samples, against the highest
    # of the last 20%
    cut = max(1, len(serve_rss) // 5)
    serve_base = statistics.median(serve_rss[cut:2 * cut] or serve_rss)
    serve_last = max(serve_rss[-cut:])
    peaks = [max(s) for s in worker_rss if s]
    restarted = peaks[1:]
    all_lines = [line for w in workers for line in w.lines] + web.lines
    tracebacks = sum("Traceback" in line for line in all_lines)
    resent = sum(int(m.group(1)) for line in all_lines
                 if (m := re.search(r"(\d+) deliveries (?:were interrupted|left half-sent)", line)))
    alert_mails = sum(len(alert_titles(recorder, a)) for a in addresses)
    figures = {
        "seconds (run + catch-up)": f"{SECONDS:.0f} + {seconds - SECONDS:.1f}",
        "items published (feeds + folder)": f"{len(items)} ({len(items) - pages} + {pages})",
        "items naming a theme": sum(bool(i.rules) for i in items),
        "articles stored": articles,
        "subscribers (active)": f"{len(addresses)} ({active})",
        "alerts due (outbox rows)": due,
        "alerts not sent at the end": unsent,
        "mails: alerts / all": f"{alert_mails} / {len(recorder.messages)}",
        "lost": len(lost),
        "duplicated (same Message-ID)": f"{len(duplicated)} ({sum(d[2] for d in duplicated)})",
        "deliveries resent after a kill": resent,
        "unexpected (not due)": len(unexpected),
        "SIGKILLs (workers started)": f"{kills} ({len(workers)})",
        "requests / 5xx / unanswered": f"{len(results)} / {len(server_errors)} / {len(unanswered)}",
        "readyz 503": sum(p == "/readyz" and s == 503 for p, s, _ in results),
        "form requests (statuses)": f"{len(form_statuses)} {dict(Counter(form_statuses))}",
        "p95 / max latency (s)": f"{p95:.3f} / {latencies[-1] if latencies else 0:.3f}",
        "serve RSS kB: after warm-up / last 20% max": f"{serve_base:.0f} / {serve_last} "
                                                      f"({100 * (serve_last / serve_base - 1):+.1f}%)",
        "worker RSS peaks kB": " ".join(map(str, peaks)),
        "tracebacks in logs": tracebacks,
        "exit codes worker / serve": f"{worker_code} / {web_code}",
        "integrity_check": integrity,
        "seed": SEED,
    }
    width = max(map(len, figures))
    print("\nsoak figures\n" + "\n".join(f"  {k:<{width}}  {v}" for k, v in figures.items()))

    assert caught_up, (lost[:20], workers[-1].lines[-40:])
    assert not lost, lost[:50]
    assert len(duplicated) <= kills, duplicated
    assert not unexpected, unexpected[:20]
    assert not server_errors and not unanswered, (server_errors[:20], unanswered[:20])
    assert all(s < 500 for s in form_statuses), form_statuses
    assert active == len(SUBSCRIBERS)
    assert serve_last <= 1.10 * serve_base, serve_rss
    assert all(peak <= 1.10 * restarted[0] for peak in restarted), peaks
    assert integrity == "ok"
    assert tracebacks == 0, [line for line in all_lines if "Traceback" in line]
    assert worker_code == 0, workers[-1].lines[-40:]
    assert web_code == 0, web.lines[-40:]
