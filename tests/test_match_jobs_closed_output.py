"""Review of `tracker match -j` (`map_in_order` in tracker.cli.matching, a ProcessPoolExecutor) in the situations a command meets outside a
terminal: started with its standard output closed (a cron line with `>&-`, a supervisor that
closes it), it must behave as one process does — print nothing, fail nothing, no traceback."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _inputs(tmp_path: Path) -> list[str]:
    rules = tmp_path / "rules.yaml"
    rules.write_text("id: fazhan\nname: 发展\nkeywords: [发展]\n", encoding="utf-8")
    paths = []
    for i in range(12):  # enough for two children at four inputs a chunk
        page = tmp_path / f"p{i}.txt"
        page.write_text(f"第{i}篇：高质量发展。", encoding="utf-8")
        paths.append(str(page))
    return ["--rules", str(rules), *paths]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_match_with_stdout_closed_ends_quietly_as_one_process_does(tmp_path, jobs):
    command = [sys.executable, "-m", "tracker", "match", "--format", "jsonl", "-j", jobs,
               *_inputs(tmp_path)]
    env = {**os.environ, "TRACKER_INSTANCE": str(tmp_path / "instance")}
    done = subprocess.run(["sh", "-c", f"exec {shlex.join(command)} >&-"], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 0, done.stderr
