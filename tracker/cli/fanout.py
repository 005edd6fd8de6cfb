"""One function over many inputs in forked worker processes, the results in input order.

For `tracker match` on many files: matching is pure Python, so only processes use more than
one core. The children are forked after the rules are compiled and share them (copy on write;
the matcher has frozen them out of the GC's sight, so a collection does not touch every page);
each input's result comes back as plain data and the parent prints it in the order given.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from typing import Callable, Iterator, Sequence, TypeVar

In = TypeVar("In")
Out = TypeVar("Out")


class _Child:
    """What a forked child runs (set once in each child by `_adopt`)."""

    work: Callable | None = None


def _adopt(work: Callable) -> None:
    _Child.work = work
    # Ctrl-C reaches the whole process group: the parent stops the pool, the children stay quiet.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # how the pool ends its children


def _run(items: list) -> list:
    assert _Child.work is not None
    return [_Child.work(item) for item in items]


def cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def map_in_order(work: Callable[[In], Out], items: Sequence[In], jobs: int, chunk: int = 4,
                 warn: Callable[[str], None] | None = None) -> Iterator[Out]:
    """`map(work, items)` in up to `jobs` forked processes (in this one when jobs is 1, there
    are too few items, or the platform cannot fork). `work` must catch its own errors: one that
    escapes ends the whole map, as in `map`. A child that dies (killed for its memory, a crash
    in a native library) would leave its items unanswered for ever: the pool is stopped, `warn`
    is told, and the items not yet answered are worked here, one by one, still in order."""
    jobs = min(jobs, len(items) // chunk)
    if jobs <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        yield from map(work, items)
        return
    for stream in (sys.stdout, sys.stderr):  # a child must not write the parent's buffer again
        stream.flush()
    # SIGTERM to the parent alone (`timeout`, a supervisor) must not leave the children working.
    previous = signal.signal(signal.SIGTERM, _terminated)
    answered = 0
    try:
        with multiprocessing.get_context("fork").Pool(jobs, initializer=_adopt,
                                                      initargs=(work,)) as pool:
            children = multiprocessing.active_children()  # the pool's: this one has no others
            # Chunks made here, not by imap: its own chunking gives up next(timeout).
            results = pool.imap(_run, [items[i:i + chunk] for i in range(0, len(items), chunk)])
            while answered < len(items):
                try:
                    values = results.next(timeout=WATCH_SECONDS)
                except multiprocessing.TimeoutError:
                    dead = [c for c in children if not c.is_alive()]
                    if not dead:
                        continue
                    if warn:
                        warn(f"a matching process died ({_how(dead[0].exitcode)}); the "
                             f"{len(items) - answered} inputs left are matched in this one")
                    break
                for value in values:
                    answered += 1
                    yield value
    finally:
        signal.signal(signal.SIGTERM, previous)
    yield from map(work, items[answered:])


WATCH_SECONDS = 0.5  # how often a wait for the next result looks at the children


def _how(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit status {exitcode}"


def _terminated(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # out through the pool's `with`, which ends the children
