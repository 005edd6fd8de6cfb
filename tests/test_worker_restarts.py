"""`tracker worker` as production runs it, started, SIGKILLed and started again, with four
sources firing at every start and thirty rules with a subscriber each: every article gets its
hits and every subscriber the alerts of their rule.

At a start every source's job fires in the same second, each on its own thread. Before the rule
book held a lock, the first thread loaded the rules while the others were told "unchanged, no
rules" and stored their articles with no hits at all (and their files as read: never matched
again): about three sources in four at every start, silently."""

from __future__ import annotations

import email
import random
import signal
from email import policy
from pathlib import Path

from test_worker import rows, source, wait_for, write_sources
from test_worker_deployed import Process, environment
from test_worker_deployed import relay  # noqa: F401 - the fixture
from tracker.alerts.subscribe import subscribe
from tracker.store import connect

THEMES = ["专业镇", "标准地", "绿电", "营商环境", "招商引资", "乡村振兴", "新能源", "数字经济",
          "低空经济", "氢能", "储能", "光伏", "风电", "煤层气", "文旅融合", "康养产业", "中试基地",
          "专精特新", "产业链", "开发区", "承诺制", "首台套", "算力", "数据要素", "碳达峰", "节水",
          "高标准农田", "县域经济", "民营经济", "人才引进"]
SOURCES = 4
STARTS = 4  # three SIGKILLs, then a start that is left to finish


def write_rules(folder: Path) -> None:
    folder.mkdir()
    for n, theme in enumerate(THEMES):
        (folder / f"r{n:02}.yaml").write_text(
            f"id: r{n:02}\nname: {theme}\nkeywords: [{theme}]\nmatch: substring\n",
            encoding="utf-8")


def themes_of(number: int) -> list[int]:
    """The rules article `number` (0–15) is written to fire: together they cover all thirty."""
    return sorted({number * 2 % 30, (number * 2 + 1) % 30, (number + 17) % 30})


# Characters of no theme, for text of our own that makes each article a story of its own (the
# same template with other numbers would be one story told sixteen times).
FILLER = "".join(sorted(set("的一是在不了有和人这中大为上个我以要他时来用们生到作于出就分对成会可主发年"
                            "动同也能下过子说种面而方后多定行学法所民得经十三之进着等部度家里如水化高自"
                            "二理起小物现实加量都两体制机当使点从本去把性好开它合还因由其些然前外天政四日"
                            "那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命"
                            "此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位")
                 - set("".join(THEMES))))


def write_article(folder: Path, start: int, number: int) -> str:
    """One page of one article, our own words; its title."""
    title = f"第{start + 1}次启动的第{number + 1}篇稿件"
    body = "".join(f"今年我省围绕{THEMES[t]}出台了第{number + 1}项新举措。" for t in themes_of(number))
    draw = random.Random(start * 100 + number)
    own = "。".join("".join(draw.choice(FILLER) for _ in range(20)) for _ in range(6))
    (folder / f"start{start}-article{number}.txt").write_text(
        f"{title}\n本报讯（记者 王文）{body}{own}。各地将抓好落实。\n", encoding="utf-8")
    return title


def test_no_alert_is_lost_when_the_worker_is_killed_while_sources_start(tmp_path, relay):  # noqa: F811
    port, recorder = relay
    instance = tmp_path / "instance"
    instance.mkdir()
    write_rules(tmp_path / "rules")
    env = environment(instance, port, TRACKER_RULES=str(tmp_path / "rules"))
    folders = [tmp_path / f"drop{s}" for s in range(SOURCES)]
    for folder in folders:
        folder.mkdir()
    write_sources(instance, [source(f"drop{s}", path=str(folders[s]), schedule='"0 3 * * *"')
                             for s in range(SOURCES)])
    config = {"INSTANCE_PATH": str(instance)}
    db = connect(instance / "tracker.db")
    known = [f"r{n:02}" for n in range(len(THEMES))]
    for n in known:
        subscribe(db, {}, "email", f"reader{n}@example.org", [n], known, confirmed=True,
                  admin=True)
    db.conn.close()

    expected: dict[str, list[int]] = {}  # title -> rules
    for start in range(STARTS):
        for s, folder in enumerate(folders):
            number = start * SOURCES + s
            expected[write_article(folder, start, number)] = themes_of(number)
        worker = Process(env, "worker")
        try:
            assert wait_for(lambda: rows(config, "SELECT count(*) FROM articles")[0][0]
                            == len(expected), 90), worker.lines
            assert wait_for(lambda w=worker: all(w.saw(f"source drop{s}: ok")
                                                 for s in range(SOURCES)), 30), worker.lines
            if start < STARTS - 1:
                worker.proc.send_signal(signal.SIGKILL)
                worker.proc.wait(timeout=30)
                continue
            # the last start: every alert due is sent
            assert wait_for(lambda: rows(config, "SELECT count(*) FROM outbox o LEFT JOIN "
                                         "deliveries d ON d.id = o.delivery_id WHERE "
                                         "d.status IS NOT 'sent'")[0][0] == 0
                            and rows(config, "SELECT count(*) FROM outbox")[0][0] > 0,
                            90), worker.lines
        finally:
            code = worker.stop()
    assert code == 0, worker.lines

    hits = rows(config, "SELECT a.title, h.rule_id FROM hits h JOIN articles a ON "
                        "a.id = h.article_id")
    assert sorted(hits) == sorted((title, f"r{n:02}") for title, numbers in expected.items()
                                  for n in numbers)
    due = rows(config, "SELECT s.address, a.title FROM outbox o JOIN subscriptions s ON "
                       "s.id = o.subscription_id JOIN articles a ON a.id = o.article_id")
    wanted = sorted((f"reader{'r%02d' % n}@example.org", title)
                    for title, numbers in expected.items() for n in numbers)
    assert sorted(due) == wanted
    for address, title in wanted:  # in the mail each subscriber received, once
        mails = [email.message_from_bytes(m.data, policy=policy.default)
                 for m in recorder.received(address)]
        bodies = [m.get_body(("plain",)).get_content() for m in mails]
        assert sum(title in body for body in bodies) == 1, (address, title)
