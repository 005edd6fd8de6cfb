"""A set of reprinted stories for measuring story clustering, made at run time from public news
text we do not own (the seed pages, TRACKER_SEEDS, and the PKU corpus, TRACKER_CORPORA): nothing
of either is written into the repository.

Stories are built of clauses of that text (cut at ，。；！？), shuffled into new sentences and
paragraphs, so no two stories are alike while each reads like news. Each story has an original
and 3–5 reprints in other papers over the next days, each reprint with some of the edits papers
make: a new headline; a local lead (本报讯…) added or the agency dateline removed; a byline
added; one or two paragraphs cut; traditional characters; OCR-like noise on a few percent of the
characters. Among the stories are same-topic pairs that are *not* the same story: two State
Council executive meeting reports of different days (the same frame and one shared background
paragraph, other decisions), and two items of one 快讯 roundup (the same header and byline,
short, other news).

    from story_set import build
    copies = build(stories=1000, seed=1)   # [Copy(story, title, text, source, day, kind)]
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from pages import corpus_sentences, seed_dir

PAPERS = ["山西日报", "晋中日报", "科学导报", "太原日报", "大同日报", "长治日报", "晋城日报",
          "朔州日报", "忻州日报", "吕梁日报", "临汾日报", "运城日报", "阳泉日报", "山西经济日报",
          "山西农民报", "山西法治报", "黄河晨报", "三晋都市报", "山西晚报", "发展导报"]
NAMES = ["王晓东", "李红梅", "张建国", "刘芳", "陈志强", "杨丽", "赵磊", "黄文杰", "周敏", "吴海涛"]
TOPICS = ["专业镇发展", "营商环境优化", "标准地改革", "绿电交易", "新能源基地建设", "乡村振兴",
          "招商引资", "开发区改革", "科技创新", "就业稳定"]
START = date(2025, 3, 1)


@dataclass(frozen=True)
class Copy:
    story: int  # the true story
    title: str
    text: str
    source: str
    day: str
    kind: str  # plain | meeting | roundup


def clause_pool() -> list[str]:
    """Clauses of the corpus and the seed pages, each with its punctuation dropped."""
    texts = corpus_sentences()
    for path in sorted(seed_dir().glob("*.txt")):
        texts += [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
                  if len(line.strip()) >= 20]
    pool = set()
    for text in texts:
        for clause in re.split(r"[，。；！？、：,;]", "".join(text.split())):
            if 6 <= len(clause) <= 40:
                pool.add(clause)
    return sorted(pool)


class Maker:
    def __init__(self, seed: int):
        self.rnd = random.Random(seed)
        self.pool = clause_pool()

    def sentence(self) -> str:
        return "，".join(self.rnd.choice(self.pool) for _ in range(self.rnd.randint(2, 4))) + "。"

    def paragraph(self, sentences: tuple[int, int] = (2, 4)) -> str:
        return "".join(self.sentence() for _ in range(self.rnd.randint(*sentences)))

    def title(self) -> str:
        return self.rnd.choice(self.pool)[:18]

    def name(self) -> str:
        return self.rnd.choice(NAMES)

    # ---- originals ----------------------------------------------------------------------

    def plain(self, day: date) -> tuple[str, list[str]]:
        paragraphs = [self.paragraph() for _ in range(self.rnd.randint(5, 9))]
        if self.rnd.random() < 0.5:
            paragraphs[0] = f"新华社太原{day.month}月{day.day}日电（记者 {self.name()}）" + paragraphs[0]
        return self.title(), paragraphs

    def meeting_pair(self, day: date) -> list[tuple[str, list[str], date]]:
        """Two executive meeting reports a week apart: one frame, one shared background
        paragraph, different decisions."""
        topic = self.rnd.choice(TOPICS)
        background = "会议指出，" + self.paragraph((2, 3))
        out = []
        for when in (day, day + timedelta(days=7)):
            other = self.rnd.choice(TOPICS)
            paragraphs = [
                f"新华社北京{when.month}月{when.day}日电 国务院总理主持召开国务院常务会议，听取关于"
                f"{topic}工作情况的汇报，研究推进{other}的政策措施。",
                background,
                "会议强调，" + self.paragraph(),
                "会议要求，" + self.paragraph(),
                "会议决定，" + self.paragraph(),
                "会议还研究了其他事项。"]
            out.append((f"国务院常务会议研究{topic}", paragraphs, when))
        return out

    def roundup_pair(self, day: date) -> list[tuple[str, list[str], date]]:
        """Two short items of one 快讯 roundup: the same header and byline, other news."""
        header = f"【{self.rnd.choice(TOPICS)}快讯】本报讯（记者 {self.name()}）"
        return [(self.title(), [header + self.paragraph((2, 3))], day) for _ in range(2)]

    # ---- reprints -----------------------------------------------------------------------

    def reprint(self, title: str, paragraphs: list[str]) -> tuple[str, str]:
        edits = self.rnd.sample(["headline", "lead", "byline", "cut", "traditional", "noise"],
                                self.rnd.randint(2, 4))
        paragraphs = list(paragraphs)
        if "headline" in edits:
            title = self.title()
        if "lead" in edits:
            if paragraphs[0].startswith("新华社") and self.rnd.random() < 0.5:
                paragraphs[0] = paragraphs[0].split("）", 1)[-1].split(" ", 1)[-1]
            else:
                paragraphs.insert(0, f"本报讯（记者 {self.name()}）" + self.sentence())
        if "byline" in edits:
            paragraphs.append(f"（本报记者 {self.name()} 通讯员 {self.name()}）")
        if "cut" in edits and len(paragraphs) >= 5:
            for _ in range(self.rnd.randint(1, 2)):
                paragraphs.pop(self.rnd.randrange(1, len(paragraphs)))
        text = "\n".join(paragraphs)
        if "traditional" in edits:
            title, text = traditional(title), traditional(text)
        if "noise" in edits:
            text = self.noise(text, self.rnd.uniform(0.01, 0.04))
        return title, text

    def noise(self, text: str, rate: float) -> str:
        """OCR-like damage: a share `rate` of the characters replaced, dropped or doubled."""
        out = []
        for ch in text:
            if ch != "\n" and self.rnd.random() < rate:
                what = self.rnd.random()
                if what < 0.6:
                    out.append(self.rnd.choice(self.rnd.choice(self.pool)))
                elif what < 0.8:
                    continue
                else:
                    out.append(ch + ch)
                continue
            out.append(ch)
        return "".join(out)


_S2T = None


def traditional(text: str) -> str:
    global _S2T
    if _S2T is None:
        import opencc

        _S2T = opencc.OpenCC("s2t")
    return _S2T.convert(text)


def build(stories: int = 1000, seed: int = 1, meeting_pairs: int = 100,
          roundup_pairs: int = 100) -> list[Copy]:
    """`stories` stories (of which `meeting_pairs` and `roundup_pairs` pairs are same-topic
    non-duplicates), each an original and 3–5 reprints in other papers over the next 0–6 days."""
    maker = Maker(seed)
    originals: list[tuple[str, list[str], date, str]] = []
    for _ in range(meeting_pairs):
        day = START + timedelta(days=maker.rnd.randrange(60))
        originals += [(t, p, d, "meeting") for t, p, d in maker.meeting_pair(day)]
    for _ in range(roundup_pairs):
        day = START + timedelta(days=maker.rnd.randrange(60))
        originals += [(t, p, d, "roundup") for t, p, d in maker.roundup_pair(day)]
    while len(originals) < stories:
        day = START + timedelta(days=maker.rnd.randrange(60))
        title, paragraphs = maker.plain(day)
        originals.append((title, paragraphs, day, "plain"))
    copies = []
    for story, (title, paragraphs, day, kind) in enumerate(originals[:stories]):
        papers = maker.rnd.sample(PAPERS, 6)
        copies.append(Copy(story, title, "\n".join(paragraphs), papers[0], day.isoformat(), kind))
        for paper in papers[1:1 + maker.rnd.randint(3, 5)]:
            t, text = maker.reprint(title, paragraphs)
            when = day + timedelta(days=maker.rnd.randint(0, 6))
            copies.append(Copy(story, t, text, paper, when.isoformat(), kind))
    # Papers come in by day; within a day in any order (a reprint may be seen first).
    maker.rnd.shuffle(copies)
    copies.sort(key=lambda c: c.day)
    return copies


def write(path: Path, copies: list[Copy]) -> None:  # pragma: no cover - for looking at them
    path.write_text("\n\n".join(f"# {c.story} {c.source} {c.day} {c.kind}\n{c.title}\n{c.text}"
                                for c in copies), encoding="utf-8")
