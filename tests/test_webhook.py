"""Webhook delivery against real receivers on loopback: signatures checked by the independent
`standardwebhooks` package, status handling, time limits, concurrency, and the address check at
send time. Names resolve through an injected resolver; every wait is bounded."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import email.utils
import json
import shutil
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterator

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from loopback import Site, respond, stream
from slow_peers import hung, trickled_headers
from tracker.alerts.model import Alert, AlertItem
from tracker.alerts.webhook.send import parse_retry_after, payload, send_webhooks
from tracker.alerts.webhook.sign import new_secret, sign

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
CONFIG = {"WEBHOOK_ALLOW_PRIVATE": True, "WEBHOOK_TIMEOUT": 10.0}


def make_alert(delivery_id: int = 1) -> Alert:
    items = (
        AlertItem(11, "new-energy", "新能源汽车", "推动新能源汽车产业高质量发展", "https://news.example/a/11",
                  "demo-daily", "演示日报", "2025-04-10", "第1版 要闻",
                  ("……推动【新能源汽车】产业高质量发展……", "……【新能源汽车】下乡……")),
        AlertItem(12, "chips", "集成电路", None, None, "demo-review", "演示评论", None, None,
                  ("……【集成电路】产业……",)),
        AlertItem(11, "chips", "集成电路", "推动新能源汽车产业高质量发展", "https://news.example/a/11",
                  "demo-daily", "演示日报", "2025-04-10", "第1版 要闻", ("……车规级【集成电路】……",)),
    )
    return Alert(delivery_id=delivery_id, subscription_id=7, frequency="daily",
                 created_at="2025-04-10T08:00:00Z", message_id=f"<d{delivery_id}@tracker.example>",
                 webhook_id=f"msg_2a8f{delivery_id:04d}", items=items,
                 manage_url="https://tracker.example/manage/tok", unsubscribe_url="https://tracker.example/u/tok")


@pytest.fixture
def receiver(site: Site) -> Site:
    """The shared loopback site: it answers POST through the same routes as GET."""
    return site


def record(calls: list, answers: list[tuple[int, dict[str, str]]] | None = None,
           body: bytes = b"ok") -> Callable[[BaseHTTPRequestHandler], None]:
    """A route that keeps (headers, body) of each request and answers the next of `answers`
    (status, headers), the last one repeating; 200 when none."""
    answers = list(answers or [(200, {})])

    def handle(handler: BaseHTTPRequestHandler) -> None:
        received = handler.rfile.read(int(handler.headers.get("Content-Length", 0)))
        calls.append(({key.lower(): value for key, value in handler.headers.items()}, received))
        status, headers = answers.pop(0) if len(answers) > 1 else answers[0]
        respond(body, "text/plain", status, headers)(handler)
    return handle


def send(site: Site, path: str, config: dict | None = None, alert: Alert | None = None, **kwargs):
    [result] = send_webhooks([(alert or make_alert(), site.base + path, SECRET)], config or CONFIG, **kwargs)
    return result


def test_delivery_is_signed_the_standard_webhooks_way(receiver: Site):
    calls: list = []
    receiver.routes["/hook"] = record(calls)
    alert = make_alert()
    before = int(time.time())
    result = send(receiver, "/hook", alert=alert)
    after = int(time.time())

    assert result.ok and result.status == 200 and result.delivery_id == alert.delivery_id
    assert result.extra["address"] == "127.0.0.1"
    [(headers, received)] = calls
    assert headers["webhook-id"] == alert.webhook_id
    assert before <= int(headers["webhook-timestamp"]) <= after
    assert headers["webhook-signature"].startswith("v1,")
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"].startswith("tracker/")
    assert headers["host"] == receiver.base.removeprefix("http://")
    # The independent implementation accepts it, and only with the right secret and bytes.
    assert Webhook(SECRET).verify(received, headers) == payload(alert)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(received, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(received.replace("新能源".encode(), "旧能源".encode()), headers)


def test_payload_shape(receiver: Site):
    calls: list = []
    receiver.routes["/hook"] = record(calls)
    assert send(receiver, "/hook").ok
    [(_, received)] = calls
    assert "【新能源汽车】".encode() in received  # UTF-8, not \\u escapes
    document = json.loads(received)
    assert document == {
        "type": "tracker.alert",
        "timestamp": "2025-04-10T08:00:00Z",
        "data": {
            "subscription": 7,
            "frequency": "daily",
            "rules": [{"id": "new-energy", "name": "新能源汽车"}, {"id": "chips", "name": "集成电路"}],
            "articles": [
                {"article_id": 11, "title": "推动新能源汽车产业高质量发展", "archive_url": None, "url": "https://news.example/a/11",
                 "source": "demo-daily", "source_name": "演示日报", "date": "2025-04-10",
                 "page": "第1版 要闻", "rule": "new-energy",
                 "snippets": ["……推动【新能源汽车】产业高质量发展……", "……【新能源汽车】下乡……"],
                 "keyword_names": [], "rules": ["new-energy"], "story_id": None, "first_appearance": None, "also_in": [], "fields": {}},
                {"article_id": 12, "title": None, "url": None, "archive_url": None, "source": "demo-review",
                 "source_name": "演示评论", "date": None, "page": None, "rule": "chips",
                 "snippets": ["……【集成电路】产业……"], "keyword_names": [], "rules": ["chips"], "story_id": None, "first_appearance": None, "also_in": [], "fields": {}},
                {"article_id": 11, "title": "推动新能源汽车产业高质量发展", "archive_url": None, "url": "https://news.example/a/11",
                 "source": "demo-daily", "source_name": "演示日报", "date": "2025-04-10",
                 "page": "第1版 要闻", "rule": "chips", "snippets": ["……车规级【集成电路】……"],
                 "keyword_names": [], "rules": ["chips"], "story_id": None, "first_appearance": None, "also_in": [], "fields": {}},
            ],
            "manage_url": "https://tracker.example/manage/tok",
        },
    }


def test_server_error_is_retried_with_the_same_webhook_id(receiver: Site):
    calls: list = []
    receiver.routes["/hook"] = record(calls, [(500, {}), (200, {})], body=b"database is down")
    alert = make_alert()
    first = send(receiver, "/hook", alert=alert)
    assert not first.ok and not first.permanent and not first.gone and first.status == 500
    assert "HTTP 500" in first.error and first.extra["response"] == "database is down"
    assert (first.code, first.fields) == ("server_error", {"status": 500})
    second = send(receiver, "/hook", alert=alert)
    assert second.ok and second.status == 200
    assert [headers["webhook-id"] for headers, _ in calls] == [alert.webhook_id] * 2
    for headers, received in calls:  # each attempt is signed for its own timestamp
        assert Webhook(SECRET).verify(received, headers) == payload(alert)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413, 422])
def test_client_errors_are_retryable(receiver: Site, status: int):
    """Standard Webhooks: retry on every failure. A receiver's 4xx is usually a deploy or a
    configuration its owner puts right; only 410 Gone ends the endpoint."""
    receiver.routes["/hook"] = record([], [(status, {})])
    result = send(receiver, "/hook")
    assert not result.ok and not result.permanent and not result.gone and result.status == status


def test_gone_disables_the_endpoint(receiver: Site):
    receiver.routes["/hook"] = record([], [(410, {})])
    result = send(receiver, "/hook")
    assert not result.ok and result.gone and result.permanent and result.status == 410


def test_too_many_requests_passes_on_retry_after(receiver: Site):
    receiver.routes["/slow-down"] = record([], [(429, {"Retry-After": "7"})])
    result = send(receiver, "/slow-down")
    assert not result.ok and not result.permanent and result.status == 429 and result.retry_after == 7

    when = email.utils.formatdate(time.time() + 120, usegmt=True)
    receiver.routes["/maintenance"] = record([], [(503, {"Retry-After": when})])
    result = send(receiver, "/maintenance")
    assert result.status == 503 and not result.permanent and 100 <= result.retry_after <= 121

    receiver.routes["/plain-500"] = record([], [(500, {"Retry-After": "7"})])
    assert send(receiver, "/plain-500").retry_after is None  # only 429 and 503 carry it


def test_parse_retry_after():
    now = 1_700_000_000.0
    assert parse_retry_after("7") == 7
    assert parse_retry_after(" 120 ") == 120
    assert parse_retry_after(email.utils.formatdate(now + 30, usegmt=True), now=now) == 30
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0
    assert parse_retry_after("9" * 40) == 7 * 24 * 3600  # absurd wishes are capped at a week
    for unreadable in (None, "", "soon", "-5", "1.5", "٧"):
        assert parse_retry_after(unreadable) is None


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirects_are_not_followed(receiver: Site, status: int):
    """A public endpoint redirecting to an internal one is the classic way around an address
    check (formbricks #7877, hekate #56): the redirect is a failure and its target is never asked."""
    internal = receiver.base + "/internal/admin"
    receiver.routes["/hook"] = record([], [(status, {"Location": internal})])
    receiver.routes["/internal/admin"] = record([])
    result = send(receiver, "/hook")
    assert not result.ok and not result.permanent and result.status == status
    assert "redirects are not followed" in result.error and result.extra["location"] == internal
    assert result.code == "redirect" and result.fields == {"status": status, "location": internal}
    assert receiver.requested == ["/hook"]


def test_a_hung_receiver_times_out_without_holding_back_the_others(receiver: Site):
    """The read timeout ends the hung delivery (its error says so) and the other is made. How
    soon: bench/deadline_bench.py. The hung receiver gives up after a minute (slow_peers.GIVE_UP)."""
    receiver.routes["/hung"] = hung(receiver)
    receiver.routes["/fine"] = record([])
    config = {**CONFIG, "HTTP_READ_TIMEOUT": 0.3}
    hung_result, fine = send_webhooks([(make_alert(1), receiver.base + "/hung", SECRET),
                                       (make_alert(2), receiver.base + "/fine", SECRET)], config)
    assert not hung_result.ok and not hung_result.permanent
    assert "timed out after 0.3 s" in hung_result.error
    assert (hung_result.code, hung_result.fields) == ("timeout", {"seconds": 0.3, "phase": "read"})
    assert fine.ok and fine.delivery_id == 2


def test_a_trickling_receiver_is_cut_off_at_the_total_limit(receiver: Site):
    """Bytes every 50 ms never trip the read timeout; the total limit still ends the delivery
    (its error names it). How soon: bench/deadline_bench.py."""
    receiver.routes["/trickle"] = trickled_headers(receiver)
    config = {**CONFIG, "HTTP_READ_TIMEOUT": 5.0, "WEBHOOK_TIMEOUT": 0.6}
    result = send(receiver, "/trickle", config)
    assert not result.ok and not result.permanent
    assert "no complete answer within 0.6 s" in result.error
    assert (result.code, result.fields) == ("timeout", {"seconds": 0.6, "phase": "total"})


def test_only_a_few_kilobytes_of_an_answer_are_read(receiver: Site):
    total = 256 * 1024 * 1024
    receiver.routes["/flood"] = stream(receiver, "flood", total, content_length=True)
    result = send(receiver, "/flood")
    assert result.ok
    assert receiver.finished["flood"].wait(timeout=10)  # the server saw the connection close
    assert receiver.sent["flood"] < total // 8  # socket buffers hold a little; we read 4 KB


def test_deliveries_run_concurrently(receiver: Site):
    """20 receivers that each wait until all 20 requests are in flight: only concurrent sends pass."""
    everyone = threading.Barrier(20, timeout=8)

    def together(handler: BaseHTTPRequestHandler) -> None:
        handler.rfile.read(int(handler.headers["Content-Length"]))
        try:
            everyone.wait()
            status = 200
        except threading.BrokenBarrierError:
            status = 500
        respond(b"", "text/plain", status)(handler)
    receiver.routes["/together"] = together
    batch = [(make_alert(n), receiver.base + "/together", SECRET) for n in range(1, 21)]
    results = send_webhooks(batch, CONFIG)
    assert [result.delivery_id for result in results] == list(range(1, 21))  # in batch order
    assert all(result.ok for result in results), [result.error for result in results]


def test_concurrency_is_bounded_by_the_setting(receiver: Site):
    """With WEBHOOK_CONCURRENCY=2 each receiver waits (0.3 s at most) for a third request in
    flight, which must never come; two at a time must."""
    changed = threading.Condition()
    in_flight = [0, 0]  # now, most

    def counted(handler: BaseHTTPRequestHandler) -> None:
        handler.rfile.read(int(handler.headers["Content-Length"]))
        with changed:
            in_flight[0] += 1
            in_flight[1] = max(in_flight)
            changed.notify_all()
            changed.wait_for(lambda: in_flight[0] > 2, timeout=0.3)
            in_flight[0] -= 1
        respond(b"", "text/plain", 200)(handler)
    receiver.routes["/counted"] = counted
    batch = [(make_alert(n), receiver.base + "/counted", SECRET) for n in range(6)]
    results = send_webhooks(batch, {**CONFIG, "WEBHOOK_CONCURRENCY": 2})
    assert all(result.ok for result in results)
    assert in_flight[1] == 2


def test_the_address_check_runs_again_at_send_time(receiver: Site):
    """A name that was public when the subscriber saved it and points at loopback now (DNS
    rebinding) is refused before any connection is made."""
    from tracker.sources.ssrf import check_url

    answers = {"hooks.example": "93.184.216.34"}
    asked: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return [answers[host]]
    port = receiver.base.rsplit(":", 1)[1]
    url = f"http://hooks.example:{port}/hook"
    receiver.routes["/hook"] = record([])
    assert check_url(url, resolve=resolve).addresses  # fine when subscribed

    answers["hooks.example"] = "127.0.0.1"
    [result] = send_webhooks([(make_alert(), url, SECRET)], {"WEBHOOK_TIMEOUT": 5.0}, resolve=resolve)
    assert not result.ok and not result.permanent  # DNS may be put right: retried later
    assert "hooks.example resolves to 127.0.0.1, which is loopback" in result.error
    assert result.code == "unsafe" and result.fields["check"] == "forbidden_address"
    assert result.fields["kind"] == "loopback" and result.fields["host"] == "hooks.example"
    assert receiver.requested == []
    assert asked == ["hooks.example", "hooks.example"]


def test_the_connection_goes_to_the_vetted_address(receiver: Site):
    """The name is resolved once, by the check, and the request goes to that address with the
    name in Host: the operating system's resolver (which knows nothing of hooks.example) is never
    asked, so it cannot answer differently."""
    asked: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"]
    calls: list = []
    receiver.routes["/hook"] = record(calls)
    port = receiver.base.rsplit(":", 1)[1]
    [result] = send_webhooks([(make_alert(), f"http://hooks.example:{port}/hook", SECRET)], CONFIG,
                             resolve=resolve)
    assert result.ok, result.error
    assert asked == ["hooks.example"]
    [(headers, _)] = calls
    assert headers["host"] == f"hooks.example:{port}"


def test_an_unreachable_address_falls_through_to_the_next(receiver: Site):
    """Nothing listens on [::1] at the site's port (it binds 127.0.0.1 only): the next address is tried."""
    receiver.routes["/hook"] = record([])
    port = receiver.base.rsplit(":", 1)[1]
    [result] = send_webhooks([(make_alert(), f"http://hooks.example:{port}/hook", SECRET)], CONFIG,
                             resolve=lambda host, port: ["::1", "127.0.0.1"])
    assert result.ok and result.extra["address"] == "127.0.0.1"


def test_private_targets_are_refused_unless_allowed(receiver: Site):
    receiver.routes["/hook"] = record([])
    result = send(receiver, "/hook", {"WEBHOOK_TIMEOUT": 5.0})
    assert not result.ok and result.permanent  # a literal loopback address never changes
    assert "127.0.0.1, which is loopback" in result.error
    assert receiver.requested == []
    assert send(receiver, "/hook", {"WEBHOOK_TIMEOUT": 5.0, "WEBHOOK_ALLOW_PRIVATE": "1"}).ok
    assert receiver.requested == ["/hook"]


def test_refused_and_broken_deliveries_do_not_stop_the_batch(receiver: Site):
    receiver.routes["/hook"] = record([])
    results = send_webhooks([
        (make_alert(1), "gopher://127.0.0.1/", SECRET),
        (make_alert(2), receiver.base + "/hook", "whsec_not base64!"),
        (make_alert(3), receiver.base + "/hook", SECRET),
    ], CONFIG)
    assert [(r.delivery_id, r.ok, r.permanent) for r in results] == [(1, False, True), (2, False, True),
                                                                    (3, True, False)]
    assert "only http and https" in results[0].error and "cannot sign" in results[1].error
    assert [r.code for r in results[:2]] == ["unsafe", "bad_secret"]
    assert results[0].fields["check"] == "scheme"
    assert receiver.requested == ["/hook"]


def test_works_from_inside_a_running_event_loop(receiver: Site):
    receiver.routes["/hook"] = record([])

    async def caller():
        return send_webhooks([(make_alert(), receiver.base + "/hook", SECRET)], CONFIG)
    [result] = asyncio.run(caller())
    assert result.ok
    assert send_webhooks([], CONFIG) == []


def test_sign_matches_the_published_example_and_secrets_are_fresh():
    # The example from the Standard Webhooks reference libraries' tests.
    assert sign(SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}') == \
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    secrets = {new_secret() for _ in range(20)}
    assert len(secrets) == 20
    for secret in secrets:
        assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:], validate=True)) == 32
    with pytest.raises(ValueError):
        sign("whsec_", "msg_1", 1, b"")


