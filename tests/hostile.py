"""Hostile inputs, built at run time (small on the wire or on disk, huge once read), and the real
worker run on them as a subprocess under a memory cap. Shared by tests/test_security_bombs.py and
bench/hostile_bench.py.

- `entity_feed`: an RSS feed whose prolog makes an XML parser give up before the DOCTYPE (a
  comment holding `--`) and whose internal subset declares one long entity, referenced
  thousands of times: a lenient parser that expands it makes gigabytes of it.
- `gzip_bomb`: a body compressed twice (`Content-Encoding: gzip, gzip`): a few KB on the wire.
- `flate_pdf`: a one-page PDF whose content stream (zeros, Flate-compressed) inflates to
  hundreds of MB.
"""

from __future__ import annotations

import gzip
import os
import resource
import signal
import struct
import subprocess
import sys
import threading
import zlib
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Callable

TRACKER = Path(sys.executable).parent / "tracker"
MB = 1 << 20


def entity_feed(value_bytes: int = 75_000, references: int = 25_000) -> bytes:
    """~75 KB + 3 bytes a reference; expanded: value_bytes × references (1.9 GB by default)."""
    head = ('<?xml version="1.0" encoding="utf-8"?>\n<!-- made -- by hand -->\n'
            '<!DOCTYPE rss [\n<!ENTITY a "' + "哈" * (value_bytes // 3) + '">\n]>\n')
    body = ('<rss version="2.0"><channel><title>笑</title><item><title>标准地</title>'
            '<link>http://example.cn/a</link><description>' + "&a;" * references
            + "</description></item></channel></rss>")
    return (head + body).encode("utf-8")


def gzip_bomb(inflated: int = 2 << 30) -> bytes:
    """A text body of a line and then `inflated` bytes of spaces, gzip-compressed, and that gzip
    compressed again (`Content-Encoding: gzip, gzip`): ~3.5 KB for 2 GiB. Deflate's output for
    each further MiB of spaces is the same bytes once it runs steady, so the inner stream is
    made from one MiB's output repeated (milliseconds, not seconds of compressing)."""
    line = "本报讯 标准地出让提速。\n".encode()
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = b" " * MB
    first = deflate.compress(line) + deflate.flush(zlib.Z_SYNC_FLUSH)
    warm = [deflate.compress(block) + deflate.flush(zlib.Z_SYNC_FLUSH) for _ in range(3)]
    assert warm[1] == warm[2], "deflate did not run steady"
    blocks = inflated // MB
    tail = deflate.compress(block) + deflate.flush()  # the last MiB, ending the stream
    crc = zlib.crc32(line)
    for _ in range(blocks):
        crc = zlib.crc32(block, crc)
    size = len(line) + blocks * MB
    inner = b"".join([b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff", first, warm[0], warm[1],
                      warm[2] * (blocks - 3), tail, struct.pack("<II", crc, size & 0xFFFFFFFF)])
    return gzip.compress(inner, 9)


def flate_pdf(inflated: int = 200 * MB) -> bytes:
    """A valid one-page PDF whose page content stream is `inflated` bytes, Flate-compressed to a
    few hundred KB: one text object, then the same short text shown again and again (each a
    text object to pdfium: gigabytes of them)."""
    stream = zlib.compressobj(9)
    text = b"BT /F1 12 Tf 72 720 Td (hello) Tj "
    content = stream.compress(text)
    block = b"(a) Tj " * (MB // 7)
    for _ in range((inflated - len(text)) // len(block)):
        content += stream.compress(block)
    content += stream.compress(b" ET\n") + stream.flush()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def send(body: bytes, content_type: str, **headers: str) -> Callable[[BaseHTTPRequestHandler], None]:
    """A loopback route answering `body` as it is, with extra headers (Content-Encoding…)."""
    def handle(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            handler.send_header(key.replace("_", "-"), value)
        handler.end_headers()
        try:
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass
    return handle


@dataclass
class Run:
    """A finished `tracker worker --once`: exit code, output, peak resident memory (the worker
    and any child of it it waited for), wall time."""

    returncode: int
    output: str
    peak_rss: int  # bytes
    seconds: float
    killed_for_time: bool = False


def worker_env(instance: Path, rules: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")
           and k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    return {**env, "TRACKER_INSTANCE": str(instance), "TRACKER_RULES": str(rules),
            "TRACKER_FOLDER_SETTLE_SECONDS": "0", "TRACKER_LOG_LEVEL": "INFO", **extra}


def run_worker(env: dict[str, str], memory_cap: int | None, timeout: float = 180) -> Run:
    """`tracker worker --once` under RLIMIT_AS = `memory_cap` (set in the child), killed after
    `timeout` seconds. The peak is the kernel's (wait4's ru_maxrss)."""
    import time

    def cap() -> None:
        if memory_cap:
            resource.setrlimit(resource.RLIMIT_AS, (memory_cap, memory_cap))

    start = time.monotonic()
    proc = subprocess.Popen([str(TRACKER), "worker", "--once"], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, preexec_fn=cap)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    late = threading.Event()

    def kill() -> None:
        late.set()
        os.kill(proc.pid, signal.SIGKILL)

    timer = threading.Timer(timeout, kill)
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    reader.join(timeout=30)
    return Run(proc.returncode, "".join(lines), usage.ru_maxrss * 1024,
               time.monotonic() - start, late.is_set())
