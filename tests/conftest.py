"""Shared fixtures. The seed pages are real newspaper text we do not own: tests read them from
`TRACKER_SEEDS` (default `../shared/seeds` next to the repository) and build every variant
(other encodings, HTML, PDF) at test time; their text is never copied into the repository."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


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
