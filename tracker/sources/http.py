"""Fetching one http(s) URL into bytes, within a size limit and a total time limit that covers
the whole request (connecting, the headers, the body: see _Watchdog).

A source is hostile until proven otherwise: with `home` (the URL the administrator configured
for the source) every hop, the first and each redirect, may go to `home`'s own origin (scheme,
host and port, exactly) or else only to public addresses, checked and pinned the way webhooks
are (tracker.sources.ssrf: the vetted address is the one connected to; Host and TLS name stay the
URL's). So a feed entry's link or an e-paper's page link cannot make the worker read this host's
own network and archive it. `same_host=True` (e-paper) also refuses a redirect off `home`'s host
name before it is followed. Without `home` (a URL the operator typed) nothing is checked.

A compressed body is decompressed here, not by httpx (which runs each chunk through every
coding at once: `Content-Encoding: gzip, gzip` made 2 GB of 3.5 KB before any size check).
One content coding at most, gzip or deflate (what we ask for); more, or another, is refused; and
each chunk is inflated in steps that stop as soon as the document passes its size limit
(`_Inflater`).

`SSRF_EVERY_HOP` (set by tracker.sources.trial for the admin's preview in the browser, where the
URL came from a web form) checks every hop, `home`'s own origin and the first request included;
there WEBHOOK_ALLOW_PRIVATE (development, tests) lifts the address rules as it does for
webhooks."""

from __future__ import annotations

import contextlib
import functools
import heapq
import logging
import socket
import ssl
import threading
import time
import zlib
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import urljoin, urlsplit

import httpx

from tracker.config import DEFAULTS, flag
from tracker.documents import InputError

USER_AGENT = "tracker/0.1 (+newspaper keyword tracker)"
MAX_REDIRECTS = 5
ACCEPT_ENCODING = "gzip, deflate"  # what _Inflater reads; nothing else is asked for
STEP = 1 << 20  # bytes of output one inflating step may make


@dataclass(frozen=True)
class Fetched:
    """A downloaded body with what the server said about it."""

    data: bytes
    url: str  # after redirects
    content_type: str | None  # media type only, lower case ("text/html")
    charset: str | None  # the Content-Type charset: a hint, never trusted over the bytes
    etag: str | None = None  # validators for the next conditional GET
    last_modified: str | None = None
    not_modified: bool = False  # 304: what we have is current (data is empty)


def setting(config: Mapping[str, Any], key: str) -> float:
    """A numeric setting, falling back to the default when a partial config omits it."""
    return float(config.get(key, DEFAULTS[key]))


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the scheme's default port filled in: what "the same site" is."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or {"http": 80, "https": 443}.get(scheme)
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").rstrip("."), port


