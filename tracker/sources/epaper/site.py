"""One fetch of a site read page by page (an e-paper issue; a policy list, tracker.sources.policy,
reads its pages the same way): within what is left of the site's deadline, every hop kept on
the site's host, a redirect loop named."""

from __future__ import annotations

import time
from typing import Any, Mapping

import httpx

from tracker.documents import InputError
from tracker.sources.epaper.links import same_host
from tracker.sources.epaper.problems import named_error
from tracker.sources.http import MAX_REDIRECTS, Fetched, fetch, setting


class OutOfTime(Exception):
    """The site's deadline passed before a fetch could start."""


def fetch_on_site(url: str, config: Mapping[str, Any], home: str, deadline: float, *,
                  client: httpx.Client | None = None, what: str = "site") -> Fetched:
    """`url` within what is left until `deadline` (time.monotonic()); a redirect off `home`'s
    host is refused (`what` names the site in the problem), a redirect loop is named
    `redirect-loop`. OutOfTime when no time is left."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise OutOfTime(url)
    total = min(setting(config, "HTTP_TOTAL_TIMEOUT"), left)
    try:
        fetched = fetch(url, {**config, "HTTP_TOTAL_TIMEOUT": total}, home=home,
                        same_host=True, client=client)  # checked at every hop
    except InputError as error:
        if error.problem == f"more than {MAX_REDIRECTS} redirects":
            raise named_error(url, "redirect-loop", detail=error.problem) from None
        raise
    if not same_host(fetched.url, home):
        raise InputError(url, f"redirected off the {what}'s host to {fetched.url}; not read",
                         code="off_host", fields={"target": fetched.url})
    return fetched
