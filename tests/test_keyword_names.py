"""A keyword's display name travels from the rule file to the hit, the alert mail (a real SMTP
server on loopback), the webhook's JSON (a real HTTP receiver on loopback), the archive's
article page and the API."""

from __future__ import annotations

import email
import json
import socket
from email import policy

from loopback import respond, serve
from smtp_loopback import LoopbackController, Recorder
from tracker.alerts.subscribe import subscribe
from tracker.config import load_config
from tracker.store import connect
from tracker.worker.service import Worker

RULE = """\
id: lvdian
name: 绿电
keywords:
  - {term: 绿电, name: 绿色电力}
  - 光伏
  - {regex: '储能(电站|项目)', name: 储能设施}
"""
PAGE = "本报讯 甲市绿电交易规模扩大，储能电站并网发电。乙县光伏装机增长。\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_display_names_reach_the_mail_and_the_archive(tmp_path):
    instance, drop, rules = tmp_path / "instance", tmp_path / "drop", tmp_path / "rules"
    for folder in (instance, drop, rules):
        folder.mkdir()
    (rules / "lvdian.yaml").write_text(RULE, encoding="utf-8")
    (instance / "sources.yaml").write_text(
        f"sources:\n  - id: drop\n    name: 演示日报\n    path: {drop}\n", encoding="utf-8")
    config = load_config({"INSTANCE_PATH": str(instance), "RULES": str(rules),
                          "FOLDER_SETTLE_SECONDS": 0, "SMTP_HOST": "127.0.0.1",
                          "SMTP_PORT": free_port(), "SMTP_SECURITY": "none", "SMTP_TIMEOUT": 5,
                          "BASE_URL": "https://tracker.example.org",
                          "WEBHOOK_ALLOW_PRIVATE": True, "API_TOKEN": "t0ken"}, environ={})
    db = connect(instance / "tracker.db")
    subscribe(db, config, "email", "li@example.org", ["lvdian"], ["lvdian"], "instant",
              confirmed=True, admin=True)
    (drop / "2025-04-09_p1.txt").write_text(PAGE, encoding="utf-8")
    recorder = Recorder()
    controller = LoopbackController(recorder, hostname="127.0.0.1", port=config["SMTP_PORT"],
                                    ready_timeout=10, auth_require_tls=False)
    posted: list[bytes] = []

    def hook(handler) -> None:
        posted.append(handler.rfile.read(int(handler.headers.get("Content-Length", 0))))
        respond(b"ok", "text/plain")(handler)

    controller.start()
    try:
        with serve() as site:
            site.routes["/hook"] = hook
            subscribe(db, config, "webhook", site.base + "/hook", ["lvdian"], ["lvdian"],
                      "instant", confirmed=True, admin=True)
            Worker(config).once()
    finally:
        controller.stop()
    (body,) = posted
    (article,) = json.loads(body)["data"]["articles"]
    assert article["keyword_names"] == ["绿色电力", "储能设施"]
    (raw,) = recorder.received("li@example.org")
    message = email.message_from_bytes(raw.data, policy=policy.default)
    text = message.get_body(("plain",)).get_content()
    assert "关键词：绿色电力、储能设施" in text  # 光伏 has no name: its snippet speaks for it
    assert "关键词：绿色电力、储能设施" in message.get_body(("html",)).get_content()

    from tracker.web import create_app

    app = create_app({"TESTING": True, "INSTANCE_PATH": str(instance), "RULES": str(rules),
                      "API_TOKEN": "t0ken"})
    (article_id,) = db.execute("SELECT article_id FROM hits").fetchone()
    html = app.test_client().get(f"/articles/{article_id}").get_data(as_text=True)
    # The three hits share one sentence, shown once with the names of its keywords.
    assert "（绿色电力、储能设施）" in html
    assert html.count('class="hint keyword-name"') == 1
    api = app.test_client().get(f"/api/articles/{article_id}",
                                headers={"Authorization": "Bearer t0ken"}).get_json()
    (rule,) = api["article"]["hits"]
    assert {h["keyword"]: h["name"] for h in rule["hits"]} == \
        {"绿电": "绿色电力", "光伏": None, "/储能(电站|项目)/": "储能设施"}