def route(url: str, home: str | None, every_hop: bool = False, allow_private: bool = False
          ) -> tuple[str, dict[str, str], dict[str, Any]]:
    """(URL to request, extra headers, httpx extensions) for one hop; InputError if refused.
    `every_hop`: checked even on `home`'s origin (then `allow_private` may lift the address
    rules)."""
    if not every_hop and (home is None or origin(url) == origin(home)):
        return url, {}, {}
    from tracker.sources.ssrf import UnsafeURL, check_url

    try:
        target = check_url(url, allow_private=every_hop and allow_private)
    except UnsafeURL as error:
        where = "a URL tried from the admin page" if every_hop else "a link in a source"
        raise InputError(url, f"not fetched: {error.reason} ({where} may only reach public "
                              "addresses)" if every_hop else
                         f"not fetched: {error.reason} ({where} may only reach public "
                         "addresses or the source's own site)",
                         code="unsafe_url", fields={"reason": error.reason, "check": error.code,
                                                    **error.fields}) from None
    address = target.addresses[0]
    extensions = {"sni_hostname": target.sni_hostname} if target.sni_hostname else {}
    return target.url_for(address), {"Host": target.host_header}, extensions


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The TLS settings of every fetch, made once per process: loading the CA bundle costs
    ~30 ms, which a new client per request paid again for each of an issue's 70 pages. An
    SSLContext is safe to share between threads."""
    return httpx.create_ssl_context()


def session() -> httpx.Client:
    """A client for many fetches of one site (an e-paper issue's ~70 pages): its connections
    are kept alive between them. Pass it to `fetch` as `client` and close it when done; every
    hop is still routed and checked by `fetch` (a pinned address is a URL of its own)."""
    return httpx.Client(follow_redirects=False, verify=tls_context())


def fetch(url: str, config: Mapping[str, Any], *, etag: str | None = None,
          last_modified: str | None = None, home: str | None = None,
          same_host: bool = False, client: httpx.Client | None = None) -> Fetched:
    """GET `url`; every failure (status, size, timeout, network, a refused hop) is an InputError
    naming `url`. With `etag`/`last_modified` from an earlier Fetched the GET is conditional: an
    unchanged resource costs one 304 (Fetched.not_modified) and no body. `home`, `same_host`:
    where the hops may go (see the module docstring). `client`: a `session()` to reuse its
    connections (else one is made for this fetch)."""
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    limit = int(setting(config, "MAX_DOCUMENT_BYTES"))
    total = setting(config, "HTTP_TOTAL_TIMEOUT")
    connect = min(setting(config, "HTTP_CONNECT_TIMEOUT"), total)
    read = min(setting(config, "HTTP_READ_TIMEOUT"), total)
    timeout = httpx.Timeout(connect=connect, read=read, write=read, pool=connect)
    deadline = time.monotonic() + total
    watchdog = _Watchdog(total)
    every_hop = bool(config.get("SSRF_EVERY_HOP"))
    private = every_hop and flag(config.get("WEBHOOK_ALLOW_PRIVATE"))
    try:
        owned = httpx.Client(follow_redirects=False, verify=tls_context()) if client is None \
            else None
        with watchdog, (owned or contextlib.nullcontext()):
            client = owned or client
            current = url
            for _hop in range(MAX_REDIRECTS + 1):
                if same_host and home and origin(current)[1] != origin(home)[1]:
                    raise InputError(url, f"redirected off the site's host to {current}; not followed",
                                     code="off_host", fields={"target": current})
                target, extra, extensions = route(current, home, every_hop, private)
                extensions = {**extensions, "trace": watchdog.trace}
                with client.stream("GET", target, headers={**headers, **extra}, timeout=timeout,
                                   extensions=extensions) as response:
                    location = response.headers.get("location")
                    if response.is_redirect and location:
                        current = urljoin(current, location.strip())
                        continue
                    if response.status_code == 304 and (etag or last_modified):
                        return Fetched(b"", current, None, None, etag, last_modified, True)
                    _check_response(url, response, limit)
                    data = _read_body(url, response, limit, deadline, total)
                    if watchdog.expired.is_set():  # a body ended by the watchdog is not whole
                        raise InputError(url, f"timed out after {total:g} s", code="timeout",
                                 fields={"seconds": total})
                    media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
                    return Fetched(data, current, media_type or None, response.charset_encoding,
                                   response.headers.get("etag"), response.headers.get("last-modified"))
            raise httpx.TooManyRedirects("too many redirects")
    except httpx.HTTPError as error:
        if watchdog.expired.is_set():
            raise InputError(url, f"timed out after {total:g} s", code="timeout",
                             fields={"seconds": total}) from None
        code, fields = _classify(error, connect, read)
        raise InputError(url, _describe(error, connect, read), code=code, fields=fields) from None
    except httpx.InvalidURL as error:
        raise InputError(url, f"is not a valid URL ({error})", code="bad_url") from None


class _Watchdog:
    """The total time limit over the whole request, the wait for headers included (httpx's own
    limits are per operation: a server dripping one header byte a second never trips them).
    When time is up it shuts the request's sockets down, which ends any blocked read at once."""

    def __init__(self, seconds: float):
        self.expired = threading.Event()
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        self.seconds = seconds
        self.entry: list | None = None

    def __enter__(self) -> "_Watchdog":
        self.entry = _alarms().add(time.monotonic() + self.seconds, self.expire)
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.entry is not None:
            _alarms().cancel(self.entry)

    def trace(self, event: str, info: dict) -> None:
        """httpx's trace extension: remember each connection's socket as it is made."""
        if event == "connection.connect_tcp.complete" and info.get("return_value") is not None:
            sock = info["return_value"].get_extra_info("socket")
            if sock is not None:
                with self.lock:
                    self.sockets.append(sock)
                if self.expired.is_set():
                    self.expire()

    def expire(self) -> None:
        self.expired.set()
        with self.lock:
            sockets = list(self.sockets)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Alarms:
    """One thread that calls each watchdog's `expire` at its deadline: a fetch costs a heap
    entry, not a thread of its own (an e-paper issue makes ~70 fetches)."""

    def __init__(self) -> None:
        self.heap: list[list] = []  # [deadline, sequence, callback or None when cancelled]
        self.changed = threading.Condition()
        self.count = 0
        threading.Thread(target=self._run, name="fetch-deadlines", daemon=True).start()

    def add(self, deadline: float, callback: Any) -> list:
        with self.changed:
            self.count += 1
            entry = [deadline, self.count, callback]
            heapq.heappush(self.heap, entry)
            self.changed.notify()
        return entry

    def cancel(self, entry: list) -> None:
        with self.changed:
            entry[2] = None  # left in the heap, skipped when its time comes

    def _run(self) -> None:
        while True:
            with self.changed:
                while self.heap and self.heap[0][2] is None:
                    heapq.heappop(self.heap)
                wait = self.heap[0][0] - time.monotonic() if self.heap else None
                if wait is None or wait > 0:
                    self.changed.wait(wait)
                    continue
                callback = heapq.heappop(self.heap)[2]
            try:
                callback()
            except Exception:  # noqa: BLE001 - the thread serves every fetch: it must go on
                logging.getLogger("tracker.sources").exception("a fetch deadline failed")


@functools.cache
def _alarms() -> _Alarms:
    return _Alarms()


def _classify(error: httpx.HTTPError, connect: float, read: float) -> tuple[str, dict]:
    """The code (and fields) of what `_describe` says, by the exception's type."""
    if isinstance(error, httpx.ConnectTimeout):
        return "timeout", {"seconds": connect}
    if isinstance(error, httpx.TimeoutException):
        return "timeout", {"seconds": read}
    if isinstance(error, (httpx.ConnectError, httpx.RemoteProtocolError)):
        return "unreachable", {}
    if isinstance(error, httpx.TooManyRedirects):
        return "redirect_loop", {"limit": MAX_REDIRECTS}
    if isinstance(error, httpx.UnsupportedProtocol):
        return "not_http", {}
    if isinstance(error, httpx.DecodingError):
        return "bad_encoding", {}
    return "other", {}


def _describe(error: httpx.HTTPError, connect: float, read: float) -> str:
    if isinstance(error, httpx.ConnectTimeout):
        return f"timed out after {connect:g} s (connecting)"
    if isinstance(error, httpx.TimeoutException):
        return f"timed out after {read:g} s"
    if isinstance(error, httpx.ConnectError):
        return f"cannot connect ({error})"
    if isinstance(error, httpx.TooManyRedirects):
        return f"more than {MAX_REDIRECTS} redirects"
    if isinstance(error, httpx.UnsupportedProtocol):
        return f"unsupported URL ({error})"
    if isinstance(error, httpx.DecodingError):
        return "the compressed body cannot be decompressed"
    return f"HTTP request failed ({type(error).__name__}: {error})"


def _check_response(url: str, response: httpx.Response, limit: int) -> None:
    if not response.is_success:
        reason = f" {response.reason_phrase}" if response.reason_phrase else ""
        raise InputError(url, f"server answered HTTP {response.status_code}{reason}",
                         status=response.status_code)
    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise InputError(url, f"is {int(length):,} bytes, over the {limit:,}-byte limit (MAX_DOCUMENT_BYTES)",
                         code="too_large", fields={"limit": limit, "size": int(length)})


def _read_body(url: str, response: httpx.Response, limit: int, deadline: float, total: float) -> bytes:
    """The (decompressed) body, aborted as soon as it passes `limit` bytes or the deadline."""
    too_large = InputError(url, f"is larger than the {limit:,}-byte limit (MAX_DOCUMENT_BYTES); "
                                "download stopped", code="too_large", fields={"limit": limit})
    inflater = _Inflater.for_response(url, response, limit, too_large)
    chunks: list[bytes] = []
    size = 0
    for raw in response.iter_raw():  # as the bytes arrive: a chunk size would wait to fill it
        if inflater:
            inflater.feed(raw, chunks)
        else:
            size += len(raw)
            if size > limit:
                raise too_large
            chunks.append(raw)
        if time.monotonic() > deadline:
            raise InputError(url, f"timed out after {total:g} s", code="timeout",
                                 fields={"seconds": total})
    if inflater:
        inflater.finish(chunks)
    return b"".join(chunks)


class _Inflater:
    """A gzip or deflate body inflated in steps of at most STEP bytes of output, stopping as soon
    as the whole passes `limit`: memory holds the document, never what a bomb would make."""

    def __init__(self, url: str, coding: str, limit: int, too_large: InputError):
        self.url, self.coding, self.limit, self.too_large = url, coding, limit, too_large
        self.raw = 0  # compressed bytes read
        self.size = 0  # bytes made
        self.started = False
        self.decoder = zlib.decompressobj(zlib.MAX_WBITS | 16 if coding == "gzip" else zlib.MAX_WBITS)

    @classmethod
    def for_response(cls, url: str, response: httpx.Response, limit: int,
                     too_large: InputError) -> "_Inflater | None":
        """The inflater the response's Content-Encoding asks for; None for an uncompressed body;
        InputError for codings stacked or not asked for."""
        codings = [c.strip().lower() for c in response.headers.get("content-encoding", "").split(",")]
        codings = [c for c in codings if c and c != "identity"]
        if len(codings) > 1:
            raise InputError(url, f"is compressed more than once (Content-Encoding: "
                                  f"{', '.join(codings)}); refused", code="bad_encoding")
        if not codings:
            return None
        coding = {"x-gzip": "gzip"}.get(codings[0], codings[0])
        if coding not in ("gzip", "deflate"):
            raise InputError(url, f"uses a content coding not asked for ({coding}); refused",
                             code="bad_encoding")
        return cls(url, coding, limit, too_large)

    def feed(self, data: bytes, out: list[bytes]) -> None:
        """Inflate `data` into `out`, step by step."""
        self.raw += len(data)
        if self.raw > self.limit:
            raise self.too_large
        while data and not self.decoder.eof:
            try:
                made = self.decoder.decompress(data, STEP)
            except zlib.error:
                if self.coding == "deflate" and not self.started:  # raw deflate, no zlib header
                    self.decoder, self.started = zlib.decompressobj(-zlib.MAX_WBITS), True
                    continue
                raise InputError(self.url, "the compressed body cannot be decompressed",
                                 code="bad_encoding") from None
            self.started = True
            self.size += len(made)
            if self.size > self.limit:
                raise self.too_large
            out.append(made)
            data = self.decoder.unconsumed_tail

    def finish(self, out: list[bytes]) -> None:
        """The output zlib still holds (all input is in: at most the rest of one match)."""
        try:
            made = self.decoder.flush()
        except zlib.error:
            raise InputError(self.url, "the compressed body cannot be decompressed",
                                 code="bad_encoding") from None
        self.size += len(made)
        if self.size > self.limit:
            raise self.too_large
        out.append(made)
