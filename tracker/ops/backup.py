"""Online backups of the SQLite archive.

    tracker backup                      # instance/backups/tracker-YYYYmmdd-HHMMSS.db
    tracker backup /mnt/safe/tracker.db # or a file (or a folder) of your choice

The copy is made with SQLite's online backup API (`sqlite3.Connection.backup`) in one step: it
reads one consistent snapshot of the database while the worker and the web app go on writing
(WAL mode: a reader does not block writers, nor they it). It is written under a temporary name
beside the destination, switched out of WAL mode (so it is one self-contained file), checked
with `PRAGMA integrity_check`, and only then renamed into place: a destination path never holds
a half-written copy. The copy holds subscribers' addresses and webhook secrets, so it is made
readable by its owner only (0600). An existing destination file is never overwritten.

Only the database is copied. The other state worth keeping is small and changes rarely; keep a
copy of it once, beside the backups: `instance/secret_key` (signs the manage/unsubscribe links
already sent in alerts: lose it and those links stop working), `instance/sources.yaml`,
`instance/config.py` if any, and the rules folder (TRACKER_RULES; it is under version control
when it is the repository's `rules/`). `instance/ratelimit.db` needs no backup.

Restore
-------
1. Stop the worker and the web app (`tracker worker`, `tracker serve`): nothing may have the
   database open while it is replaced.
2. Copy the backup over the database: `cp instance/backups/tracker-….db instance/tracker.db`
   (or TRACKER_DATABASE, if you set it elsewhere).
3. Remove the old write-ahead log and its index, if they are there:
   `rm -f instance/tracker.db-wal instance/tracker.db-shm` — a WAL left from the old database
   would otherwise be replayed into the restored one and corrupt it.
4. If the instance folder itself was lost, put back `secret_key`, `sources.yaml` (and
   `config.py`) from your copy of them as well.
5. Start the worker and the web app. The first connection turns WAL mode back on and applies any
   newer schema migrations. Articles published since the backup are fetched again by the next
   cycles as far as the sources still list them; deliveries made since the backup are not
   known to the restored database (an alert may be sent twice).
"""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime
from pathlib import Path

BACKUP_DIR = "backups"


class BackupError(Exception):
    """The copy could not be made, or failed its check (no file is left at the destination)."""


def default_name(moment: datetime | None = None) -> str:
    """`tracker-YYYYmmdd-HHMMSS.db`, in the machine's local time."""
    return f"tracker-{(moment or datetime.now()):%Y%m%d-%H%M%S}.db"


def default_dest(db_path: str | Path, moment: datetime | None = None) -> Path:
    """`backups/tracker-YYYYmmdd-HHMMSS.db` beside the database (instance/backups/…)."""
    return Path(db_path).parent / BACKUP_DIR / default_name(moment)


def backup(db_path: str | Path, dest: str | Path | None = None) -> Path:
    """Copy the live database at `db_path` to `dest` and return the copy's path.

    `dest` is a file path, an existing folder (the copy gets the default name inside it), or
    None (`backups/` beside the database). Raises FileNotFoundError when there is no database
    (SQLite would make an empty one), FileExistsError when the destination exists, BackupError
    when the copy fails its integrity check."""
    source_path = Path(db_path)
    if not source_path.is_file():
        raise FileNotFoundError(f"no database at {source_path}")
    if dest is None:
        target = default_dest(source_path)
    else:
        target = Path(dest)
        if target.is_dir():
            target = target / default_name()
    if target.exists():
        raise FileExistsError(f"{target} exists; not overwriting it")
    if target.resolve() == source_path.resolve():
        raise FileExistsError(f"{target} is the database itself")
    target.parent.mkdir(parents=True, exist_ok=True)
    draft = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    draft.unlink(missing_ok=True)
    try:
        _copy(source_path, draft)
        _fsync(draft)
        if target.exists():  # made meanwhile by someone else: theirs stays
            raise FileExistsError(f"{target} exists; not overwriting it")
        os.replace(draft, target)
    finally:
        draft.unlink(missing_ok=True)
    _fsync_dir(target.parent)
    return target


def _copy(source_path: Path, draft: Path) -> None:
    # A plain connection: tracker.store.connect would run migrations, and a backup never writes.
    source = sqlite3.connect(source_path, timeout=10)
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # owner-only from the start
    os.close(fd)
    copy = sqlite3.connect(draft, isolation_level=None)
    try:
        source.execute("PRAGMA busy_timeout = 10000")
        # pages=-1: the whole database in one step, from one read snapshot. Stepping through it
        # in pieces would restart the copy each time the worker commits (another connection),
        # and might never finish on a busy archive.
        source.backup(copy, pages=-1)
        copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal/-shm
        result = [row[0] for row in copy.execute("PRAGMA integrity_check")]
        if result != ["ok"]:
            raise BackupError(f"the copy failed its integrity check: {'; '.join(result[:5])}")
    except sqlite3.Error as err:
        raise BackupError(f"backup of {source_path} failed: {err}") from err
    finally:
        copy.close()
        source.close()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # some systems cannot open a folder; the rename is still done
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
