"""Small inputs that become huge when read: each runs through the real worker (`tracker worker
--once`, a subprocess under a memory cap set in the child) or `tracker match`, from a server on
loopback or a drop folder, beside a plain source that must still be stored. Before, each one
exhausted the capped process (MemoryError, or pdfium aborting the whole worker); now each is a
named problem of its own source.

The inputs are built at test time (tests/hostile.py): a feed with an internal DTD subset behind a
prolog an XML parser calls malformed (150 KB, 1.9 GB expanded), a body gzipped twice (5 KB on the
wire, 2 GiB inflated), a PDF whose content stream inflates to 200 MB of text objects (300 KB).
"""

from __future__ import annotations

import gzip
import sqlite3
import subprocess
import zlib
from pathlib import Path

import pytest

from builders import as_rss, make_pdf
from hostile import MB, TRACKER, entity_feed, flate_pdf, gzip_bomb, run_worker, send, worker_env
from tracker.config import DEFAULTS
from tracker.documents import InputError
from tracker.sources import read

REPO = Path(__file__).resolve().parents[1]
CAP = 1 << 30  # the worker's address space: a plain cycle runs in under 400 MB
PLAIN = as_rss([{"title": "工业用地“标准地”出让提速", "link": "http://example.cn/1",
                 "description": "本报讯 开发区今年出让标准地12宗。"}]).encode()


def sources(instance: Path, **locations: str) -> None:
    """sources.yaml: a feed per `name=url`, a drop folder per `name=/path`."""
    lines = ["sources:"]
    for name, where in locations.items():
        kind = "path" if where.startswith("/") else "url"
        lines += [f"  - id: {name}", f"    name: {name}", f"    {kind}: {where}"]
    (instance / "sources.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def runs(instance: Path) -> dict[str, tuple[str, str | None]]:
    with sqlite3.connect(instance / "tracker.db") as db:
        return {s: (status, error) for s, status, error in
                db.execute("SELECT source_id, status, error FROM runs")}


def titles(instance: Path, source: str) -> list[str]:
    with sqlite3.connect(instance / "tracker.db") as db:
        return [t for (t,) in db.execute("SELECT title FROM articles WHERE source_id = ?", (source,))]


def cycle(instance: Path):
    done = run_worker(worker_env(instance, REPO / "rules"), CAP, timeout=120)
    assert not done.killed_for_time, done.output[-2000:]
    assert done.returncode == 1, done.output[-2000:]  # 1: some source failed, and it said so
    return done


def test_a_feed_with_an_internal_subset_behind_a_malformed_prolog_is_refused(site, instance):
    site.routes["/bomb.xml"] = send(entity_feed(), "application/rss+xml")
    site.routes["/plain.xml"] = send(PLAIN, "application/rss+xml")
    sources(instance, bomb=f"{site.base}/bomb.xml", plain=f"{site.base}/plain.xml")
    cycle(instance)
    found = runs(instance)
    assert found["bomb"] == ("error", f"{site.base}/bomb.xml: feed declares XML entities; refused")
    assert found["plain"] == ("ok", None)
    assert titles(instance, "plain") == ["工业用地“标准地”出让提速"]


def test_internal_subsets_are_refused_whatever_the_prolog(tmp_path):
    """Before any parser: a DOCTYPE with `[`, in any case, with quoted ids holding `>`, or a
    lone entity declaration; an external DOCTYPE or one without a subset still reads."""
    feed = as_rss([{"title": "标准地", "description": "出让标准地。"}])
    refused = [
        feed.replace("<rss", '<!-- a -- b -->\n<!DOCTYPE rss [<!ENTITY a "b">]>\n<rss', 1),
        feed.replace("<rss", '<!doctype rss PUBLIC "x>y" "z" [ <!attlist a b CDATA "c"> ]><rss', 1),
        feed.replace("<rss", '<?xml-stylesheet href="a"?>\n<!ENTITY a "b">\n<rss', 1),
    ]
    for number, text in enumerate(refused):
        path = tmp_path / f"refused{number}.xml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(InputError) as caught:
            read(str(path), DEFAULTS)
        assert caught.value.problem == "feed declares XML entities; refused", text[:120]
    fine = tmp_path / "fine.xml"
    fine.write_text(feed.replace("<rss", '<!DOCTYPE rss PUBLIC "-//Netscape//DTD RSS 0.91//EN" '
                                 '"http://example.cn/rss.dtd">\n<rss', 1), encoding="utf-8")
    assert [d.title for d in read(str(fine), DEFAULTS)] == ["标准地"]


def test_a_body_compressed_twice_is_refused_before_it_is_inflated(site, instance):
    bomb = gzip_bomb()
    assert len(bomb) < 8 << 10
    site.routes["/bomb.xml"] = send(bomb, "application/rss+xml", Content_Encoding="gzip, gzip")
    site.routes["/plain.xml"] = send(gzip.compress(PLAIN), "application/rss+xml",
                                     Content_Encoding="gzip")
    sources(instance, bomb=f"{site.base}/bomb.xml", plain=f"{site.base}/plain.xml")
    cycle(instance)
    found = runs(instance)
    assert found["bomb"] == ("error", f"{site.base}/bomb.xml: is compressed more than once "
                                      "(Content-Encoding: gzip, gzip); refused")
    assert found["plain"] == ("ok", None)
    assert titles(instance, "plain") == ["工业用地“标准地”出让提速"]


def test_one_coding_is_inflated_step_by_step_up_to_the_limit(site):
    """A single gzip layer of 1 GiB (1 MB on the wire) stops at the document limit; gzip,
    deflate (zlib or raw) and x-gzip bodies read; a coding not asked for is refused."""
    text = "本报讯 标准地出让提速。".encode()
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw = deflate.compress(text) + deflate.flush()
    site.routes.update({
        "/gzip.txt": send(gzip.compress(text), "text/plain; charset=utf-8", Content_Encoding="gzip"),
        "/x-gzip.txt": send(gzip.compress(text), "text/plain; charset=utf-8", Content_Encoding="x-gzip"),
        "/zlib.txt": send(zlib.compress(text), "text/plain; charset=utf-8", Content_Encoding="deflate"),
        "/raw.txt": send(raw, "text/plain; charset=utf-8", Content_Encoding="deflate"),
        "/identity.txt": send(text, "text/plain; charset=utf-8", Content_Encoding="identity"),
        "/br.txt": send(text, "text/plain; charset=utf-8", Content_Encoding="br"),
        "/big.txt": send(gzip.decompress(gzip_bomb(1 << 30)), "text/plain; charset=utf-8",
                         Content_Encoding="gzip"),
    })
    for name in ("gzip", "x-gzip", "zlib", "raw", "identity"):
        [document] = read(f"{site.base}/{name}.txt", DEFAULTS)
        assert document.text == text.decode(), name
    with pytest.raises(InputError) as caught:
        read(f"{site.base}/br.txt", DEFAULTS)
    assert caught.value.problem == "uses a content coding not asked for (br); refused"
    config = {**DEFAULTS, "MAX_DOCUMENT_BYTES": 4 * MB}
    with pytest.raises(InputError) as caught:
        read(f"{site.base}/big.txt", config)
    assert "is larger than the 4,194,304-byte limit" in caught.value.problem


def test_a_pdf_that_inflates_to_hundreds_of_mb_is_a_problem_of_its_own_file(tmp_path, instance):
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "2025-04-09_bomb_p1.pdf").write_bytes(flate_pdf())
    (drop / "2025-04-09_plain_p2.pdf").write_bytes(make_pdf([["工业用地标准地出让提速"]]))
    (drop / "2025-04-09_plain_p3.txt").write_text("本报讯 开发区出让标准地12宗。", encoding="utf-8")
    sources(instance, drop=str(drop))
    done = run_worker(worker_env(instance, REPO / "rules"), CAP, timeout=120)
    assert done.returncode == 0 and not done.killed_for_time, done.output[-2000:]
    status, error = runs(instance)["drop"]
    assert status == "partial"
    assert error == (f"{drop}/2025-04-09_bomb_p1.pdf: PDF cannot be read within 256 MB "
                     "(PDF_MAX_MEMORY): the reader stopped (SIGABRT); not read")
    with sqlite3.connect(instance / "tracker.db") as db:
        stored = {page: text for page, text in
                  db.execute("SELECT page, coalesce(title, '') || text FROM articles "
                             "WHERE source_id = 'drop'")}
        seen = dict(db.execute("SELECT path, error FROM files"))
    assert "工业用地标准地出让提速" in stored["2"] and "开发区出让标准地12宗" in stored["3"]
    assert "1" not in stored and seen["2025-04-09_bomb_p1.pdf"].startswith("PDF cannot be read")


