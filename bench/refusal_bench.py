"""Bad e-paper input refused without working through it: each refusal timed against a baseline
read in this one process, interleaved over --rounds (medians), the way tracker's worker reads an
e-paper (`issue_documents`, a loopback site):

  links   an index listing 10,000 article links (refused: more than EPAPER_MAX_PAGE_LINKS),
          against the same with 20,000 (linear: at most LINEAR×), and against an ordinary index
          of the same size with three links, read whole with its articles (at most ONE_PASS×:
          the page's links are read once and counted before any headline is made)
  bomb    a page whose PDF is a gzip bomb of 64 MB of zeros (cut at MAX_DOCUMENT_BYTES, 1 MB),
          against a bomb of 256 MB (cut at the same place: at most FLAT×), and against a page
          with a plain one-page PDF, read whole (at most 1×: refusing costs no more than reading)

The tests (tests/test_epaper_bad_input.py) assert that these are refused and named and that no
article of theirs is asked for; how fast is measured here, never in a test.

    .venv/bin/python bench/refusal_bench.py [--rounds 7] [--json FILE]
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import sys
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from builders import make_pdf  # noqa: E402
from loopback import respond, serve  # noqa: E402
from tracker.sources.catalog import Source  # noqa: E402
from tracker.sources.epaper import issue_documents  # noqa: E402

DAY = datetime.date(2024, 3, 1)
FOLDER = f"/html/{DAY:%Y-%m}/{DAY:%d}/"
CONFIG = {"HTTP_CONNECT_TIMEOUT": 5.0, "HTTP_READ_TIMEOUT": 5.0, "HTTP_TOTAL_TIMEOUT": 30.0,
          "MAX_DOCUMENT_BYTES": 1 << 20}
ARTICLE = "<html><body><h1>{0}</h1><div id=ozoom><p>{0}，专业镇建设提速。</p></div></body></html>"
LINEAR, FLAT, ONE_PASS = 2.5, 2.0, 3.0


def links(count: int) -> str:
    return "".join(f'<a href="content_{n}.htm">稿件{n}</a>' for n in range(count))


def gzip_of_zeros(size: int) -> bytes:
    """`size` bytes of "%PDF-1.4" and zeros, gzip-compressed in pieces (never all in memory)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = [packer.compress(b"%PDF-1.4\n")]
    piece = bytes(16 << 20)
    for _ in range(size // len(piece)):
        out.append(packer.compress(piece))
    out.append(packer.flush())
    return b"".join(out)


def build(site) -> dict[str, tuple[str, object]]:
    """name -> (its paper's folder, what a good read of it gives: articles or a problem word)."""
    def index(paper: str, body: str) -> None:
        site.routes[f"/{paper}{FOLDER}node_1.htm"] = respond(f"<html><body>{body}</body></html>".encode())

    index("links10k", links(10_000))
    index("links20k", links(20_000))
    filler = "<p>" + "本报讯 记者近日从有关部门获悉，专业镇工作取得新进展，第一批项目已经落地。" * 10 + "</p>"
    index("ordinary", links(3) + filler * (len(links(10_000).encode()) // len(filler.encode())))
    for n in range(3):
        site.routes[f"/ordinary{FOLDER}content_{n}.htm"] = respond(ARTICLE.format(f"第{n}篇").encode())
    pdf_link = '<div>第01版：要闻</div><a href="../../../p/1.pdf">PDF下载</a>'
    for paper, pdf, headers in (
            ("bomb64", gzip_of_zeros(64 << 20), {"Content-Encoding": "gzip"}),
            ("bomb256", gzip_of_zeros(256 << 20), {"Content-Encoding": "gzip"}),
            ("pdf", make_pdf([["工业用地标准地出让提速", "本报讯 开发区今年出让标准地12宗。"]]), {})):
        index(paper, pdf_link)
        site.routes[f"/{paper}/p/1.pdf"] = respond(pdf, "application/pdf", headers=headers)
    return {"links10k": "too-many-links", "links20k": "too-many-links", "ordinary": 3,
            "bomb64": "byte limit", "bomb256": "byte limit", "pdf": 1}


def read(site, paper: str, expect: object) -> float:
    source = Source(id=paper, name="坏报", type="epaper",
                    url=site.base + f"/{paper}/html/{{date:%Y-%m}}/{{date:%d}}/node_1.htm")
    started = time.perf_counter()
    issue = issue_documents(source, DAY, CONFIG)
    seconds = time.perf_counter() - started
    said = " ".join(issue.problems)
    if (len(issue.documents) != expect) if isinstance(expect, int) else (expect not in said):
        raise SystemExit(f"{paper}: not what a good read gives ({expect!r}): "
                         f"{len(issue.documents)} documents, {said[:300]}")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)  # the link reads take ~0.1 s: steady medians
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    with serve() as site:
        papers = build(site)
        read(site, "pdf", papers["pdf"])  # warm-up: imports, the PDF reader's first start
        runs: dict[str, list[float]] = {paper: [] for paper in papers}
        for _ in range(args.rounds):
            for paper, expect in papers.items():
                runs[paper].append(read(site, paper, expect))
    med = {paper: statistics.median(values) for paper, values in runs.items()}
    figures = {f"{paper}_s": round(seconds, 3) for paper, seconds in med.items()}
    figures.update({
        "links_20k_over_10k": round(med["links20k"] / med["links10k"], 2),
        "links_10k_over_ordinary_page": round(med["links10k"] / med["ordinary"], 1),
        "bomb_256_over_64": round(med["bomb256"] / med["bomb64"], 2),
        "bomb_over_plain_pdf": round(med["bomb64"] / med["pdf"], 2),
    })
    width = max(map(len, figures))
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    goals = [(f"an index of 20,000 links ≤ {LINEAR}× one of 10,000 (linear)",
              figures["links_20k_over_10k"] <= LINEAR),
             (f"an index of 10,000 links refused ≤ {ONE_PASS:g}× an ordinary one of its size read whole",
              figures["links_10k_over_ordinary_page"] <= ONE_PASS),
             (f"a 256 MB bomb ≤ {FLAT}× a 64 MB one (cut at the limit)", figures["bomb_256_over_64"] <= FLAT),
             ("a bomb refused ≤ 1× a plain PDF page read", figures["bomb_over_plain_pdf"] <= 1)]
    for goal, met in goals:
        print(f"goal: {goal} — {'met' if met else 'NOT met'}")
    return 0 if all(met for _, met in goals) else 1


if __name__ == "__main__":
    sys.exit(main())
