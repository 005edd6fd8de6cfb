"""Time limits that hold: TRACKER_HTTP_TOTAL_TIMEOUT bounds the whole request, the wait for the
response headers included, and so does the e-paper deadline. The server here answers at once
but drips its headers one byte at a time, faster than the read timeout (which never trips).

The tests assert which limit ended the call (its error names it); how soon after the limit it
ends is bench/deadline_bench.py's figure (`make bench`), never a timed test. The dripping server
gives up after a minute: a broken limit fails here late, it does not hang."""

from __future__ import annotations

import re
import time
from typing import Iterator

import pytest

from epaper_site import DAY
from slow_peers import dripping_server
from tracker.documents import InputError
from tracker.sources.catalog import Source
from tracker.sources.epaper import issue_documents
from tracker.sources.http import fetch


@pytest.fixture
def dripping() -> Iterator[int]:
    with dripping_server(0.25) as port:
        yield port


def test_headers_dripped_slower_than_the_total_limit_are_cut_at_it(dripping):
    config = {"HTTP_CONNECT_TIMEOUT": 1.0, "HTTP_READ_TIMEOUT": 1.0, "HTTP_TOTAL_TIMEOUT": 1.5}
    started = time.monotonic()
    with pytest.raises(InputError) as caught:
        fetch(f"http://127.0.0.1:{dripping}/feed.xml", config)
    assert time.monotonic() - started >= 1.4  # not cut before the limit (a lower bound: no load makes it flaky)
    assert str(caught.value).endswith("timed out after 1.5 s")  # the total limit, not the read timeout


def test_the_epaper_deadline_cuts_an_index_whose_headers_drip(dripping):
    source = Source(id="slow", name="慢报", type="epaper",
                    url=f"http://127.0.0.1:{dripping}/{{date:%Y-%m/%d}}/node_1.htm")
    config = {"HTTP_CONNECT_TIMEOUT": 1.0, "HTTP_READ_TIMEOUT": 1.0, "HTTP_TOTAL_TIMEOUT": 30.0,
              "EPAPER_DEADLINE": 1.5}
    try:
        issue = issue_documents(source, DAY, config)
        said = " ".join(issue.problems)
    except InputError as error:
        said = str(error)
    # The deadline cut the fetch: what was left of its 1.5 s, not the 30 s total limit.
    left = re.search(r"timed out after ([\d.]+) s", said)
    assert "EPAPER_DEADLINE" in said or (left and float(left.group(1)) <= 1.5), said


def test_a_quick_answer_is_untouched_by_the_watchdog(site):
    from loopback import respond

    site.routes["/ok.txt"] = respond(b"fine", "text/plain")
    config = {"HTTP_CONNECT_TIMEOUT": 1.0, "HTTP_READ_TIMEOUT": 1.0, "HTTP_TOTAL_TIMEOUT": 0.5}
    for _ in range(3):  # the timer of one request never reaches the next
        assert fetch(f"{site.base}/ok.txt", config).data == b"fine"