def test_a_pdf_bomb_over_http_is_named_and_the_other_inputs_are_matched(site, tmp_path):
    site.routes["/bomb.pdf"] = send(flate_pdf(), "application/pdf")
    site.routes["/page.txt"] = send("本报讯 开发区出让标准地12宗。".encode(), "text/plain; charset=utf-8")
    env = worker_env(tmp_path / "instance", REPO / "rules")

    def capped() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (CAP, CAP))

    done = subprocess.run([str(TRACKER), "match", "-j", "1", f"{site.base}/bomb.pdf",
                           f"{site.base}/page.txt"], env=env, capture_output=True, text=True,
                          timeout=120, preexec_fn=capped)
    assert done.returncode == 1, done.stderr
    assert (f"tracker: {site.base}/bomb.pdf: PDF cannot be read within 256 MB (PDF_MAX_MEMORY): "
            "the reader stopped (SIGABRT); not read") in done.stderr
    assert "【标准地】" in done.stdout


def test_a_slow_pdf_is_stopped_at_its_time_limit(tmp_path):
    """The time limit, on its own: a PDF that needs more than PDF_TIMEOUT (here 0.5 s; the
    inflating bomb given room to take its time) is named, and the reader is gone."""
    path = tmp_path / "slow.pdf"
    path.write_bytes(flate_pdf())
    config = {**DEFAULTS, "PDF_MAX_MEMORY": 8 << 30, "PDF_TIMEOUT": 0.5}
    with pytest.raises(InputError) as caught:
        read(str(path), config)
    assert caught.value.problem == "PDF takes longer than 0.5 s to read (PDF_TIMEOUT); not read"
