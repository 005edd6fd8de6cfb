"""Webhook URLs that would reach this host's own network are refused — including the spellings
and tricks that got past other projects' checks. No real DNS: names resolve through an injected
resolver; no request is made."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from tracker.sources.ssrf import UnsafeURL, check_url, public_reason

PUBLIC = "93.184.216.34"


def resolver(*addresses: str):
    """A resolver that answers every name with `addresses` and records what it was asked."""
    asked: list[tuple[str, int]] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append((host, port))
        return list(addresses)
    resolve.asked = asked  # type: ignore[attr-defined]
    return resolve


def no_dns(host: str, port: int) -> list[str]:
    raise AssertionError(f"DNS was asked about {host!r}; a literal address or a refused URL must not be")


REFUSED = [
    # (url, what the reason must say) — the spellings come from SSRF bypasses reported elsewhere
    ("http://127.0.0.1/hook", "loopback"),
    ("http://0x7f000001/", "loopback"),  # hex integer (glibc inet_aton reads it)
    ("http://2130706433/", "loopback"),  # decimal integer
    ("http://0177.0.0.1/", "loopback"),  # octal part
    ("http://0x7f.1/", "loopback"),  # mixed, two parts
    ("http://127.1/", "loopback"),  # short form: the last part fills three bytes
    ("http://127.127.127.127/", "loopback"),  # anywhere in 127/8
    ("http://１２７.０.０.１/", "loopback"),  # full-width digits, mapped by IDNA as browsers do
    ("http://localhost/", "this machine"),
    ("http://LOCALHOST./", "this machine"),  # case and the trailing root dot
    ("http://api.localhost/", "this machine"),
    ("http://[::1]/", "loopback"),
    ("http://[0:0:0:0:0:0:0:1]/", "loopback"),
    ("http://[::ffff:127.0.0.1]/", "IPv4-mapped (127.0.0.1"),
    ("http://[::ffff:7f00:1]/", "IPv4-mapped (127.0.0.1"),  # the same in hex (the WHATWG form)
    ("http://[::ffff:169.254.169.254]/", "IPv4-mapped (169.254.169.254"),
    ("http://[::ffff:8.8.8.8]/", "IPv4-mapped"),  # never in a real AAAA record: refused even public
    ("http://[::127.0.0.1]/", "IPv4-compatible"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://100.100.100.200/latest/meta-data/", "carrier-grade NAT"),  # Alibaba Cloud metadata
    ("http://10.0.0.1/", "private"),
    ("http://172.16.0.1/", "private"),
    ("http://172.31.255.255/", "private"),
    ("http://192.168.1.1/", "private"),
    ("http://100.64.0.1/", "carrier-grade NAT"),
    ("http://0.0.0.0/", "this network"),  # reaches localhost on Linux and macOS
    ("http://0/", "this network"),
    ("http://[::]/", "unspecified"),
    ("http://224.0.0.1/", "multicast"),
    ("http://255.255.255.255/", "reserved"),
    ("http://240.0.0.1/", "reserved"),
    ("http://192.0.2.1/", "documentation"),
    ("http://198.18.0.1/", "benchmarking"),
    ("http://[fe80::1]/", "link-local"),
    ("http://[fc00::1]/", "unique local"),
    ("http://[fd00:ec2::254]/", "unique local"),  # AWS's IPv6 metadata address
    ("http://[fec0::1]/", "site-local"),
    ("http://[ff02::1]/", "multicast"),
    ("http://[64:ff9b::7f00:1]/", "NAT64 for 127.0.0.1"),
    ("http://[64:ff9b::a9fe:a9fe]/", "NAT64 for 169.254.169.254"),
    ("http://[64:ff9b:1::a00:1]/", "local-use NAT64"),
    ("http://[2002:7f00:1::]/", "6to4 for 127.0.0.1"),
    ("http://[2002:c0a8:101::1]/", "6to4 for 192.168.1.1"),
    ("http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "Teredo"),
    ("http://[2001:db8::1]/", "documentation"),
    ("http://[100::1]/", "discard"),
    ("http://[4000::1]/", "outside global unicast"),
]


@pytest.mark.parametrize("url, reason", REFUSED)
def test_forbidden_addresses_are_refused_by_default(url, reason):
    with pytest.raises(UnsafeURL) as refused:
        check_url(url, resolve=no_dns)
    assert reason in str(refused.value)


MALFORMED = [
    ("file:///etc/passwd", "only http and https"),
    ("gopher://127.0.0.1:6379/_FLUSHALL", "only http and https"),
    ("ftp://example.com/", "only http and https"),
    ("dict://127.0.0.1:11211/", "only http and https"),
    ("javascript:alert(1)", "only http and https"),
    ("//example.com/hook", "not an absolute"),
    ("example.com/hook", "not an absolute"),
    ("http://user@127.0.0.1/", "user names and passwords"),
    ("http://user:pass@example.com/", "user names and passwords"),
    ("http://example.com@127.0.0.1/", "user names and passwords"),  # whose host is it?
    ("http://example.com\\@127.0.0.1/", "backslash"),  # parsers disagree about "\" (ssrfcheck #2)
    ("http://localhoste\\@localhost/", "backslash"),
    ("http://exa mple.com/", "space"),
    ("http://example.com/\r\nX-Injected: 1", "control character"),
    ("http://%31%32%37.0.0.1/", "not a valid host name"),  # WHATWG would decode it to 127.0.0.1
    ("http://1.2.3.4.5/", "numeric address but is not a valid one"),
    ("http://08.0.0.1/", "numeric address but is not a valid one"),  # 8 is no octal digit
    ("http://256.0.0.1/", "numeric address but is not a valid one"),
    ("http://example.123/", "numeric address but is not a valid one"),
    ("http://under_score-.example/", "not a valid host name"),
    ("http://[fe80::1%25eth0]/", "zone identifiers"),
    ("http://[not-v6]/", "not a valid"),
    ("http://example.com:0/", "out of range"),
    ("http://example.com:70000/", "not a valid URL"),
    ("http:///hook", "no host"),
    ("", "no URL"),
    ("http://example.com/" + "x" * 3000, "longer than"),
]


@pytest.mark.parametrize("url, reason", MALFORMED)
def test_malformed_and_tricky_urls_are_refused_even_with_allow_private(url, reason):
    for allow_private in (False, True):
        with pytest.raises(UnsafeURL) as refused:
            check_url(url, allow_private=allow_private, resolve=no_dns)
        assert reason in str(refused.value)
        assert refused.value.permanent  # the URL itself is wrong: retrying cannot help


def test_unsafe_url_is_a_value_error():
    with pytest.raises(ValueError):
        check_url("http://127.0.0.1/", resolve=no_dns)


def test_numeric_spellings_mean_what_the_c_resolver_says():
    """Our reading of numeric hosts agrees with the C library's inet_aton, which getaddrinfo uses."""
    for spelling in ("0x7f000001", "2130706433", "0177.0.0.1", "127.1", "0x7f.1", "0", "10.1", "0xa.0.0.1"):
        expected = ipaddress.IPv4Address(socket.inet_aton(spelling))
        target = check_url(f"http://{spelling}/", allow_private=True, resolve=no_dns)
        assert target.addresses == (expected,)
        assert target.host == str(expected)


