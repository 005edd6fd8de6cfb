"""Attacks through own keywords (the words a subscriber adds to their subscription): the real
web app, worker and mail relay on loopback, and an archive as an earlier version left it.

What must hold: own keywords are matched for their subscriber alone, and only once that
subscriber has confirmed; no other subscriber is sent their hits, and the archive's pages
(articles, trends, search, the subscribe form) never show them, not even the `personal-<id>.yaml`
files and hits an earlier version left behind."""

from __future__ import annotations

import email
import re
import time
from email import policy
from pathlib import Path

from conftest import csrf_token
from test_security_fetch import PAGE, REPO, db_of, worker_config
from tracker.store import connect, transaction
from tracker.store.subscriptions import find_subscription
from tracker.worker.service import Worker


# ---- 5. own keywords: matched for their subscriber alone, once confirmed ------------------------

def test_own_keywords_are_matched_for_their_subscriber_only_once_confirmed(tmp_path, smtp):
    from tracker.web import create_app

    drop = tmp_path / "drop"
    drop.mkdir()
    mail = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp.port, "SMTP_SECURITY": "none",
            "SMTP_TIMEOUT": 5}
    config = worker_config(tmp_path, f"sources:\n  - id: drop\n    name: 演示日报\n    path: {drop}\n",
                           **mail)
    app = create_app({"TESTING": True, "INSTANCE_PATH": config["INSTANCE_PATH"],
                      "RULES": str(REPO / "rules"), "BASE_URL": "https://tracker.example.org",
                      "SUBSCRIBE_LIMIT": "1000 per hour", **mail})
    client = app.test_client()
    for address, keywords in (("own@example.com", "杏林镇 法兰车间"), ("other@example.com", "")):
        client.post("/subscribe", data={"csrf_token": csrf_token(client, "/subscribe"),
                                        "channel": "email", "email": address, "rules": "lvdian",
                                        "frequency": "instant", "keywords": keywords})
    own = find_subscription(db_of(config), "email", "own@example.com")
    other = find_subscription(db_of(config), "email", "other@example.com")

    (drop / "2025-04-09_first.txt").write_bytes(PAGE.read_bytes())  # holds 杏林镇, 法兰车间
    Worker(config).once()
    db = db_of(config)
    assert db.execute("SELECT count(*) FROM personal_hits").fetchone() == (0,)  # not confirmed
    assert db.execute("SELECT count(*) FROM outbox").fetchone() == (0,)

    deadline = time.monotonic() + 30  # confirmation mails are queued and sent apart from the request
    while time.monotonic() < deadline and not all(
            any("/confirm/" in m and _to(m, sub.address) for m in mails(smtp)) for sub in (own, other)):
        time.sleep(0.05)
    for sub in (own, other):  # both confirm, from their mail
        [link] = [re.search(r"https://tracker\.example\.org(/confirm/\S+)", m).group(1)
                  for m in mails(smtp) if m.count("/confirm/") and _to(m, sub.address)]
        client.post(link, data={"csrf_token": csrf_token(client, link)})
    before = len(smtp.recorder.messages)
    (drop / "2025-04-10_second.txt").write_text(
        "测试日报    2025年4月10日    第2版 经济\n\n杏林镇法兰车间扩建\n\n本报讯 杏林镇的法兰车间"
        "今年扩建，新增两条生产线。（测试稿件，内容虚构）\n", encoding="utf-8")
    Worker(config).once()

    db = db_of(config)
    rows = db.execute("SELECT subscription_id, rule_id FROM outbox").fetchall()
    assert rows and {s for s, _ in rows} == {own.id}  # the other subscriber gets nothing
    assert db.execute("SELECT count(*) FROM hits WHERE rule_id LIKE 'personal%'").fetchone() == (0,)
    sent = mails(smtp)[before:]
    assert [m for m in sent if _to(m, "own@example.com") and "自定义关键词" in m]
    assert not [m for m in sent if _to(m, "other@example.com")]
    for page in ("/articles", "/trends"):
        shown = client.get(page).get_data(as_text=True)
        assert "自定义" not in shown and "personal" not in shown


def mails(smtp) -> list[str]:
    out = []
    for m in smtp.recorder.messages:
        msg = email.message_from_bytes(m.data, policy=policy.default)
        body = msg.get_body(("plain",))
        out.append(f"To: {msg['To']}\n{msg['Subject']}\n{body.get_content() if body else ''}")
    return out


def _to(text: str, address: str) -> bool:
    return text.startswith(f"To: {address}")


# ---- own keywords left by earlier versions, before the worker has moved them --------------------

def test_own_keyword_files_and_hits_of_earlier_versions_never_show_in_the_archive(app, tmp_path):
    """An upgrade leaves `personal-<id>.yaml` in the rules folder and its hits in the archive
    until the worker's next cycle moves them (or for good, if the file was removed by hand):
    the web app, a process of its own, must not list them meanwhile."""
    import json
    import shutil
    from datetime import datetime, timezone

    rules = tmp_path / "rules"
    shutil.copytree(REPO / "rules", rules)
    (rules / "personal-7.yaml").write_text(
        "id: personal-7\nname: 自定义：私人词条乙\nkeywords: [买药加微信]\n", encoding="utf-8")
    app.config["RULES"] = str(rules)
    client = app.test_client()
    assert client.get("/healthz").status_code == 200  # the database is made
    db = connect(Path(app.config["INSTANCE_PATH"]) / app.config["DATABASE"])
    stamp = datetime.now(timezone.utc).isoformat()
    day = stamp[:10]
    with transaction(db):
        article = db["articles"].insert({
            "title": "某地专业镇买药加微信调查", "text": "专业镇发展。买药加微信的广告。",
            "content_hash": "h1", "first_seen": stamp, "issue_date": day}).last_pk
        for rule_id, name in (("personal-7", "自定义：私人词条乙"), ("zhuanyezhen", "专业镇")):
            db["hits"].insert({"article_id": article, "rule_id": rule_id, "rule_name": name,
                               "count": 1, "matched_at": stamp, "snippets": json.dumps(
                                   [{"keyword": "买药加微信", "field": "text", "offset": 0,
                                     "snippet": "【买药加微信】"}], ensure_ascii=False)})
    for url in ("/trends", "/articles", "/articles?q=专业镇", "/articles?rule=personal-7",
                f"/articles/{article}", "/subscribe"):
        page = client.get(url).get_data(as_text=True)
        assert "私人词条乙" not in page and "personal-7" not in page, url
