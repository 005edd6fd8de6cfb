"""A large rule file's parsed rules kept on disk, so the next start does not read its YAML again.

Reading 100,000 rules checks every YAML node (each problem gets its file:line): seconds at every
start of `tracker match` or the worker. What reading one file gives (its rules, problems and
global excludes) is kept as plain JSON data (tracker.rules.plain: never a pickle, so an entry,
whoever wrote it, can hold no code to run) in the user's cache folder
(`tracker.config.cache_folder`), named by a digest of the file's text, its name and the code
that reads it (and the Python, PyYAML, OpenCC and RE2 it runs on): a changed file, or new code,
is read again. An entry starts with a digest of the data that follows and of its own name: one
damaged on disk, or another entry copied over it, is ignored and written anew. Files under
SMALL bytes are read as they are (fast already).

Those digests are of public inputs: anyone could compute them. What keeps a stranger's entry
out is where the entries are: a folder of the user's own that no one else may write (made
0700, entries 0600). A folder or entry owned by another user, or writable by group or others,
is not used, with a warning (SECURITY.md).
"""

from __future__ import annotations

import gc
import hashlib
import logging
import os
import stat
import sys
import tempfile
import time
from functools import lru_cache
from pathlib import Path
from typing import Callable

from tracker.config import written_by_others
from tracker.rules import plain
from tracker.rules.model import ParsedFile

log = logging.getLogger(__name__)

SMALL = 64 << 10  # bytes of YAML (~1,000 rules) below which a file is not cached
KEEP = 32  # cache entries kept; the least recently used go first
# ... but never one used this last hour: a start reads a folder's files in the same order each
# time, and a folder of more than KEEP large files would otherwise lose each file's entry just
# before it is needed (every start reading every file again).
RECENT_SECONDS = 3600
# The code whose output is cached, relative to the tracker package.
CODE = ("rules/load.py", "rules/model.py", "rules/plain.py", "rules/regex.py",
        "text/normalize.py", "text/fold_chars.py", "yamlcheck.py")
SUFFIX = ".json"

_warned: set[str] = set()  # folders and entries already warned about, once per process


@lru_cache(maxsize=1)
def code_digest() -> bytes:
    """What the cached data depends on besides the file: the reading code and its libraries."""
    from importlib.metadata import PackageNotFoundError, version

    import opencc
    import yaml

    try:  # RE2 decides which patterns are problems
        re2_version = version("google-re2")
    except PackageNotFoundError:
        re2_version = ""

    package = Path(__file__).resolve().parents[1]
    digest = hashlib.blake2b(digest_size=16)
    for name in CODE:
        digest.update((package / name).read_bytes())
    digest.update(f"{sys.version}|{yaml.__version__}|{getattr(opencc, '__version__', '')}|"
                  f"{re2_version}|{yaml.__with_libyaml__}".encode())
    return digest.digest()


def cached(folder: Path, text: str, filename: str,
           parse: Callable[[str, str], ParsedFile]) -> ParsedFile:
    """`parse(text, filename)`, from the cache in `folder` when this text was read before."""
    data = text.encode("utf-8", "surrogatepass")
    if len(data) < SMALL:
        return parse(text, filename)
    if not _own_folder(folder):
        return parse(text, filename)
    digest = hashlib.blake2b(data, digest_size=20, key=code_digest())
    digest.update(filename.encode("utf-8", "surrogatepass"))
    entry = folder / f"rules-{digest.hexdigest()}{SUFFIX}"
    name = digest.digest()  # also in the entry's check: another entry renamed to it fails it
    paused = gc.isenabled()
    gc.disable()  # as for reading YAML: a collection would walk the objects being made
    try:
        stored = _read_own(entry)
        if stored is not None and stored[:_CHECK] == _check(name, stored[_CHECK:]):
            found = plain.loads(stored[_CHECK:])
            os.utime(entry)  # recently used: kept when older entries are pruned
            return found
    except (OSError, ValueError):
        pass  # damaged or from other code: read the file and write the entry anew
    finally:
        if paused:
            gc.enable()
    parsed = parse(text, filename)
    _write(folder, entry, name, parsed)
    return parsed


def _own_folder(folder: Path) -> bool:
    """Whether entries may be read from and written to `folder`: it is missing (made 0700 on
    the first write), or it is a folder of this user's that group and others cannot write."""
    try:
        info = folder.stat()
    except FileNotFoundError:
        return True
    except OSError as error:
        _warn(folder, f"cannot be read ({error.strerror or error})")
        return False
    if not stat.S_ISDIR(info.st_mode):
        _warn(folder, "is not a folder")
        return False
    return _trusted(folder, info)


def _read_own(entry: Path) -> bytes | None:
    """An entry's bytes, if it is a regular file of this user's that group and others cannot
    write (never through a symbolic link); None when it is missing or not ours."""
    try:
        fd = os.open(entry, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode) or not _trusted(entry, info):
            return None
        return file.read()


def _trusted(path: Path, info: os.stat_result) -> bool:
    problem = written_by_others(info)
    if problem:
        _warn(path, f"{problem}; not used")
    return not problem


def _warn(path: Path, problem: str) -> None:
    if str(path) not in _warned:
        _warned.add(str(path))
        log.warning("rule cache %s: %s (the rules are read from their files; see SECURITY.md)",
                    path, problem)


def _write(folder: Path, entry: Path, name: bytes, parsed: ParsedFile) -> None:
    """Write an entry atomically (readers see the old file or the whole new one); a cache that
    cannot be written only costs the next start its time."""
    try:
        data = plain.dumps(parsed)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # ours alone
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".rules-", suffix=".tmp")  # 0600
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(_check(name, data))
                file.write(data)
            os.replace(tmp, entry)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        _prune(folder)
    except OSError:
        pass


_CHECK = 16  # bytes of the digest an entry starts with


def _check(name: bytes, data: bytes) -> bytes:
    """The digest an entry starts with: of the data that follows it, keyed by the digest that
    names the entry (the file's text, name and code)."""
    return hashlib.blake2b(data, digest_size=_CHECK, key=name).digest()


def _prune(folder: Path) -> None:
    used = sorted(((p.stat().st_mtime, p) for p in folder.glob(f"rules-*{SUFFIX}")), reverse=True)
    recent = time.time() - RECENT_SECONDS
    for when, old in used[KEEP:]:
        if when < recent:
            old.unlink(missing_ok=True)
