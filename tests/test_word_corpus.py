"""Word edges against a public gold-standard segmentation (SIGHAN 2005 PKU test set, read at run
time from ../shared/corpora or TRACKER_CORPORA; never copied here). bench/word_edges.py prints
the same figures; this keeps them from sliding back."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _bench():
    spec = importlib.util.spec_from_file_location("word_edges", ROOT / "bench" / "word_edges.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def corpus():
    bench = _bench()
    folder = Path(os.environ.get("TRACKER_CORPORA") or ROOT.parent / "shared" / "corpora")
    path = folder / "pku-gold-a.utf8"
    if not path.is_file():
        pytest.fail(f"no gold corpus at {path}; set TRACKER_CORPORA to its folder")
    return bench, bench.sentences(path)


def test_gold_reading_of_whole_and_straddle(corpus):
    bench, _ = corpus
    sentence = bench.Sentence("国家标准地方标准", frozenset({0, 2, 4, 6, 8}))
    assert not bench.is_whole(sentence, 2, 5)  # 标准地 across 标准|地方
    assert bench.is_whole(sentence, 2, 6)  # 标准地方: two whole words
    assert bench.is_whole(sentence, 4, 5)  # 地 inside 地方


def test_whole_occurrences_are_found_and_straddles_mostly_refused(corpus):
    bench, sentences = corpus
    keywords = bench.pick_keywords(sentences, 5)
    assert len(keywords) >= 50
    result = bench.measure(sentences, keywords)
    assert result["whole"] >= 1000 and result["straddles"] >= 200
    # Measured 98.8% found and 63.8% refused (docs/benchmarks.md); gold and jieba differ in
    # granularity (31日|电 vs 日电), so neither is 100% by design.
    assert result["found"] >= 0.97, result["most_missed"]
    assert result["refused"] >= 0.55, result["most_taken"]
