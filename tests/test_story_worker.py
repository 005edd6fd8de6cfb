"""The deployed worker (`tracker worker`, a process of its own, killed with SIGKILL in between)
sends a subscriber one alert for a story, however many papers reprint it and whenever they come
in: the second paper's copy joins the story and is not sent."""

from __future__ import annotations

import email
import signal
from email import policy
from pathlib import Path

from reprints import reprints, seed_article
from test_worker import rows, source, wait_for, write_sources
import test_worker_deployed
from test_worker_deployed import Process, environment, subscribe


relay = test_worker_deployed.relay  # an aiosmtpd relay on loopback


def page(folder: Path, name: str, title: str, text: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(f"{title}\n\n{text}\n", encoding="utf-8")


def test_a_reprint_read_after_a_crash_is_not_sent_again(tmp_path, relay, seed_texts):
    port, recorder = relay
    instance = tmp_path / "instance"
    instance.mkdir()
    config = {"INSTANCE_PATH": str(instance)}
    env = environment(instance, port)
    original = seed_article(seed_texts, "002", "我市加快推动专业镇")
    first, second = tmp_path / "sxrb", tmp_path / "jzrb"
    page(first, "2025-04-09_p1.txt", original.title, original.text)
    second.mkdir()
    write_sources(instance, [source("sxrb", path=str(first), schedule='"* * * * *"'),
                             source("jzrb", path=str(second), schedule='"* * * * *"')])
    subscribe(env, "reader@example.org")
    worker = Process(env, "worker")
    try:
        assert wait_for(lambda: recorder.received("reader@example.org"), 90), worker.lines
    finally:
        worker.proc.send_signal(signal.SIGKILL)  # a crash, not a clean stop
        worker.stop()

    title, text = reprints(original)[3]
    page(second, "2025-04-10_p2.txt", title, text)
    worker = Process(env, "worker")
    try:
        assert wait_for(lambda: rows(config, "SELECT count(*) FROM articles WHERE source_id = "
                                     "'jzrb'")[0][0] > 0, 90), worker.lines
        assert wait_for(lambda: worker.saw("source jzrb: ok"), 30), worker.lines
        # The outbox is written in the ingest's transaction: nothing more is queued, and one
        # delivery interval (2 s) more sends nothing either.
        assert rows(config, "SELECT count(*) FROM outbox") == [(1,)]
        assert not wait_for(lambda: len(recorder.received("reader@example.org")) > 1, 3)
    finally:
        assert worker.stop() == 0, worker.lines
    assert rows(config, "SELECT count(DISTINCT story_id), count(*) FROM articles") == [(1, 2)]
    assert rows(config, "SELECT count(*) FROM outbox") == [(1,)]
    (alert,) = [email.message_from_bytes(m.data, policy=policy.default)
                for m in recorder.received("reader@example.org")]
    assert "专业镇" in str(alert["Subject"])
