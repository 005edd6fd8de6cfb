"""Settings (their table: tracker.settings): defaults, then the instance folder's `config.py`, then `TRACKER_*` environment
variables (values parsed as JSON when they are JSON). The worker, the CLI and the web app read
the same values; the web app copies them into app.config.

Why not `flask.Config`: the worker and every domain module read settings, and domain packages
never import flask (checked by `make lint`); the two loading verbs used here are twenty lines.

The instance folder is `TRACKER_INSTANCE` (default `./instance`); the rules folder is
`TRACKER_RULES` (default `./rules`).

`config.py` is Python, run by every command. One that someone else could have written (owned by
another user than this one or root, or writable by group or others, or in such a folder) is not
run, with a warning: `./instance` is wherever the command happens to be run (SECURITY.md).
"""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path
from typing import Any, Mapping

from tracker.settings import DEFAULTS as SETTINGS_DEFAULTS
from tracker.settings import RENAMED, SettingError, checked

__all__ = ["DEFAULTS", "Config", "SettingError", "load_config", "instance_file", "flag"]

PREFIX = "TRACKER_"
log = logging.getLogger(__name__)

# Every setting's default, from the one table of them (tracker.settings).
DEFAULTS: dict[str, Any] = dict(SETTINGS_DEFAULTS)


class Config(dict):
    """A dict of upper-case settings with Flask's loading verbs."""

    def from_pyfile(self, path: Path) -> bool:
        """Load upper-case names from a Python file; a missing file is not an error."""
        if not path.is_file():
            return False
        problem = config_file_problem(path)
        if problem:
            log.warning("%s: %s; not run, its settings are not used (see SECURITY.md)", path, problem)
            return False
        namespace: dict[str, Any] = {"__file__": str(path)}
        exec(compile(path.read_bytes(), str(path), "exec"), namespace)  # noqa: S102 - admin's own file
        self.update({k: v for k, v in namespace.items() if k.isupper()})
        return True

    def from_prefixed_env(self, environ: Mapping[str, str], prefix: str = PREFIX) -> None:
        """Like Flask's: `TRACKER_X=1` sets `X` to 1 (JSON when it parses, else the string)."""
        for key in sorted(environ):
            if not key.startswith(prefix) or key == prefix + "INSTANCE":
                continue
            value: Any = environ[key]
            try:
                value = json.loads(value)
            except ValueError:
                pass
            self[key[len(prefix):]] = value


def written_by_others(info: os.stat_result, root_ok: bool = False) -> str | None:
    """Why a file or folder with this status may hold what someone else wrote: it belongs to
    another user (root is believed with `root_ok`), or group or others may write it. None when
    only its owner, this user, could have."""
    uid = os.geteuid()
    if info.st_uid != uid and not (root_ok and info.st_uid == 0):
        return f"belongs to another user (uid {info.st_uid})"
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"may be written by group or others (mode {stat.S_IMODE(info.st_mode):04o})"
    return None


def config_file_problem(path: Path) -> str | None:
    """Why the instance's `config.py` at `path` is not to be run (see `written_by_others`: the
    file, and the folder that holds it); None when it may be."""
    try:
        problem = written_by_others(path.stat(), root_ok=True)
        folder = written_by_others(path.resolve().parent.stat(), root_ok=True)
    except OSError as error:
        return f"cannot be read ({error.strerror or error})"
    if problem:
        return problem
    return f"its folder {folder}" if folder else None


def flag(value: Any) -> bool:
    """A yes/no setting: "1", "true", "yes", "on" (any case, spaces around) or a true non-string
    (True, 1); anything else, None included, is no."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def instance_path(environ: Mapping[str, str] | None = None) -> Path:
    """The instance folder: `TRACKER_INSTANCE`, else `./instance` (absolute)."""
    environ = os.environ if environ is None else environ
    return Path(environ.get(PREFIX + "INSTANCE") or "instance").resolve()


def load_config(test_config: Mapping[str, Any] | None = None,
                environ: Mapping[str, str] | None = None) -> Config:
    """Defaults, then `instance/config.py`, then `TRACKER_*` variables, then `test_config`;
    every setting checked and converted (tracker.settings): SettingError names the first
    that cannot be used. The instance folder is `test_config`'s INSTANCE_PATH when it gives
    one, else TRACKER_INSTANCE."""
    environ = os.environ if environ is None else environ
    config = Config(DEFAULTS)
    given = (test_config or {}).get("INSTANCE_PATH")
    config["INSTANCE_PATH"] = str(Path(given).resolve() if given else instance_path(environ))
    config.from_pyfile(Path(config["INSTANCE_PATH"]) / "config.py")
    config.from_prefixed_env(environ)
    if test_config:
        config.update(test_config)
    return Config(checked(_renamed(config, environ, test_config or {})))


def _renamed(config: Config, environ: Mapping[str, str], given: Mapping[str, Any]) -> Config:
    """A setting set under its old name (settings.RENAMED) is used under its new one, with a
    warning, unless the new name was set too."""
    for old, new in RENAMED.items():
        if old not in config:
            continue
        value = config.pop(old)
        set_new = PREFIX + new in environ or new in given or config[new] != DEFAULTS[new]
        log.warning("%s%s is now called %s%s%s", PREFIX, old, PREFIX, new,
                    "; the new name's value is used" if set_new else "")
        if not set_new:
            config[new] = value
    return config


def instance_file(config: Mapping[str, Any], key: str) -> Path:
    """A file setting, relative to the instance folder unless absolute."""
    path = Path(config[key])
    return path if path.is_absolute() else Path(config["INSTANCE_PATH"]) / path


def cache_folder(config: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> Path | None:
    """Where work that can be redone is kept between runs (parsed rule files): `CACHE` if set
    (relative to the instance folder unless absolute), else the user's own cache folder,
    `$XDG_CACHE_HOME/tracker` or `~/.cache/tracker`; None when there is no home to keep it in.
    Never a folder chosen by the current directory: whoever can write the cache decides the
    rules (tracker.rules.cache). Deleting it loses nothing."""
    if config.get("CACHE"):
        return instance_file(config, "CACHE")
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # the XDG spec: a relative path is to be ignored
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no HOME and no password entry
            return None
    return Path(base) / "tracker"
