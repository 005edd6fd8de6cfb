"""Sending webhooks: one signed JSON POST per alert (the headers and body are described in
docs/alerts.md, "Webhook payload and verification"), to a URL checked against this host's own network
before every attempt (`tracker.sources.ssrf`).

What counts: a 2xx answer is delivered; 410 Gone is permanent and `gone`. Every other answer, a
timeout or a network error is a failure to retry later (a receiver's 4xx/5xx is usually a deploy
or a misconfiguration its owner fixes); 429 and 503 pass on their Retry-After. Redirects are
never followed (a 3xx is a retryable failure naming the Location). Permanent besides 410: a URL
refused for what it is and a broken secret; a name that resolves to a forbidden address *this
time* is retried, as DNS may be fixed.

Why aiohttp and asyncio: the sender's CPU per request bounds a large batch (docs/benchmarks.md
has the figures), and a delivery's total time limit (WEBHOOK_TIMEOUT) must hold
while a receiver trickles bytes: a coroutine is cancelled cleanly at its deadline, a thread is
not. Each delivery gets its own connection to the address `check_url` vetted (never resolved
again), with the original Host header and TLS name; no proxy from the environment.
TRACKER_WEBHOOK_ALLOW_PRIVATE=1 lets webhooks reach private addresses (development, tests).
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import re
import ssl
import time
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache, partial
from typing import Any, Callable, Mapping

import aiohttp
import httpx  # its certifi-based TLS context only

from tracker.alerts.model import Alert, SendResult, StoryCopy, network_code
from tracker.alerts.webhook.sign import sign, signing_key
from tracker.sources.ssrf import IPAddress, Resolver, Target, UnsafeURL, allow_private, check_url
from tracker.sources.http import USER_AGENT, setting
from tracker import settings

log = logging.getLogger(__name__)

EVENT_TYPE = "tracker.alert"
MAX_RESPONSE_BYTES = 4096
MAX_RETRY_AFTER = 7 * 24 * 3600.0


def payload(alert: Alert) -> dict[str, Any]:
    """The JSON document for `alert` (its shape is in this module's docstring)."""
    return {
        "type": EVENT_TYPE,
        "timestamp": alert.created_at,
        "data": {
            "subscription": alert.subscription_id,
            "frequency": alert.frequency,
            "rules": [{"id": rule_id, "name": name} for rule_id, name in alert.rules()],
            "articles": [
                {
                    "article_id": item.article_id,
                    "title": item.title,
                    "url": item.url,
                    "archive_url": item.archive_url,
                    "source": item.source_id,
                    "source_name": item.source_name,
                    "date": item.date,
                    "page": item.page,
                    "rule": item.rule_id,
                    "rules": [rule_id for rule_id, _ in item.all_rules()],
                    "snippets": list(item.snippets),
                    "keyword_names": list(item.names),
                    "fields": dict(item.fields),
                    "story_id": item.story_id,
                    "first_appearance": _copy(item.first) if item.first else None,
                    "also_in": [_copy(c) for c in item.also_in],
                }
                for item in alert.items
            ],
            "manage_url": alert.manage_url,
        },
    }


def _copy(copy: StoryCopy) -> dict[str, Any]:
    return {"article_id": copy.article_id, "source": copy.source_id,
            "source_name": copy.source_name, "date": copy.date, "page": copy.page,
            "title": copy.title, "url": copy.url, "archive_url": copy.archive_url}


def body(alert: "Alert | Prepared") -> bytes:
    """The bytes that are signed and sent: compact UTF-8 JSON (Chinese stays readable)."""
    if isinstance(alert, Prepared):
        return alert.data
    return as_json(payload(alert))


def as_json(document: dict[str, Any]) -> bytes:
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8", "replace")  # a stray lone surrogate becomes "?", never an error


@dataclass(frozen=True)
class Prepared:
    """A message that is not an alert (the admin's source-health notice): its id for results,
    its `webhook-id` and the JSON bytes, sent and signed exactly as alerts are."""

    delivery_id: int
    webhook_id: str
    data: bytes


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), clamped to
    0..MAX_RETRY_AFTER; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"[0-9]+", value):
        seconds = float(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        now_dt = datetime.fromtimestamp(time.time() if now is None else now, tz=timezone.utc)
        seconds = (when - now_dt).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


# --- sending -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _WebhookSettings:
    concurrency: int
    total: float
    connect: float
    read: float
    allow_private: bool

    @classmethod
    def of(cls, config: Mapping[str, Any]) -> _WebhookSettings:
        total = float(settings.value(config, "WEBHOOK_TIMEOUT"))
        return cls(
            concurrency=max(1, int(settings.value(config, "WEBHOOK_CONCURRENCY"))),
            total=total,
            connect=min(setting(config, "HTTP_CONNECT_TIMEOUT"), total),
            read=min(setting(config, "HTTP_READ_TIMEOUT"), total),
            allow_private=allow_private(config),
        )


@lru_cache(maxsize=1)
def _default_ssl_context() -> ssl.SSLContext:
    """One verifying context (certifi's roots, as httpx uses) shared by every delivery: loading
    the roots per client would cost more than most deliveries."""
    return httpx.create_ssl_context()


def send_webhooks(batch: list[tuple[Alert | Prepared, str, str]], config: Mapping[str, Any], *,
                  resolve: Resolver | None = None,
                  ssl_context: ssl.SSLContext | None = None,
                  report: Callable[[SendResult], None] | None = None) -> list[SendResult]:
    """Deliver each (alert, url, secret) at once, up to WEBHOOK_CONCURRENCY in flight; one
    SendResult per item, in order, and each to `report` as soon as its answer is in. Never
    raises for a delivery's failure. `resolve` replaces the system resolver and `ssl_context`
    the certificate check (both for tests)."""
    if not batch:
        return []
    work = _send_all(list(batch), _WebhookSettings.of(config), resolve, ssl_context or _default_ssl_context(),
                     report)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(work)
    # Called from inside an event loop (which must not block on us): a loop of our own, elsewhere.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="webhooks") as pool:
        return pool.submit(asyncio.run, work).result()


async def _send_all(batch: list[tuple[Alert | Prepared, str, str]], settings: _WebhookSettings,
                    resolve: Resolver | None, context: ssl.SSLContext,
                    report: Callable[[SendResult], None] | None = None) -> list[SendResult]:
    gate = asyncio.Semaphore(settings.concurrency)
    # Our own threads for getaddrinfo: a hung lookup is abandoned at the deadline, and
    # asyncio.run does not wait for it on the way out (as it would for the default executor).
    lookups = ThreadPoolExecutor(max_workers=min(settings.concurrency, len(batch)),
                                 thread_name_prefix="webhook-dns")
    # aiohttp: a quarter of httpx's CPU per request, which is what bounds a big batch here.
    # force_close: its pool keys connections by address, not by TLS name, so a connection made
    # for one host name must never carry a request for another on the same address.
    connector = aiohttp.TCPConnector(limit=0, force_close=True, ssl=context, use_dns_cache=False)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=settings.connect,
                                    sock_read=settings.read)
    try:
        async with aiohttp.ClientSession(connector=connector, timeout=timeout, trust_env=False,
                                         auto_decompress=False) as session:
            async def one(alert: Alert | Prepared, url: str, secret: str) -> SendResult:
                result = await _deliver(gate, lookups, session, alert, url, secret, settings,
                                        resolve)
                if report:
                    report(result)
                return result

            return list(await asyncio.gather(*(one(alert, url, secret)
                                               for alert, url, secret in batch)))
    finally:
        lookups.shutdown(wait=False, cancel_futures=True)


