"""`tracker worker` as production runs it, started, SIGKILLed and started again, with four
sources firing at every start and thirty rules with a subscriber each: every article gets its
hits and every subscriber the alerts of their rule.

At a start every source's job fires in the same second, each on its own thread. Before the rule
book held a lock, the first thread loaded the rules while the others were told "unchanged, no
rules" and stored their articles with no hits at all (and their files as read: never matched
again): about three sources in four at every start, silently."""

from __future__ import annotations

import email
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


# What each article is about besides its themes, our own words: sixteen different stories (the
# themes' sentences alone would make them reprints of one story, which is sent once).
NEWS = [
    "杏林镇的法兰车间里机床轰鸣，新投产的数控生产线让订单交付时间缩短了一半，工人们正忙着装箱发货。",
    "石桥村的合作社把晾晒场改成了冷库，蔬菜采摘后两小时内就能入库保鲜，销往省城的菜价比往年高出两成。",
    "青山县图书馆开设了夜间阅读区，每晚九点前都有志愿者值守，周末还为中小学生举办手工和科普活动。",
    "柳河大桥维修工程提前半个月完工，桥面拓宽后通行能力提高了三成，早晚高峰不再排起长队。",
    "东溪中学的物理兴趣小组用废旧零件做出了小型风力发电机，在全省青少年科技创新大赛上拿到一等奖。",
    "南塘湿地公园迎来了今年第一批越冬候鸟，观鸟爱好者在芦苇荡边架起长焦镜头，记录白鹭和灰鹤的身影。",
    "白水镇卫生院引进了远程会诊系统，村民在家门口就能请省城医院的专家看片子，少跑了不少冤枉路。",
    "槐荫社区的老年食堂开张一个月，每天中午供应两荤两素，八十岁以上老人用餐还能享受半价优惠。",
    "云岭林场的护林员骑着摩托巡山，一年走坏了三双胶鞋，他说只要山上不起火，再苦再累也值得。",
    "北湖渔港的渔民今年换上了北斗定位终端，出海时遇到大风天气，岸上的调度中心能第一时间发出预警。",
    "枣园村的红枣加工厂推出了枣夹核桃和枣片，包装设计请了美院学生帮忙，网店一个月卖出四万多单。",
    "松坡镇的快递驿站实现了村村通，村民网购的化肥和农具当天就能送到地头，退换货也不用再跑县城。",
    "演示市第一人民医院新建的儿科住院楼投入使用，病房里配了陪护床和游戏角，缓解了冬季就诊高峰的压力。",
    "河口古镇修缮后的戏台重新开唱，周边村里的老戏迷赶来听梆子戏，不少年轻人也举着手机录下了演出。",
    "高铁站前广场的公交换乘中心启用，十二条公交线路在这里首末站衔接，旅客出站后步行三分钟就能上车。",
    "山区小学的孩子们第一次上了线上英语课，屏幕那头的老师远在北京，课后还给每个孩子布置了口语作业。",
]


def write_article(folder: Path, start: int, number: int) -> str:
    """One page of one article, our own words; its title."""
    title = f"第{start + 1}次启动的第{number + 1}篇稿件"
    body = "".join(f"今年我省围绕{THEMES[t]}出台了第{number + 1}项新举措。" for t in themes_of(number))
    (folder / f"start{start}-article{number}.txt").write_text(
        f"{title}\n本报讯（记者 王文）{NEWS[number]}{body}各地将抓好落实。\n", encoding="utf-8")
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
    for address, title in wanted:  # in one message each subscriber received
        mails = [email.message_from_bytes(m.data, policy=policy.default)
                 for m in recorder.received(address)]
        ids = {m["Message-ID"] for m in mails
               if title in m.get_body(("plain",)).get_content()}
        # A kill can land while the relay holds a message it has not answered yet: that one
        # goes again with its own Message-ID (test_delivery_kill), one message to the reader.
        assert len(ids) == 1, (address, title, ids)