def test_sign_agrees_with_the_spec_computed_by_hand_and_reads_secrets_strictly():
    # The signing is the reference library's; this checks it against the spec written out by
    # hand (as a receiver without the library would verify), on a Chinese body and fresh secrets.
    body = json.dumps({"标题": "新能源汽车", "n": 1}, ensure_ascii=False).encode()
    for _ in range(5):
        secret = new_secret()
        key = base64.b64decode(secret.removeprefix("whsec_"))
        expected = base64.b64encode(hmac.new(key, b"msg_1.1712736000." + body, hashlib.sha256).digest())
        assert sign(secret, "msg_1", 1712736000, body) == "v1," + expected.decode()
        assert Webhook(secret).verify(body, {"webhook-id": "msg_1", "webhook-timestamp": str(int(time.time())),
                                            "webhook-signature": sign(secret, "msg_1", int(time.time()), body)})
    # The library would quietly drop the characters that are not base64; we refuse the secret.
    with pytest.raises(ValueError):
        sign("whsec_not*base64!", "msg_1", 1, body)


# --- https: the vetted address with the name as SNI and as the certificate's name ---------------

@pytest.fixture
def tls_receiver(tmp_path) -> Iterator[dict]:
    """An HTTPS server on 127.0.0.1 whose self-signed certificate names hooks.example only."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs the openssl command to make a certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
                    "-subj", "/CN=hooks.example", "-addext", "subjectAltName=DNS:hooks.example"],
                   check=True, capture_output=True, timeout=60)
    state: dict = {"sni": [], "hosts": []}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            state["hosts"].append(self.headers["Host"])
            respond(b"", "text/plain", 204)(self)

        def log_message(self, *args: object) -> None:
            pass

    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    server_context.sni_callback = lambda sock, name, context: state["sni"].append(name)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.socket = server_context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state["port"] = server.server_address[1]
    state["client_context"] = ssl.create_default_context(cafile=str(cert))
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_https_is_pinned_with_sni_and_certificate_checked_against_the_name(tls_receiver: dict):
    port, context = tls_receiver["port"], tls_receiver["client_context"]

    def loopback(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]
    [result] = send_webhooks([(make_alert(), f"https://hooks.example:{port}/hook", SECRET)], CONFIG,
                             resolve=loopback, ssl_context=context)
    assert result.ok and result.status == 204, result.error
    assert tls_receiver["sni"] == ["hooks.example"]
    assert tls_receiver["hosts"] == [f"hooks.example:{port}"]

    # The same address under a name the certificate does not carry: refused by TLS, not trusted
    # because the address matched.
    [result] = send_webhooks([(make_alert(), f"https://other.example:{port}/hook", SECRET)], CONFIG,
                             resolve=loopback, ssl_context=context)
    assert not result.ok and not result.permanent
    assert "certificate" in result.error.lower() and result.code == "tls"
    assert tls_receiver["hosts"] == [f"hooks.example:{port}"]
