"""Shared fixtures. The seed pages are real newspaper text we do not own: tests read them from
`TRACKER_SEEDS` (default `../shared/seeds` next to the repository) and build every variant
(other encodings, HTML, PDF) at test time; their text is never copied into the repository."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest

from loopback import Site, serve


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    """The folder of seed pages (`*.txt`, UTF-8)."""
    folder = Path(os.environ.get("TRACKER_SEEDS") or Path(__file__).parents[2] / "shared" / "seeds")
    if not sorted(folder.glob("*.txt")):
        pytest.fail(f"no seed pages (*.txt) in {folder}; set TRACKER_SEEDS to their folder")
    return folder


@pytest.fixture(scope="session")
def seed_texts(seeds_dir: Path) -> dict[str, str]:
    """Seed page text by file name, in file-name order."""
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(seeds_dir.glob("*.txt"))}


@pytest.fixture
def site(monkeypatch) -> Iterator[Site]:
    """A real HTTP server on 127.0.0.1 (no proxy in the way); see tests/loopback.py."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    with serve() as state:
        yield state
