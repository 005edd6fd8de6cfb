"""The seed pages in the shapes real inputs come in — traditional characters, column breaks,
HTML with tags inside words, GBK pages that claim to be UTF-8, PDF — read and matched end to end:
every shape must give the counts in the seeds README."""

from pathlib import Path

import opencc
import pytest

from builders import broken_lines, html_of, pdf_of
from tracker.config import load_config
from tracker.matching import Matcher
from tracker.rules import Rule
from tracker.sources import read

THEMES = {"专业镇": 94, "标准地": 6, "绿电": 14, "营商环境": 32, "招商引资": 18, "乡村振兴": 8,
          "整村授信": 3}


def traditional(text: str) -> bytes:
    return opencc.OpenCC("s2t").convert(text).encode("utf-8")


def gbk_claiming_utf8(text: str) -> bytes:
    return html_of(text, charset="utf-8").encode("gb18030")


VARIANTS = {
    "plain.txt": lambda t: t.encode("utf-8"),
    "bom.txt": lambda t: t.encode("utf-8-sig"),
    "traditional.txt": traditional,
    "columns.txt": lambda t: broken_lines(t).encode("utf-8"),
    "gbk.txt": lambda t: t.encode("gb18030"),
    "page.html": lambda t: html_of(t).encode("utf-8"),
    "lying-gbk.html": gbk_claiming_utf8,
    "page.pdf": pdf_of,
}


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher([Rule(id=f"s{i}", name=k, keywords=(k,)) for i, k in enumerate(THEMES)])


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_shape_of_the_seed_pages_gives_the_readme_counts(variant, seed_texts, matcher,
                                                              tmp_path: Path):
    config = load_config({"INSTANCE_PATH": str(tmp_path)}, environ={})
    counts = dict.fromkeys(THEMES, 0)
    for name, text in seed_texts.items():
        path = tmp_path / f"{Path(name).stem}-{variant}"
        path.write_bytes(VARIANTS[variant](text))
        for document in read(str(path), config):
            for found in matcher.match(document):
                counts[found.rule.name] += len(found.occurrences)
    assert counts == THEMES