async def _deliver(gate: asyncio.Semaphore, lookups: Executor, session: aiohttp.ClientSession,
                   alert: Alert | Prepared, url: str, secret: str, settings: _WebhookSettings,
                   resolve: Resolver | None) -> SendResult:
    """One delivery, within its total time limit; whatever happens becomes a SendResult."""
    async with gate:
        started = time.monotonic()
        try:
            async with asyncio.timeout(settings.total):
                return await _attempt(lookups, session, alert, url, secret, settings, resolve)
        except TimeoutError:
            return SendResult(alert.delivery_id, ok=False,
                              error=f"no complete answer within {settings.total:g} s (WEBHOOK_TIMEOUT)",
                              extra={"elapsed": round(time.monotonic() - started, 3)},
                              code="timeout", fields={"seconds": settings.total, "phase": "total"})
        except Exception as error:  # a bug here must not cost the other subscribers their alerts
            log.exception("webhook delivery %s failed unexpectedly", alert.delivery_id)
            return SendResult(alert.delivery_id, ok=False,
                              error=f"internal error: {type(error).__name__}: {error}",
                              code="internal")


async def _attempt(lookups: Executor, session: aiohttp.ClientSession, alert: Alert | Prepared, url: str,
                   secret: str, settings: _WebhookSettings, resolve: Resolver | None) -> SendResult:
    delivery = alert.delivery_id
    try:
        signing_key(secret)
    except (ValueError, AttributeError, TypeError) as error:
        return SendResult(delivery, ok=False, error=f"cannot sign: {error}", permanent=True,
                          code="bad_secret")
    data = body(alert)
    loop = asyncio.get_running_loop()
    try:  # again at every send: the name may point somewhere else since it was last checked
        target = await loop.run_in_executor(
            lookups, partial(check_url, url, settings.allow_private, resolve))
    except UnsafeURL as refused:
        return SendResult(delivery, ok=False, error=f"webhook URL refused: {refused.reason}",
                          permanent=refused.permanent, extra={"refused": True}, code="unsafe",
                          fields={"check": refused.code, **refused.fields})

    timestamp = int(time.time())
    headers = {
        "Host": target.host_header,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "accept-encoding": "identity",  # the few bytes we read are kept as they came
        "webhook-id": alert.webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, alert.webhook_id, timestamp, data),
    }
    failure: SendResult | None = None
    for address in target.addresses:  # the next address only when this one cannot be reached
        try:
            return await _post(session, target, address, headers, data, delivery)
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as error:
            failure = _network_failure(delivery, address, error, settings)
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            return _network_failure(delivery, address, error, settings)
    assert failure is not None
    return failure