def test_name_resolving_to_loopback_is_refused_and_retryable():
    resolve = resolver("127.0.0.1")
    with pytest.raises(UnsafeURL) as refused:
        check_url("https://hooks.example.com/in", resolve=resolve)
    assert "hooks.example.com resolves to 127.0.0.1, which is loopback" in str(refused.value)
    assert not refused.value.permanent  # DNS may be put right: the delivery is retried later
    assert resolve.asked == [("hooks.example.com", 443)]


@pytest.mark.parametrize("answer", [
    ["10.0.0.5"], ["169.254.169.254"], ["::1"], ["::ffff:127.0.0.1"], ["::ffff:10.0.0.1"],
    ["fd00::1"], ["64:ff9b::a00:1"], ["0.0.0.0"], ["100.100.100.200"],
])
def test_names_resolving_to_any_forbidden_address_are_refused(answer):
    with pytest.raises(UnsafeURL):
        check_url("https://hooks.example.com/in", resolve=resolver(*answer))


def test_every_resolved_address_must_be_public():
    """A public A record next to a private AAAA (or the other way round) is still refused: the
    connection may go to either."""
    with pytest.raises(UnsafeURL) as refused:
        check_url("https://hooks.example.com/", resolve=resolver(PUBLIC, "fd12::1"))
    assert "fd12::1" in str(refused.value)


