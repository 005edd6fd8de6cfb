"""The worker's log on a healthy run, as an operator reads it: one line per source run and per
delivery batch, no WARNING, no line per HTTP request — and alerts that come in while a delivery
is under way are sent right after it, not at the next interval."""

from __future__ import annotations

from test_worker import ITEMS, source, wait_for, write_sources
from test_worker_deployed import PAGES, Process, drop_folder, environment, subscribe
from test_worker_deployed import relay  # noqa: F401 - the fixture
from builders import as_rss
from loopback import respond


def test_alerts_due_during_a_delivery_go_out_after_it_without_warnings(tmp_path, relay, site):  # noqa: F811
    port, recorder = relay
    instance = tmp_path / "instance"
    instance.mkdir()
    reader = "reader@example.org"
    recorder.hold_data.add(reader)  # the first delivery waits in DATA until released
    feed = respond(as_rss(ITEMS).encode(), "application/rss+xml")

    def after_the_first_delivery_started(handler) -> None:
        recorder.holding.wait(60)  # answers once that delivery is under way
        feed(handler)

    site.routes["/rss.xml"] = after_the_first_delivery_started
    folder = drop_folder(tmp_path, "drop", "2025-04-09_demo-daily_p1.txt")
    assert (PAGES / "2025-04-09_demo-daily_p1.txt").exists()
    write_sources(instance, [source("drop", path=str(folder), schedule='"0 3 * * *"'),
                             source("feed", url=f"{site.base}/rss.xml", schedule='"0 3 * * *"')])
    env = environment(instance, port, TRACKER_DELIVERY_INTERVAL="600")
    subscribe(env, reader)
    worker = Process(env, "worker")
    try:
        assert wait_for(lambda: worker.saw("source feed: ok"), 90), worker.lines
        recorder.hold_data.discard(reader)
        recorder.release.set()
        # the feed's alert: right after the held delivery, not 600 s later
        assert wait_for(lambda: len(recorder.received(reader)) == 2, 60), worker.lines
    finally:
        code = worker.stop()
    assert code == 0, worker.lines
    text = "".join(worker.lines)
    assert " WARNING " not in text and "maximum number of running instances" not in text, text
    assert "HTTP Request" not in text, text  # httpx's line per fetch: DEBUG only
    assert worker.saw("source drop: ok") and worker.saw("deliveries: 1 sent")
