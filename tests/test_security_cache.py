"""What a stranger can leave in a folder where someone runs `tracker`: nothing that runs as them.

The real `tracker` command runs as a subprocess in a shared folder (rules, an `instance/`
another user could write). A rule-cache entry planted beside the rules was unpickled — code run
— by `tracker match`; the cache is now plain data in the user's own folder, and a cache folder
or entry someone else could have written is not used. An `instance/config.py` someone else
could have written is not run.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tracker.rules.cache import SMALL, code_digest

TRACKER = Path(sys.executable).parent / "tracker"
NOBODY = 65534


def run(cwd: Path, home: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """`tracker ARGS` as a user whose home is `home`, in `cwd`, with no TRACKER_* setting."""
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith("TRACKER_") and k != "XDG_CACHE_HOME"}
    return subprocess.run([str(TRACKER), *args], cwd=cwd, env={**clean, "HOME": str(home), **env},
                          capture_output=True, text=True, timeout=120)


def shared_folder(tmp_path: Path) -> Path:
    """A folder as a team shares it: `rules/` with one large rule file (over SMALL: cached),
    and a page one rule fires on."""
    shared = tmp_path / "shared"
    (shared / "rules").mkdir(parents=True)
    lines = ["rules:"]
    for i in range(2000):
        lines += [f"  - id: r{i}", f"    name: 规则{i}", f"    keywords: [关键词{i:05d}]"]
    lines += ["  - id: biaozhundi", "    name: 标准地", "    keywords: [标准地]"]
    (shared / "rules" / "big.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert (shared / "rules" / "big.yaml").stat().st_size >= SMALL
    (shared / "page.txt").write_text("开发区出让标准地12宗。\n", encoding="utf-8")
    return shared


class Payload:
    """What the attacker pickles: unpickling it runs `code`."""

    def __init__(self, code: str):
        self.code = code

    def __reduce__(self):
        return exec, (self.code,)


def test_a_cache_entry_planted_beside_shared_rules_runs_no_code(tmp_path):
    shared = shared_folder(tmp_path)
    marker = tmp_path / "ran"
    # The entry as tracker named and checked it: digests of public inputs only (the rule file's
    # text and name, the code that reads it), computable by anyone who can read the folder.
    text = (shared / "rules" / "big.yaml").read_text(encoding="utf-8")
    digest = hashlib.blake2b(text.encode(), digest_size=20, key=code_digest())
    digest.update(b"rules/big.yaml")
    payload = pickle.dumps(Payload(f"open({str(marker)!r}, 'w').write('ran')"), protocol=5)
    check = hashlib.blake2b(payload, digest_size=16, key=digest.digest()).digest()
    planted = shared / "instance" / "cache" / f"rules-{digest.hexdigest()}.pickle"
    planted.parent.mkdir(parents=True)
    planted.write_bytes(check + payload)

    home = tmp_path / "home"
    done = run(shared, home, "match", "page.txt")
    assert not marker.exists(), "the planted entry ran"
    assert done.returncode == 0, done.stderr
    assert "标准地 (biaozhundi): 1 hits" in done.stdout
    # The cache is the user's own (~/.cache/tracker): folder 0700, entries 0600, plain data.
    cache = home / ".cache" / "tracker"
    (entry,) = cache.glob("rules-*.json")
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600
    assert b"biaozhundi" in entry.read_bytes()
    # XDG_CACHE_HOME is honoured.
    xdg = tmp_path / "xdg"
    assert run(shared, home, "match", "page.txt", XDG_CACHE_HOME=str(xdg)).returncode == 0
    assert list((xdg / "tracker").glob("rules-*.json"))


def forge(entry: Path, old: str, new: str) -> None:
    """Rewrite an entry's data and its check, as anyone can who may write it (the check is of
    public inputs): the rule fires on `new` instead of `old`."""
    from tracker.rules.cache import _CHECK, _check

    data = entry.read_bytes()[_CHECK:].replace(old.encode(), new.encode())
    entry.write_bytes(_check(bytes.fromhex(entry.stem.removeprefix("rules-")), data) + data)


def other_user(path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("giving a file to another user needs root")
    os.chown(path, NOBODY, NOBODY)


@pytest.mark.parametrize("how", ["folder writable by others", "folder of another user",
                                  "entry writable by group", "entry of another user"])
def test_a_cache_someone_else_could_write_is_not_used(tmp_path, how):
    shared = shared_folder(tmp_path)
    home = tmp_path / "home"
    first = run(shared, home, "match", "page.txt")
    assert first.returncode == 0 and "biaozhundi" in first.stdout, first.stderr
    cache = home / ".cache" / "tracker"
    (entry,) = cache.glob("rules-*.json")
    forge(entry, "标准地", "开发区")  # believed, the rule would fire on 开发区 and say so
    assert "开发区" in run(shared, home, "match", "page.txt").stdout  # ours: believed

    target = cache if how.startswith("folder") else entry
    if how.endswith("another user"):
        other_user(target)
    else:
        target.chmod(0o777 if target == cache else 0o620)
    done = run(shared, home, "match", "page.txt")
    assert done.returncode == 0, done.stderr
    assert "【标准地】" in done.stdout and "【开发区】" not in done.stdout
    problem = "belongs to another user" if how.endswith("another user") \
        else "may be written by group or others"
    assert f"rule cache {target}: {problem}" in done.stderr
    assert "not used" in done.stderr


@pytest.mark.parametrize("how", ["writable by others", "of another user", "in a folder others write"])
def test_an_instance_config_someone_else_could_write_is_not_run(tmp_path, how):
    shared = shared_folder(tmp_path)
    marker = tmp_path / "ran"
    config = shared / "instance" / "config.py"
    config.parent.mkdir()
    config.write_text(f"open({str(marker)!r}, 'w').write('ran')\nRULES = 'elsewhere'\n",
                      encoding="utf-8")
    config.chmod(0o644)
    if how == "writable by others":
        config.chmod(0o666)
    elif how == "of another user":
        other_user(config)
    else:
        config.parent.chmod(0o777)
    done = run(shared, tmp_path / "home", "rules", "check")
    assert not marker.exists(), "the instance's config.py ran"
    assert done.returncode == 0 and "rules: 2001 rules OK" in done.stdout
    assert f"{config}: " in done.stderr and "not run" in done.stderr


def test_the_users_own_instance_config_still_runs(tmp_path):
    shared = shared_folder(tmp_path)
    config = shared / "instance" / "config.py"
    config.parent.mkdir()
    config.write_text("RULES = 'elsewhere'\n", encoding="utf-8")
    config.chmod(0o644)
    done = run(shared, tmp_path / "home", "rules", "check")
    assert done.returncode == 2 and "elsewhere:1: no such file or folder" in done.stderr


def test_a_tracker_package_planted_in_the_folder_is_not_what_reads_pdfs(tmp_path):
    """PDFs are read by `python -m tracker.text.pdf` in a child; `-m` alone would put the
    current folder first on its path, and a `tracker/` there would run instead."""
    from builders import make_pdf

    shared = shared_folder(tmp_path)
    marker = tmp_path / "ran"
    planted = shared / "tracker" / "text"
    planted.mkdir(parents=True)
    for folder in (shared / "tracker", planted):
        (folder / "__init__.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    (planted / "pdf.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    (shared / "page.pdf").write_bytes(make_pdf([["开发区出让标准地12宗"]]))
    done = run(shared, tmp_path / "home", "match", "page.pdf")
    assert not marker.exists(), "the planted package ran"
    assert done.returncode == 0 and "【标准地】" in done.stdout, done.stderr
