"""Outbound URLs that cannot reach this host's own network (server-side request forgery).

It lives beside the fetcher (the lowest layer that connects out) so that both fetching and the
alerts above it use it: it guards webhook targets, chat robots that name a host
(tracker.alerts.chat.target) and every link found in a source, redirects included
(tracker.sources.http.route).

`check_url(url)` parses a subscriber's webhook URL, resolves its host and returns a `Target`: the
parts of the URL and the vetted addresses. The sender connects to one of *those* addresses (the
name is not resolved a second time by anybody), so a name that resolves to a public address when
it is checked and to 127.0.0.1 a moment later (DNS rebinding) gains nothing. The check runs at
subscription time and again before every send, because DNS can change between the two.

Refused, with a reason (`UnsafeURL`, a ValueError):

- any scheme but http and https; user info (`http://user@host`, `http://a.com\\@127.0.0.1`); a
  backslash, whitespace or control character anywhere; a port outside 1-65535; zone identifiers;
- host names that are not DNS names (percent-encoded hosts and the like), after IDNA mapping
  (full-width `１２７.０.０.１` is `127.0.0.1`, as a browser or resolver would read it);
- numeric hosts in every spelling the C resolver's inet_aton accepts (`0x7f000001`, `2130706433`,
  `0177.0.0.1`, `127.1`, `0x7f.1`) are read as that address and checked; a host whose last label is
  a number but which is no valid IPv4 (`1.2.3.4.5`, `08.0.0.1`) is refused outright;
- `localhost` and `*.localhost` without asking DNS;
- unless every resolved address is public (`public_reason(ip) is None`): loopback, RFC 1918,
  CGNAT 100.64/10 (Alibaba Cloud's metadata 100.100.100.200 is in it), link-local 169.254/16
  (cloud metadata 169.254.169.254), 0.0.0.0/8, multicast, reserved, documentation, benchmarking;
  in IPv6 `::`, `::1`, IPv4-mapped `::ffff:a.b.c.d` and IPv4-compatible `::a.b.c.d` (always, public
  or not: no real AAAA record holds one), link-local, site-local, unique-local (fc00::/7, also
  AWS's fd00:ec2::254), multicast, Teredo and the rest of 2001::/23, local-use NAT64 64:ff9b:1::/48,
  anything outside global unicast 2000::/3; NAT64 64:ff9b::/96 and 6to4 2002::/16 are judged by the
  IPv4 address they carry (a public one passes, so IPv6-only hosts behind DNS64 still work).

`allow_private=True` (TRACKER_WEBHOOK_ALLOW_PRIVATE=1: development and tests) lifts only the
address rules (and the localhost names); every URL rule above still applies.

The table is our own, not `ipaddress.is_global`, whose answers changed between Python releases
(3.11.10/3.12.4 and 3.13 reworked them; `::ffff:127.0.0.1` was not `is_loopback` before 3.13).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import urlsplit

from tracker.config import flag
from tracker import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# (host, port) -> addresses as text, the way getaddrinfo gives them; injectable for tests.
Resolver = Callable[[str, int], Iterable[str]]

MAX_URL_LENGTH = 2048
DEFAULT_PORTS = {"http": 80, "https": 443}


class UnsafeURL(ValueError):
    """A webhook URL we will not send to. `reason` says why in English (logs, the CLI); `code`
    says it as one of CODES, with `fields` (host, address, kind, limit, port, scheme) — the
    pages choose their Chinese by code, never by parsing the English. `permanent` is False
    when the answer may change by itself (DNS failed or pointed somewhere forbidden this time)
    and True when the URL itself is wrong."""

    def __init__(self, reason: str, *, code: str = "invalid", permanent: bool = True,
                 **fields: Any):
        super().__init__(reason)
        assert code in CODES, code
        self.reason = reason
        self.code = code
        self.permanent = permanent
        self.fields = fields


# Why a URL is refused, as codes: empty, too_long (limit), bad_characters, invalid, not_absolute,
# scheme (scheme), credentials, port (port), unresolvable (host), loopback (host),
# forbidden_address (host, address, kind — one of ADDRESS_KINDS), several_urls, other (chat).
CODES = ("empty", "too_long", "bad_characters", "invalid", "not_absolute", "scheme",
         "credentials", "port", "unresolvable", "loopback", "forbidden_address", "several_urls",
         "other")


@dataclass(frozen=True)
class Target:
    """A vetted webhook URL: where to connect (`addresses`, in resolver order) and what to say
    there (`host_header`, `sni_hostname`, `request_target`)."""

    url: str  # as given
    scheme: str  # "http" | "https"
    host: str  # lower-case ASCII (IDNA) name without a trailing dot, or the address as text
    port: int
    request_target: str  # path and query, percent-encoding kept ("/" when empty)
    addresses: tuple[IPAddress, ...]
    host_is_address: bool = False

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"

    @property
    def sni_hostname(self) -> str | None:
        """The TLS server name (and the name the certificate must carry); None for an address."""
        return None if self.host_is_address else self.host

    def url_for(self, address: IPAddress) -> str:
        """The request URL that connects to `address` instead of resolving the name again."""
        literal = f"[{address}]" if address.version == 6 else str(address)
        return f"{self.scheme}://{literal}:{self.port}{self.request_target}"


def system_resolve(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for `host` (A and AAAA, /etc/hosts included)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return [str(info[4][0]) for info in infos]


def check_url(url: str, allow_private: bool = False, resolve: Resolver | None = None) -> Target:
    """Parse, resolve and vet a webhook URL; raise UnsafeURL saying why it is refused."""
    scheme, host, port, request_target, literal = _parse(url)
    if literal is not None:
        addresses: tuple[IPAddress, ...] = (literal,)
    else:
        if not allow_private and (host == "localhost" or host.endswith(".localhost")):
            raise UnsafeURL(f"{host} is this machine (loopback)", code="loopback", host=host)
        addresses = _resolve(host, port, resolve or system_resolve)
    if not allow_private:
        for address in addresses:
            reason = public_reason(address)
            if reason is not None:
                said = str(address) if literal is not None else f"{host} resolves to {address}"
                # A literal never changes; a name may be moved back, so that one is retried.
                raise UnsafeURL(f"{said}, which is {reason}: webhooks only go to public addresses",
                                code="forbidden_address", permanent=literal is not None,
                                host=None if literal is not None else host, address=str(address),
                                kind=address_kind(address))
    return Target(url, scheme, host, port, request_target, addresses, literal is not None)


# --- addresses -----------------------------------------------------------------------------------

_V4_REFUSED = [(ipaddress.IPv4Network(net), why, kind) for net, why, kind in [
    ("0.0.0.0/8", "'this network' (0.0.0.0/8 reaches this host on many systems)", "this_network"),
    ("10.0.0.0/8", "private (RFC 1918)", "private"),
    ("100.64.0.0/10", "shared carrier-grade NAT space (RFC 6598; cloud metadata lives there too)", "cgnat"),
    ("127.0.0.0/8", "loopback", "loopback"),
    ("169.254.0.0/16", "link-local (cloud metadata 169.254.169.254)", "link_local"),
    ("172.16.0.0/12", "private (RFC 1918)", "private"),
    ("192.0.0.0/24", "IETF protocol assignments", "reserved"),
    ("192.0.2.0/24", "documentation (TEST-NET-1)", "documentation"),
    ("192.88.99.0/24", "6to4 relay anycast", "reserved"),
    ("192.168.0.0/16", "private (RFC 1918)", "private"),
    ("198.18.0.0/15", "benchmarking", "reserved"),
    ("198.51.100.0/24", "documentation (TEST-NET-2)", "documentation"),
    ("203.0.113.0/24", "documentation (TEST-NET-3)", "documentation"),
    ("224.0.0.0/4", "multicast", "multicast"),
    ("240.0.0.0/4", "reserved (broadcast 255.255.255.255 included)", "reserved"),
    ("168.63.129.16/32", "the Azure host's platform endpoint (WireServer)", "link_local"),
]]

# First match wins: :: and ::1 before the ::/96 that holds them.
_V6_REFUSED = [(ipaddress.IPv6Network(net), why, kind) for net, why, kind in [
    ("::/128", "unspecified (::)", "this_network"),
    ("::1/128", "loopback", "loopback"),
    ("::ffff:0:0/96", "IPv4-mapped", "mapped"),
    ("::/96", "IPv4-compatible (deprecated)", "mapped"),
    ("64:ff9b:1::/48", "local-use NAT64 (RFC 8215)", "private"),
    ("100::/64", "discard-only", "reserved"),
    ("2001:db8::/32", "documentation", "documentation"),
    ("2001::/23", "IETF protocol assignments (Teredo 2001::/32 included)", "reserved"),
    ("3fff::/20", "documentation", "documentation"),
    ("5f00::/16", "segment routing (SRv6)", "reserved"),
    ("fc00::/7", "unique local (private)", "private"),
    ("fe80::/10", "link-local", "link_local"),
    ("fec0::/10", "site-local (deprecated)", "private"),
    ("ff00::/8", "multicast", "multicast"),
]]
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")
_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")


def public_reason(address: IPAddress) -> str | None:
    """None when `address` is public; else what it is ("loopback", "private (RFC 1918)", …)."""
    refused = _refusal(address)
    return None if refused is None else refused[0]


def address_kind(address: IPAddress) -> str | None:
    """None when `address` is public; else its kind as a code (one of ADDRESS_KINDS), by
    which the pages choose their words."""
    refused = _refusal(address)
    return None if refused is None else refused[1]


ADDRESS_KINDS = ("loopback", "private", "link_local", "this_network", "cgnat", "documentation",
                 "multicast", "mapped", "reserved")


def _refusal(address: IPAddress) -> tuple[str, str] | None:
    """(what the address is, its kind) when it is not public."""
    if address.version == 4:
        for network, why, kind in _V4_REFUSED:
            if address in network:
                return why, kind
        return None
    assert isinstance(address, ipaddress.IPv6Address)
    for network, why, kind in _V6_REFUSED:
        if address in network:
            if network.prefixlen == 96:  # ::ffff:a.b.c.d and ::a.b.c.d name what they carry
                carried = ipaddress.IPv4Address(address.packed[12:])
                inner = _refusal(carried)
                return (f"{why} ({carried} in IPv6 form)", inner[1] if inner else kind)
            return why, kind
    embedded = None
    if address in _NAT64:
        embedded, via = ipaddress.IPv4Address(address.packed[12:]), "NAT64"
    elif address in _SIX_TO_FOUR:
        embedded, via = address.sixtofour, "6to4"
    if embedded is not None:
        inner = _refusal(embedded)
        return None if inner is None else (f"{via} for {embedded}, {inner[0]}", inner[1])
    if address not in _GLOBAL_UNICAST:
        return "reserved (outside global unicast 2000::/3)", "reserved"
    return None


def _resolve(host: str, port: int, resolve: Resolver) -> tuple[IPAddress, ...]:
    try:
        found = list(resolve(host, port))
    except (OSError, UnicodeError) as error:  # socket.gaierror is an OSError
        raise UnsafeURL(f"cannot resolve {host} ({error})", code="unresolvable", permanent=False,
                        host=host) from None
    addresses: dict[IPAddress, None] = {}
    for text in found:
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            raise UnsafeURL(f"{host} resolves to {text!r}, which is not an address",
                            code="unresolvable", permanent=False, host=host) from None
        if getattr(address, "scope_id", None):  # fe80::1%eth0: only meaningful on this host's links
            raise UnsafeURL(f"{host} resolves to {text}, a zone-scoped address",
                            code="forbidden_address", permanent=False, host=host, address=text,
                            kind="link_local")
        addresses[address] = None
    if not addresses:
        raise UnsafeURL(f"cannot resolve {host} (no addresses)", code="unresolvable",
                        permanent=False, host=host)
    return tuple(addresses)


# --- URLs ----------------------------------------------------------------------------------------

_FORBIDDEN_CHARS = re.compile(r"[\x00-\x20\x7f\\]")
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_NUMBER = re.compile(r"0x[0-9a-f]*|[0-9]+")
_HOST_CHARS = re.compile(r"[a-z0-9._-]+")


def _parse(url: str) -> tuple[str, str, int, str, IPAddress | None]:
    """(scheme, host, port, request target, the host as an address when it is one)."""
    if not isinstance(url, str) or not url:
        raise UnsafeURL("no URL", code="empty")
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeURL(f"the URL is longer than {MAX_URL_LENGTH} characters", code="too_long",
                        limit=MAX_URL_LENGTH)
    if _FORBIDDEN_CHARS.search(url):
        raise UnsafeURL("the URL holds a space, a control character or a backslash",
                        code="bad_characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UnsafeURL(f"not a valid URL ({error})") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        if not parts.scheme:
            raise UnsafeURL("not an absolute http(s) URL", code="not_absolute")
        raise UnsafeURL(f"only http and https URLs are accepted, not {parts.scheme}:",
                        code="scheme", scheme=parts.scheme)
    if "@" in parts.netloc:
        raise UnsafeURL("user names and passwords in webhook URLs are not accepted",
                        code="credentials")
    if port is None:
        port = DEFAULT_PORTS[scheme]
    elif not 0 < port < 65536:
        raise UnsafeURL(f"port {port} is out of range", code="port", port=port)
    # With no user info, the authority starts with the host: "[" opens an IPv6 literal.
    host, literal = _host(parts.hostname or "", parts.netloc.startswith("["))
    target = parts.path or "/"
    if not target.startswith("/"):
        raise UnsafeURL("not a valid URL (the path must start with /)")
    if parts.query:
        target += "?" + parts.query
    return scheme, host, port, target, literal


def _host(name: str, bracketed: bool) -> tuple[str, IPAddress | None]:
    """The host as the resolver would see it: (ASCII name or address text, address or None)."""
    if not name:
        raise UnsafeURL("the URL has no host")
    if bracketed:
        if "%" in name:
            raise UnsafeURL("IPv6 zone identifiers are not accepted")
        try:
            address = ipaddress.IPv6Address(name)
        except ValueError:
            raise UnsafeURL(f"[{name}] is not a valid IPv6 address") from None
        return str(address), address
    if not name.isascii():
        try:  # UTS 46 maps the way browsers do: full-width digits and dots become ASCII
            import idna

            name = idna.encode(name, uts46=True).decode("ascii")
        except (ImportError, UnicodeError, ValueError) as error:
            raise UnsafeURL(f"{name} is not a valid international host name ({error})") from None
    name = name.lower()
    if name.endswith("."):  # the fully qualified spelling of the same name
        name = name[:-1]
    if not _HOST_CHARS.fullmatch(name):
        raise UnsafeURL(f"{name!r} is not a valid host name")
    address = _inet_aton(name)
    if address is not None:
        return str(address), address
    labels = name.split(".")
    if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise UnsafeURL(f"{name!r} is not a valid host name")
    return name, None


def _inet_aton(name: str) -> ipaddress.IPv4Address | None:
    """A numeric host read the way the C library's inet_aton (and so getaddrinfo) reads it: one to
    four parts, each decimal, octal (leading 0) or hex (0x), the last filling the remaining bytes.
    None when the last label is not a number (a name); UnsafeURL when it is but the whole is not a
    valid address (the WHATWG URL rule: such a host is never looked up in DNS)."""
    labels = name.split(".")
    if not _NUMBER.fullmatch(labels[-1]):
        return None
    bad = UnsafeURL(f"{name!r} looks like a numeric address but is not a valid one")
    if len(labels) > 4:
        raise bad
    values = []
    for label in labels:
        if not _NUMBER.fullmatch(label):
            raise bad
        if label.startswith("0x"):
            values.append(int(label[2:] or "0", 16))
        elif len(label) > 1 and label.startswith("0"):
            if not set(label) <= set("01234567"):
                raise bad
            values.append(int(label, 8))
        else:
            values.append(int(label))
    *head, last = values
    if any(value > 255 for value in head) or last >= 256 ** (5 - len(values)):
        raise bad
    number = last
    for index, value in enumerate(head):
        number += value << (8 * (3 - index))
    return ipaddress.IPv4Address(number)


def allow_private(config: Mapping[str, Any]) -> bool:
    """TRACKER_WEBHOOK_ALLOW_PRIVATE=1 lets webhooks and chat robots reach private addresses
    (development, tests); read one way for subscribing and sending alike."""
    return flag(settings.value(config, "WEBHOOK_ALLOW_PRIVATE"))
