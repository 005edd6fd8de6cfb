"""A large rule file's parsed rules kept on disk, so the next start does not read its YAML again.

Reading 100,000 rules checks every YAML node (each problem gets its file:line): seconds at every
start of `tracker match` or the worker. What reading one file gives (its rules, problems and
global excludes) is pickled in a cache folder under the instance folder, named by a digest of
the file's text, its name and the code that reads it (and the Python, PyYAML, OpenCC and RE2 it
runs on): a changed file, or new code, is read again. An entry starts with a digest of the
pickle that follows and of its own name: one damaged on disk (even into another valid pickle,
or into a length the unpickler would try to allocate), or another entry copied over it, is
ignored and written anew. Files under SMALL bytes are read as they are (fast already). The
cache is as trusted as the instance folder that holds it (which holds the database too).
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
import sys
import tempfile
import time
from functools import lru_cache
from pathlib import Path
from typing import Callable, TypeVar

SMALL = 64 << 10  # bytes of YAML (~1,000 rules) below which a file is not cached
KEEP = 32  # cache entries kept; the least recently used go first
# ... but never one used this last hour: a start reads a folder's files in the same order each
# time, and a folder of more than KEEP large files would otherwise lose each file's entry just
# before it is needed (every start reading every file again).
RECENT_SECONDS = 3600
# The code whose output is cached, relative to the tracker package.
CODE = ("rules/load.py", "rules/model.py", "rules/regex.py", "text/normalize.py", "yamlcheck.py")

Parsed = TypeVar("Parsed")


@lru_cache(maxsize=1)
def code_digest() -> bytes:
    """What the cached objects depend on besides the file: the reading code and its libraries."""
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


def cached(folder: Path, text: str, filename: str, parse: Callable[[str, str], Parsed]) -> Parsed:
    """`parse(text, filename)`, from the cache in `folder` when this text was read before."""
    data = text.encode("utf-8", "surrogatepass")
    if len(data) < SMALL:
        return parse(text, filename)
    digest = hashlib.blake2b(data, digest_size=20, key=code_digest())
    digest.update(filename.encode("utf-8", "surrogatepass"))
    entry = folder / f"rules-{digest.hexdigest()}.pickle"
    name = digest.digest()  # also in the entry's check: another entry renamed to it fails it
    paused = gc.isenabled()
    gc.disable()  # as for reading YAML: a collection would walk the objects being made
    try:
        data = memoryview(entry.read_bytes())
        if data[:_CHECK] != _check(name, data[_CHECK:]):
            raise ValueError("damaged cache entry")
        found = pickle.loads(data[_CHECK:])
        os.utime(entry)  # recently used: kept when older entries are pruned
        return found
    except FileNotFoundError:
        pass
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError,
            ValueError, IndexError):
        pass  # damaged or from other code: read the file and write the entry anew
    finally:
        if paused:
            gc.enable()
    parsed = parse(text, filename)
    _write(folder, entry, name, parsed)
    return parsed


def _write(folder: Path, entry: Path, name: bytes, parsed: object) -> None:
    """Write an entry atomically (readers see the old file or the whole new one); a cache that
    cannot be written only costs the next start its time."""
    try:
        data = pickle.dumps(parsed, protocol=pickle.HIGHEST_PROTOCOL)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # pickles: ours alone
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".rules-", suffix=".tmp")
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


def _check(name: bytes, pickled: bytes | memoryview) -> bytes:
    """The digest an entry starts with: of the pickle that follows it, keyed by the digest that
    names the entry (the file's text, name and code)."""
    return hashlib.blake2b(pickled, digest_size=_CHECK, key=name).digest()


def _prune(folder: Path) -> None:
    used = sorted(((p.stat().st_mtime, p) for p in folder.glob("rules-*.pickle")), reverse=True)
    recent = time.time() - RECENT_SECONDS
    for when, old in used[KEEP:]:
        if when < recent:
            old.unlink(missing_ok=True)
