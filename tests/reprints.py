"""Reprints of a seed story as provincial and city papers make them, built at test time from the
seed pages (never stored in the repository): another headline, a local lead, a paragraph cut,
traditional characters, OCR-like noise."""

from __future__ import annotations

import random

from tracker.documents import Document
from tracker.splitter import page_articles


def seed_article(seed_texts: dict[str, str], page: str, title_part: str) -> Document:
    """The article of seed page `page` (its file name's first three characters) whose title
    holds `title_part`."""
    name = next(n for n in seed_texts if n.startswith(page))
    for article in page_articles(Document(name, seed_texts[name], "text")):
        if title_part in (article.title or ""):
            return article
    raise AssertionError(f"no article with {title_part!r} on {name}")


def paragraphs(text: str) -> list[str]:
    return [p for p in text.splitlines() if p.strip()]


def to_traditional(text: str) -> str:
    import opencc

    return opencc.OpenCC("s2t").convert(text)


def noisy(text: str, rate: float = 0.03, seed: int = 7) -> str:
    """A share `rate` of the characters misread (replaced by another character of the text)."""
    rnd = random.Random(seed)
    pool = [c for c in text if not c.isspace()]
    return "".join(rnd.choice(pool) if not c.isspace() and rnd.random() < rate else c
                   for c in text)


def reprints(article: Document) -> list[tuple[str, str]]:
    """(title, text) of four reprints of `article`, each with other edits."""
    body = paragraphs(article.text)
    return [
        ("花开三晋 专业镇各具特色", "本报讯 据新华社报道，我省各地专业镇发展势头良好。\n" + "\n".join(body)),
        (to_traditional(article.title or ""), to_traditional("\n".join(body[:-1]))),
        (article.title or "", noisy("\n".join(body[:2] + body[3:]), 0.03)),
        ("专业镇发展观察", "\n".join(body[1:]) + "\n（本报记者 王晓东 通讯员 李红梅）"),
    ]


def entry(title: str, text: str, day: str, page: str = "第2版", name: str = "x") -> Document:
    """An article as an e-paper gives it (already one article, with its date and page)."""
    return Document(name, text, "epaper", title=title, meta={"issue_date": day, "page": page})
