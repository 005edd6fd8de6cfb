"""Where a chat robot's Apprise URL makes the worker connect, checked like a webhook's.

Most chat plugins post to their service's own fixed endpoint (dingtalk://token goes to
oapi.dingtalk.com whatever the token says). Others take a host from the URL (bark://host/key,
json://host/path, ntfy://host/topic): those are the server-side request forgery door, since
the worker would POST wherever a subscriber points it. A plugin names a host when one of its
URL templates holds `{host}`; that host goes through tracker.sources.ssrf's check (public
addresses only, unless TRACKER_WEBHOOK_ALLOW_PRIVATE) when the subscription is made and again
before every send.

The address checked is the address used: for plain-http plugins the URL handed to Apprise names
the vetted address instead of the host (pinned; DNS is not asked again). A TLS plugin must keep
the name for its certificate, so it cannot be pinned: the public form accepts one only for the
known service hosts in PINNED_SERVICES (a name whose DNS no subscriber controls); an
administrator's is checked at every send but not pinned.
"""

from __future__ import annotations

from tracker.sources.ssrf import Resolver, UnsafeURL, check_url

PINNED_SERVICES = frozenset({"api.day.app"})  # Bark's own server


def _plugin(url: str):
    """The one Apprise plugin `url` makes. Apprise reads several URLs from one string (split on
    spaces, commas and semicolons: `dingtalk://t, json://127.0.0.1/`) and would send to each:
    such a string is refused, since only its first URL would have been checked."""
    import apprise

    notifier = apprise.Apprise()
    notifier.add(url)
    if len(notifier) > 1:
        raise UnsafeURL("one chat URL at a time (Apprise reads this as several)",
                        code="several_urls")
    return apprise.Apprise.instantiate(url, suppress_exceptions=True)


def vet_chat_url(url: str, *, allow_private: bool = False, public: bool = False,
                 resolve: Resolver | None = None) -> str:
    """The URL to give Apprise: `url` itself (no host of its own), or with its host checked
    and, over plain http, replaced by the vetted address. UnsafeURL says why not.

    The host is the one Apprise itself parsed from `url` (not our reading of it: the two
    parsers differ on odd spellings like `bark://a.com\\@127.0.0.1/`), and the pinned URL is
    Apprise's own rendering of the plugin with that host replaced."""
    plugin = _plugin(url)
    if plugin is None or not any("{host}" in t for t in getattr(plugin, "templates", ())):
        return url
    secure = bool(getattr(plugin, "secure", False))
    host = str(getattr(plugin, "host", "") or "").strip("[]").rstrip(".").lower()
    port = getattr(plugin, "port", None)
    if not host:
        raise UnsafeURL("the chat URL names no host", code="invalid")
    literal_host = f"[{host}]" if ":" in host else host
    probe = f"{'https' if secure else 'http'}://{literal_host}{f':{int(port)}' if port else ''}/"
    target = check_url(probe, allow_private=allow_private, resolve=resolve)
    if secure:
        if public and target.host not in PINNED_SERVICES:
            raise UnsafeURL(f"{host} cannot be checked for every message (TLS to a host of the "
                            "subscriber's choosing); ask an administrator", code="other",
                            host=host)
        return url
    address = target.addresses[0]
    plugin.host = f"[{address}]" if address.version == 6 else str(address)
    return plugin.url(privacy=False)