async def _post(session: aiohttp.ClientSession, target: Target, address: IPAddress,
                headers: dict[str, str], data: bytes, delivery: int) -> SendResult:
    https = target.scheme == "https"
    async with session.post(target.url_for(address), data=data, headers=headers,
                            allow_redirects=False,
                            server_hostname=target.sni_hostname if https else None) as response:
        answer = await _read_some(response)
    return _judge(delivery, response, answer, address)


async def _read_some(response: aiohttp.ClientResponse) -> bytes:
    """At most MAX_RESPONSE_BYTES of the answer, as sent; a body cut short is not our failure."""
    received = bytearray()
    try:
        while len(received) < MAX_RESPONSE_BYTES:
            chunk = await response.content.read(MAX_RESPONSE_BYTES - len(received))
            if not chunk:
                break
            received += chunk
    except (aiohttp.ClientError, asyncio.TimeoutError):
        pass
    return bytes(received)


def _judge(delivery: int, response: aiohttp.ClientResponse, answer: bytes,
           address: IPAddress) -> SendResult:
    status = response.status
    extra: dict[str, Any] = {"address": str(address)}
    if 200 <= status < 300:
        return SendResult(delivery, ok=True, status=status, extra=extra)
    said = f"HTTP {status}" + (f" {response.reason}" if response.reason else "")
    if answer:
        extra["response"] = answer[:1000].decode("utf-8", "replace")
    if status == 410:
        return SendResult(delivery, ok=False, status=status, gone=True, permanent=True,
                          error=f"{said}: the receiver says this endpoint is gone", extra=extra,
                          code="gone", fields={"status": status})
    if 300 <= status < 400:
        location = response.headers.get("location")
        extra["location"] = location
        return SendResult(delivery, ok=False, status=status, extra=extra,
                          error=f"{said}: redirects are not followed (to {location or 'nowhere'}); "
                                "the webhook URL must point at the receiver itself",
                          code="redirect", fields={"status": status, "location": location})
    retry_after = parse_retry_after(response.headers.get("retry-after")) if status in (429, 503) else None
    fields: dict[str, Any] = {"status": status}
    if retry_after is not None:
        fields["retry_after"] = retry_after
    return SendResult(delivery, ok=False, status=status, retry_after=retry_after, extra=extra,
                      error=said + (f", retry after {retry_after:g} s" if retry_after is not None else ""),
                      code="server_error" if status >= 500 else "rejected", fields=fields)


def _network_failure(delivery: int, address: IPAddress, error: BaseException,
                     settings: _WebhookSettings) -> SendResult:
    fields: dict[str, Any] = {}
    if isinstance(error, aiohttp.ConnectionTimeoutError):
        why = f"timed out after {settings.connect:g} s connecting"
        code, fields = "timeout", {"seconds": settings.connect, "phase": "connect"}
    elif isinstance(error, (aiohttp.SocketTimeoutError, asyncio.TimeoutError)):
        why = f"timed out after {settings.read:g} s waiting for the receiver"
        code, fields = "timeout", {"seconds": settings.read, "phase": "read"}
    elif isinstance(error, aiohttp.ClientConnectorError):
        why = f"cannot connect ({error.os_error or type(error).__name__})"
        code = "tls" if isinstance(error, aiohttp.ClientSSLError) else network_code(error.os_error)
    else:  # the connection broke, or the answer was not HTTP
        why = f"HTTP request failed ({type(error).__name__}{f': {error}' if str(error) else ''})"
        code = "network"
    return SendResult(delivery, ok=False, error=f"{why} [{address}]", extra={"address": str(address)},
                      code=code, fields=fields)