def test_resolution_failures_are_refusals_that_may_pass_later():
    def broken(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    for resolve, said in ((broken, "cannot resolve hooks.example.com"),
                          (resolver(), "no addresses"), (resolver("bogus"), "not an address"),
                          (resolver("fe80::1%eth0"), "zone-scoped")):
        for allow_private in (False, True):
            with pytest.raises(UnsafeURL) as refused:
                check_url("https://hooks.example.com/", allow_private=allow_private, resolve=resolve)
            assert said in str(refused.value)
            assert not refused.value.permanent


def test_public_names_and_addresses_are_accepted():
    resolve = resolver(PUBLIC, "2606:2800:220:1:248:1893:25c8:1946")
    target = check_url("https://Hooks.Example.COM./in/tracker?token=abc#ignored", resolve=resolve)
    assert target.scheme == "https"
    assert target.host == "hooks.example.com"
    assert target.port == 443
    assert target.request_target == "/in/tracker?token=abc"
    assert target.addresses == (ipaddress.ip_address(PUBLIC),
                                ipaddress.ip_address("2606:2800:220:1:248:1893:25c8:1946"))
    assert target.host_header == "hooks.example.com"
    assert target.sni_hostname == "hooks.example.com"
    assert target.url_for(target.addresses[0]) == f"https://{PUBLIC}:443/in/tracker?token=abc"
    assert target.url_for(target.addresses[1]) == \
        "https://[2606:2800:220:1:248:1893:25c8:1946]:443/in/tracker?token=abc"
    assert resolve.asked == [("hooks.example.com", 443)]

    literal = check_url(f"http://{PUBLIC}:8080", resolve=no_dns)
    assert literal.addresses == (ipaddress.ip_address(PUBLIC),)
    assert literal.host_header == f"{PUBLIC}:8080"
    assert literal.sni_hostname is None  # TLS to an address checks the address, sends no SNI
    assert literal.request_target == "/"

    # NAT64 and 6to4 carrying a public IPv4 stay usable (IPv6-only hosts behind DNS64).
    for url in ("http://[64:ff9b::5db8:d822]/", "http://[2002:5db8:d822::1]/", "http://[2606:4700::1111]/"):
        assert check_url(url, resolve=no_dns).addresses


def test_international_names_are_resolved_in_their_ascii_form():
    resolve = resolver(PUBLIC)
    target = check_url("https://例子.中国/钩子", resolve=resolve)
    assert target.host == "xn--fsqu00a.xn--fiqs8s"
    assert resolve.asked == [("xn--fsqu00a.xn--fiqs8s", 443)]
    assert target.request_target == "/钩子"  # httpx percent-encodes it on the wire


def test_allow_private_lifts_only_the_address_rules():
    for url, address in (("http://127.0.0.1:8080/", "127.0.0.1"), ("http://0x7f000001/", "127.0.0.1"),
                         ("http://[::1]/", "::1"), ("http://10.0.0.1/", "10.0.0.1"),
                         ("http://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1")):
        assert check_url(url, allow_private=True, resolve=no_dns).addresses == (ipaddress.ip_address(address),)
    resolve = resolver("127.0.0.1")
    assert check_url("http://localhost:5000/", allow_private=True, resolve=resolve).addresses == \
        (ipaddress.ip_address("127.0.0.1"),)
    assert check_url("http://hooks.test/", allow_private=True, resolve=resolve).host == "hooks.test"
    with pytest.raises(UnsafeURL):
        check_url("ftp://127.0.0.1/", allow_private=True, resolve=no_dns)
    with pytest.raises(UnsafeURL):
        check_url("http://user@127.0.0.1/", allow_private=True, resolve=no_dns)


@pytest.mark.parametrize("address", [
    "8.8.8.8", "1.1.1.1", PUBLIC, "100.63.255.255", "100.128.0.0", "172.32.0.1", "11.0.0.1",
    "2606:4700:4700::1111", "2400:3200::1",
])
def test_public_reason_accepts_public_addresses(address):
    assert public_reason(ipaddress.ip_address(address)) is None


def test_public_reason_agrees_with_the_standard_library_where_that_is_settled():
    """Every address the stdlib calls private, loopback, link-local, multicast or unspecified is
    refused by our table too (ours refuses more: CGNAT, NAT64/6to4 wrappers, IPv4-mapped)."""
    samples = ["0.0.0.1", "10.1.2.3", "127.0.0.2", "169.254.1.1", "172.20.0.1", "192.168.0.1",
               "224.1.1.1", "::", "::1", "fe80::abcd", "fc00::5", "fd00::5", "ff05::2"]
    for text in samples:
        address = ipaddress.ip_address(text)
        assert address.is_private or address.is_loopback or address.is_link_local or \
            address.is_multicast or address.is_unspecified or address.is_reserved
        assert public_reason(address) is not None, text


# --- links found in a source (tracker.sources.http.route) ----------------------------------------

HOME = "http://127.0.0.1:8080/feed.xml"


@pytest.mark.parametrize("link", [
    "http://127.0.0.1:8080/a.htm", "HTTP://127.0.0.1:8080/b", "http://127.0.0.1.:8080/c",
])
def test_a_link_to_the_sources_own_site_is_fetched_as_is(link):
    from tracker.sources.http import route

    assert route(link, HOME) == (link, {}, {})


@pytest.mark.parametrize("link", [
    "http://127.0.0.1:8081/", "https://127.0.0.1:8080/", "http://localhost:8080/",
    "http://127.1:8080/", "http://[::1]:8080/", "http://0x7f000001:8080/",
    "http://127.0.0.1:8080@127.0.0.1:8081/", "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/", "file:///etc/passwd", "gopher://127.0.0.1:8080/",
])
def test_any_other_link_must_reach_a_public_address(link):
    from tracker.documents import InputError
    from tracker.sources.http import route

    with pytest.raises(InputError):
        route(link, HOME)


def test_a_public_link_is_pinned_to_the_address_that_was_checked(monkeypatch):
    from tracker.sources import ssrf
    from tracker.sources.http import route

    monkeypatch.setattr(ssrf, "system_resolve", lambda host, port: ["93.184.216.34"])
    url, headers, extensions = route("https://news.example.cn/a/1.htm?x=1", HOME)
    assert url == "https://93.184.216.34:443/a/1.htm?x=1"
    assert headers == {"Host": "news.example.cn"}
    assert extensions == {"sni_hostname": "news.example.cn"}
