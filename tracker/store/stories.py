"""Stories: the copies of one news story in several papers, found when an article is stored.

Provincial and city papers reprint 新华社 and 人民日报 stories with a new headline, a local lead,
a paragraph cut, in traditional characters or through OCR. Each new article's fingerprint
(`tracker.text.fingerprint`, MinHash over its normalised text) is looked up by its LSH band keys
among the articles of `WINDOW_DAYS` days either side of its day, across all sources (and a
story only within that many days of its first appearance: it does not drift on); the
candidates sharing most bands are compared by their signatures, and the article joins the story
of the most similar one whose estimated Jaccard similarity reaches `THRESHOLD` (chosen by
measurement: bench/stories_bench.py, docs/capacity.md), else it starts a story of its own.

Everything is rows in SQLite, in the transaction that stores the article: `stories` (the first
appearance: the copy with the earliest day, then the lowest id), `articles.story_id`,
`story_signatures` and `story_bands`. Only a story's *representatives* are indexed: its first
copy, and a later copy only when it is less than `REPRESENT` similar to every copy it was
compared with (it widens what the story matches), `MAX_INDEXED` at most. A story reprinted by
300 papers thus keeps a few index rows, and a lookup reads a few candidates, not every copy.
Memory does not grow with the archive: nothing is held between calls.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlite_utils import Database

from tracker.store.clock import now
from tracker.text.fingerprint import Fingerprint

WINDOW_DAYS = 14  # a reprint is looked for this many days either side of an article's day
THRESHOLD = 0.35  # estimated Jaccard of 4-character shingles: the same story from here on
REPRESENT = 0.70  # a copy at least this similar to one already indexed adds no index rows
CANDIDATE_ROWS = 256  # band rows read per lookup, at most
COMPARED = 8  # candidates compared by signature: those sharing most bands
MAX_INDEXED = 4  # representatives per story at most


@dataclass(frozen=True)
class Copy:
    """One article of a story as a reader names it: paper, page, date, title, links."""

    article_id: int
    story_id: int
    source_id: str
    source_name: str
    day: str | None
    page: str | None
    title: str | None
    url: str | None


def day_number(day: str | None) -> int | None:
    """YYYY-MM-DD as a day number (date.toordinal); None for anything else."""
    try:
        return date.fromisoformat(day or "").toordinal()
    except ValueError:
        return None


class _Window:
    """Looks up the indexed articles an article may be a copy of; each signature is read once
    per call of assign_stories, and those of articles placed meanwhile are kept as they come."""

    def __init__(self, db: Database, window_days: int):
        self.db, self.window = db, window_days
        # article → (story, fingerprint, the story's first day as a day number)
        self.prints: dict[int, tuple[int, Fingerprint, int | None]] = {}

    def candidates(self, keys: list[int], day: int) -> list[tuple[int, int, Fingerprint]]:
        """(article id, story id, fingerprint) of the indexed articles within the window that
        share one of the band `keys`, those sharing most first (at most COMPARED)."""
        rows = self.db.execute(
            f"SELECT article_id FROM story_bands WHERE key IN ({','.join('?' * len(keys))}) "
            f"AND day BETWEEN ? AND ? LIMIT {CANDIDATE_ROWS}",
            [*keys, day - self.window, day + self.window]).fetchall()
        if not rows:
            return []
        best = [a for a, _ in Counter(r[0] for r in rows).most_common(COMPARED)]
        missing = [a for a in best if a not in self.prints]
        if missing:
            for a, story, blob, size, first in self.db.execute(
                    "SELECT g.article_id, g.story_id, g.signature, g.size, s.day FROM "
                    "story_signatures g JOIN stories s ON s.id = g.story_id WHERE "
                    f"g.article_id IN ({','.join('?' * len(missing))})", missing):
                self.prints[a] = (story, Fingerprint.from_blob(blob, size), day_number(first))
        # The window counts from the story's first appearance: a story does not drift on
        # through weekly look-alikes.
        return [(a, story, fp) for a in best if a in self.prints
                for story, fp, first in [self.prints[a]]
                if first is not None and abs(first - day) <= self.window]

    def add(self, article_id: int, story_id: int, fp: Fingerprint, first: int | None) -> None:
        self.prints[article_id] = (story_id, fp, first)


def assign_stories(db: Database, items: list[tuple[int, Fingerprint | None]], *,
                   threshold: float = THRESHOLD, window_days: int = WINDOW_DAYS) -> list[int]:
    """Put each (article id, fingerprint) in its story, in order (an article may join one
    started earlier in the same list); their story ids. An article without a fingerprint (too
    short to tell) or without a date to count from is a story of its own. Call inside the
    transaction that stored them."""
    out: list[int] = []
    placed: list[tuple[int, int]] = []
    stamp = now()
    days = _days(db, [article_id for article_id, _ in items])
    numbers = {a: day_number(d) for a, d in days.items()}
    keyed = {a: fp.bands() for a, fp in items if fp is not None and numbers[a] is not None}
    window = _Window(db, window_days)
    for article_id, fp in items:
        day, number, keys = days[article_id], numbers[article_id], keyed.get(article_id)
        story_id, closest = None, 0.0
        if fp is not None and keys is not None:
            scored = [(fp.jaccard(c), s) for _, s, c in window.candidates(keys, number)]
            if scored:
                closest, best_story = max(scored)
                story_id = best_story if closest >= threshold else None
        represent = fp is not None and keys is not None and closest < REPRESENT
        first_day = day
        if story_id is None:
            story_id = db.execute("INSERT INTO stories (first_article_id, day, created_at, "
                                  "indexed) VALUES (?, ?, ?, ?)",
                                  [article_id, day, stamp, int(represent)]).lastrowid
        else:
            first_day, indexed = db.execute("SELECT day, indexed FROM stories WHERE id = ?",
                                            [story_id]).fetchone()
            if day < first_day:  # a paper read late: this copy is the first appearance
                db.execute("UPDATE stories SET first_article_id = ?, day = ? WHERE id = ?",
                           [article_id, day, story_id])
            represent = represent and indexed < MAX_INDEXED
            if represent:
                db.execute("UPDATE stories SET indexed = indexed + 1 WHERE id = ?", [story_id])
        placed.append((story_id, article_id))
        if represent:
            db.execute("INSERT OR REPLACE INTO story_signatures (article_id, story_id, size, "
                       "signature) VALUES (?, ?, ?, ?)", [article_id, story_id, fp.size, fp.to_blob()])
            db.conn.executemany("INSERT OR IGNORE INTO story_bands (key, day, article_id) "
                                "VALUES (?, ?, ?)", [(k, number, article_id) for k in keys])
            window.add(article_id, story_id, fp, day_number(min(day, first_day)))
        out.append(story_id)
    db.conn.executemany("UPDATE articles SET story_id = ? WHERE id = ?", placed)
    return out


def _days(db: Database, article_ids: list[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for start in range(0, len(article_ids), 500):
        chunk = article_ids[start:start + 500]
        out.update(db.execute(f"SELECT id, day FROM articles WHERE id IN "
                              f"({','.join('?' * len(chunk))})", chunk).fetchall())
    return out


def copies_of(db: Database, story_ids: list[int]) -> dict[int, list[Copy]]:
    """Every copy of each story, the first appearance first (by day, then id)."""
    ids = sorted({s for s in story_ids if s is not None})
    out: dict[int, list[Copy]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        rows = db.execute(
            "SELECT a.id, a.story_id, a.source_id, COALESCE(s.name, a.source_id), a.day, a.page,"
            " a.title, a.url FROM articles a LEFT JOIN sources s ON s.id = a.source_id"
            f" WHERE a.story_id IN ({','.join('?' * len(chunk))}) ORDER BY a.day, a.id",
            chunk).fetchall()
        for row in rows:
            out.setdefault(row[1], []).append(Copy(*row))
    return out


def stories_of(db: Database, article_ids: list[int]) -> dict[int, int]:
    """Article id → story id, for those clustered."""
    ids = sorted(set(article_ids))
    out: dict[int, int] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        out.update(db.execute(f"SELECT id, story_id FROM articles WHERE id IN "
                              f"({','.join('?' * len(chunk))}) AND story_id IS NOT NULL",
                              chunk).fetchall())
    return out


# ---- clustering an archive (tracker stories rebuild) -----------------------------------------

def forget_stories(db: Database) -> None:
    """No article in a story any more (before clustering the archive again). In a transaction."""
    for sql in ("UPDATE articles SET story_id = NULL WHERE story_id IS NOT NULL",
                "DELETE FROM story_bands", "DELETE FROM story_signatures", "DELETE FROM stories",
                "DELETE FROM subscription_stories"):
        db.execute(sql)


def unclustered(db: Database, batch: int) -> list[tuple[int, str | None, str]]:
    """(id, title, text) of up to `batch` articles in no story yet, the earliest day first."""
    return db.execute("SELECT id, title, text FROM articles WHERE story_id IS NULL "
                      "ORDER BY day, id LIMIT ?", [batch]).fetchall()


def cluster_progress(db: Database) -> tuple[int, int]:
    """(articles in a story, all articles)."""
    total = db.execute("SELECT count(*) FROM articles").fetchone()[0]
    left = db.execute("SELECT count(*) FROM articles WHERE story_id IS NULL").fetchone()[0]
    return total - left, total


def remember_sent(db: Database, article_ids: list[int]) -> None:
    """For articles just put in stories: each subscription that was due or sent one of them has
    that story (the earliest such row wins), so no later copy reaches it again. In a
    transaction."""
    for start in range(0, len(article_ids), 500):
        chunk = article_ids[start:start + 500]
        db.execute(
            "INSERT OR IGNORE INTO subscription_stories (subscription_id, story_id, article_id,"
            " created_at) SELECT o.subscription_id, a.story_id, o.article_id, min(o.created_at)"
            " FROM outbox o JOIN articles a ON a.id = o.article_id WHERE o.article_id IN "
            f"({','.join('?' * len(chunk))}) AND a.story_id IS NOT NULL "
            "GROUP BY o.subscription_id, o.article_id ORDER BY min(o.created_at), o.article_id",
            chunk)
