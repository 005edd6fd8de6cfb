"""`tracker demo` (what `make run` does): a fresh instance gets demo data, and the web app and
the worker come up together."""

import email
import os
from email import policy
import socket
import subprocess
import sys
import re
import threading
import urllib.parse
import urllib.request

from test_worker import wait_for


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 - loopback only
            return answer.status, answer.read().decode("utf-8")
    except OSError:
        return 0, ""


def test_demo_brings_up_the_web_app_and_the_worker_on_a_fresh_instance(tmp_path):
    port = free_port()
    env = {**os.environ, "TRACKER_INSTANCE": str(tmp_path / "instance")}
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        env.pop(name, None)
    demo = subprocess.Popen([sys.executable, "-m", "tracker", "demo", "--port", str(port)],
                            env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(demo.stdout), daemon=True)
    reader.start()
    try:
        assert wait_for(lambda: get(f"http://127.0.0.1:{port}/healthz")[0] == 200, timeout=90), lines
        status, body = get(f"http://127.0.0.1:{port}/healthz")
        assert '"status":"ok"' in body.replace(" ", "")
        # The long-running worker (not --once) fetches the demo source at its start: twelve weeks
        # of the demo paper.
        assert wait_for(lambda: any(re.search(r"source demo: ok, (\d+) articles, \1 new", line)
                                    for line in lines), 90), lines
        (n,) = [m.group(1) for line in lines
                if (m := re.search(r"source demo: ok, (\d+) articles, \1 new", line))]
        assert int(n) >= 90, lines
        # Dated from today: the trends have this week and the ones before, the archive opens
        # with the latest articles.
        trends = get(f"http://127.0.0.1:{port}/trends")[1]
        assert "近 12 周还没有文章命中任何主题" not in trends
        assert trends.count('class="sparkline"') >= 4
        assert "最新文章" in get(f"http://127.0.0.1:{port}/articles")[1]
        assert (tmp_path / "instance" / "sources.yaml").exists()
        assert wait_for(lambda: any("worker " in line and "started" in line for line in lines), 60)
        assert get(f"http://127.0.0.1:{port}/subscribe")[0] == 200

        # A newcomer: subscribe, find the confirmation in the mailbox, confirm, get the alert.
        base = f"http://127.0.0.1:{port}"
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                          browser.open(f"{base}/subscribe").read().decode()).group(1)
        form = urllib.parse.urlencode({"csrf_token": token, "channel": "email",
                                       "email": "new@example.org", "rules": "zhuanyezhen",
                                       "frequency": "instant"}).encode()
        answer = browser.open(f"{base}/subscribe", data=form)
        assert answer.status == 200
        assert 'href="/mailbox/"' in answer.read().decode()  # where the demo's mail goes
        mailbox = tmp_path / "instance" / "mailbox"
        assert wait_for(lambda: list(mailbox.glob("*.eml")), timeout=30)
        mail = email.message_from_bytes(next(mailbox.glob("*.eml")).read_bytes(), policy=policy.default)
        link = re.search(r"/confirm/[\w.-]+", mail.get_body(("plain",)).get_content()).group(0)
        page = browser.open(base + link).read().decode()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        browser.open(base + link, data=urllib.parse.urlencode({"csrf_token": token}).encode())
        assert wait_for(lambda: len(list(mailbox.glob("*.eml"))) == 2, timeout=60), \
            "the first alert came within a minute"
        listing = browser.open(f"{base}/mailbox/").read().decode()
        assert "专业镇" in listing  # the alert's subject, in the mailbox page
    finally:
        demo.terminate()  # SIGTERM, as systemd or docker stop would
        code = demo.wait(timeout=90)
    reader.join(timeout=10)
    assert code == 0
    # Its worker child stopped too (and released the lock): no process left behind.
    (holder,) = {m.group(1) for m in map(re.compile(r"worker (\S+:\d+) started").search, lines) if m}
    pid = int(holder.rsplit(":", 1)[1])
    assert wait_for(lambda: not alive(pid), 30), f"worker {pid} still runs"
    assert any("worker stopped" in line for line in lines)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_demo_in_a_folder_without_rules_brings_its_own_and_ctrl_c_stops_it(tmp_path):
    # Started from a folder with no rules/ (not the checkout), as a background job of a shell
    # (SIGINT ignored): it still matches, the admin's editor works on a copy in the instance,
    # and Ctrl-C (SIGINT) stops the web app and the worker.
    import signal

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env["TRACKER_INSTANCE"] = str(tmp_path / "instance")
    demo = subprocess.Popen([sys.executable, "-m", "tracker", "demo", "--port", str(port)],
                            env=env, cwd=tmp_path, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(demo.stdout), daemon=True)
    reader.start()
    try:
        hits = re.compile(r"source demo: ok, \d+ articles, \d+ new, ([1-9]\d*) hits")
        assert wait_for(lambda: any(hits.search(line) for line in lines), 90), lines
        assert not any("broken" in line or "NO RULES" in line for line in lines), lines
        copied = sorted(p.name for p in (tmp_path / "instance" / "rules").glob("*.yaml"))
        assert "zhuanyezhen.yaml" in copied and not (tmp_path / "rules").exists()
        assert wait_for(lambda: any("worker " in line and "started" in line for line in lines), 60)
        demo.send_signal(signal.SIGINT)
        code = demo.wait(timeout=90)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait(timeout=30)
    reader.join(timeout=10)
    assert code == 0, lines
    (holder,) = {m.group(1) for m in map(re.compile(r"worker (\S+:\d+) started").search, lines) if m}
    assert wait_for(lambda: not alive(int(holder.rsplit(":", 1)[1])), 30)
