"""The schema, as sqlite-utils migrations applied in order and recorded in _sqlite_migrations.

A change to the schema is a new function at the end (m002_…); a released one never changes.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("tracker")


@migrations()
def m001_articles(db: Database) -> None:
    """Sources, issues, articles (with full-text search), hits, fetch runs, seen files, locks."""
    db["sources"].create({
        "id": str, "name": str, "type": str, "location": str,
        "etag": str, "last_modified": str, "updated_at": str,
    }, pk="id")
    db["issues"].create({
        "id": int, "source_id": str, "date": str, "first_seen": str,
    }, pk="id", foreign_keys=[("source_id", "sources", "id")])
    db["issues"].create_index(["source_id", "date"], unique=True)
    db["articles"].create({
        "id": int, "source_id": str, "issue_date": str, "page": str, "title": str,
        "url": str, "guid": str, "document": str, "text": str, "content_hash": str,
        "published": str, "first_seen": str,
    }, pk="id", not_null={"content_hash", "text", "first_seen"},
        foreign_keys=[("source_id", "sources", "id")])
    db["articles"].create_index(["content_hash"], unique=True)
    db["articles"].create_index(["source_id", "guid"])
    db["articles"].create_index(["url"])
    db["articles"].create_index(["issue_date"])
    db["hits"].create({
        "id": int, "article_id": int, "rule_id": str, "rule_name": str, "count": int,
        "hits": str, "matched_at": str,
    }, pk="id", foreign_keys=[("article_id", "articles", "id")])
    db["hits"].create_index(["article_id", "rule_id"], unique=True)
    db["hits"].create_index(["rule_id", "matched_at"])
    db["runs"].create({
        "id": int, "source_id": str, "started": str, "finished": str, "status": str,
        "error": str, "fetched": int, "new_articles": int, "hits": int,
    }, pk="id")
    db["runs"].create_index(["source_id", "started"])
    db["files"].create({
        "source_id": str, "path": str, "sha256": str, "size": int, "mtime": float,
        "error": str, "processed_at": str,
    }, pk=("source_id", "path"))
    # One row per lock; the worker holds "worker" while it runs (see tracker.store.locks).
    db["locks"].create({"name": str, "holder": str, "acquired_at": str, "heartbeat_at": str},
                       pk="name")
    # Full-text search over the match keys (NFKC, simplified, lines joined) with the trigram
    # tokenizer: any query of three or more characters uses the index; shorter ones scan.
    db.execute("CREATE VIRTUAL TABLE articles_fts USING fts5(title, body, tokenize='trigram')")


@migrations()
def m002_alerts(db: Database) -> None:
    """Subscriptions, the outbox (one row per subscription × article × rule ever due), deliveries
    (messages, each grouping due rows of one subscription) and every attempt to send one."""
    db["subscriptions"].create({
        "id": int, "channel": str, "address": str, "rules": str, "frequency": str,
        "state": str, "secret": str, "personal_keywords": str, "created_at": str,
        "confirmed_at": str, "state_changed_at": str, "state_reason": str, "failing_since": str,
    }, pk="id", not_null={"channel", "address", "rules", "frequency", "state", "created_at"})
    db["subscriptions"].create_index(["channel", "address"], unique=True)
    db["deliveries"].create({
        "id": int, "subscription_id": int, "frequency": str, "created_at": str, "status": str,
        "attempts": int, "next_attempt_at": str, "message_id": str, "webhook_id": str,
        "last_error": str, "sent_at": str,
    }, pk="id", foreign_keys=[("subscription_id", "subscriptions", "id")])
    db["deliveries"].create_index(["status", "next_attempt_at"])
    db["outbox"].create({
        "id": int, "subscription_id": int, "article_id": int, "rule_id": str, "hit_id": int,
        "created_at": str, "delivery_id": int,
    }, pk="id", foreign_keys=[("subscription_id", "subscriptions", "id"),
                              ("article_id", "articles", "id"), ("hit_id", "hits", "id"),
                              ("delivery_id", "deliveries", "id")])
    db["outbox"].create_index(["subscription_id", "article_id", "rule_id"], unique=True)
    db["outbox"].create_index(["delivery_id"])
    db["attempts"].create({
        "id": int, "delivery_id": int, "at": str, "ok": int, "code": int, "error": str,
    }, pk="id", foreign_keys=[("delivery_id", "deliveries", "id")])
    db["attempts"].create_index(["delivery_id"])


@migrations()
def m003_rule_revisions(db: Database) -> None:
    """Every change the admin editor made to a rule file: who, when, the diff and the whole old
    text (so it can be put back)."""
    db["rule_revisions"].create({
        "id": int, "file": str, "rule_id": str, "action": str, "at": str, "who": str,
        "remote_addr": str, "diff": str, "old_text": str, "new_text": str, "note": str,
    }, pk="id", not_null={"file", "action", "at", "who", "diff", "old_text", "new_text"})
    db["rule_revisions"].create_index(["file", "id"])
    db["rule_revisions"].create_index(["rule_id", "id"])


@migrations()
def m004_security(db: Database) -> None:
    """Admin sessions kept on the server (logout ends them), own keywords' matches apart from the
    public hits (never shown to anyone but their subscriber), and email addresses in one case
    (`Alice@Example.com` is `alice@example.com`: an address that would clash is left as it is)."""
    db["admin_sessions"].create({"id": str, "created_at": str, "remote_addr": str}, pk="id")
    db["personal_hits"].create({
        "id": int, "article_id": int, "subscription_id": int, "rule_id": str, "rule_name": str,
        "count": int, "hits": str, "matched_at": str,
    }, pk="id", foreign_keys=[("article_id", "articles", "id"),
                              ("subscription_id", "subscriptions", "id")])
    db["personal_hits"].create_index(["article_id", "rule_id"], unique=True)
    db["personal_hits"].create_index(["subscription_id"])
    rows = db.execute("SELECT id, address FROM subscriptions WHERE channel = 'email' "
                      "ORDER BY id").fetchall()
    taken = {address.lower() for _, address in rows if address == address.lower()}
    for row_id, address in rows:
        if address != address.lower() and address.lower() not in taken:
            db.execute("UPDATE subscriptions SET address = ? WHERE id = ?", [address.lower(), row_id])
            taken.add(address.lower())


@migrations()
def m005_notices(db: Database) -> None:
    """Mail that is not an alert (the double opt-in request), queued by the web request and sent
    apart from it: one row per message, with its Message-ID (the same on a retry) and its fate."""
    db["notices"].create({
        "id": int, "kind": str, "subscription_id": int, "address": str, "message_id": str,
        "created_at": str, "status": str, "attempts": int, "next_attempt_at": str,
        "claimed_at": str, "last_error": str, "sent_at": str,
    }, pk="id", not_null={"kind", "subscription_id", "address", "message_id", "created_at",
                          "status"},
        foreign_keys=[("subscription_id", "subscriptions", "id")])
    db["notices"].create_index(["status", "next_attempt_at"])


@migrations()
def m006_contentless_search(db: Database) -> None:
    """The search index keeps no copy of the text (contentless FTS5): the match keys it indexes
    are made from `articles` again here, each field padded so that queries of one or two
    characters find their trigrams too (tracker.store.fts)."""
    from tracker.store.fts import create_index, index_articles

    db.execute("DROP TABLE IF EXISTS articles_fts")
    create_index(db)
    cursor = db.execute("SELECT id, title, text FROM articles ORDER BY id")
    while rows := cursor.fetchmany(500):
        index_articles(db, rows)


@migrations()
def m007_trend_counts(db: Database) -> None:
    """An article's date as an indexed column (`day`), and per-day counts of articles per rule
    and source kept by triggers on `hits`: trends and sparklines read a few rows, not every hit."""
    db.execute("ALTER TABLE articles ADD COLUMN day TEXT GENERATED ALWAYS AS (COALESCE(issue_date,"
               " substr(published, 1, 10), substr(first_seen, 1, 10))) VIRTUAL")
    db.execute("CREATE INDEX idx_articles_day ON articles (day)")
    db.execute("CREATE TABLE hit_days (day TEXT NOT NULL, rule_id TEXT NOT NULL, source_id TEXT "
               "NOT NULL, articles INTEGER NOT NULL, PRIMARY KEY (day, rule_id, source_id)) "
               "WITHOUT ROWID")
    db.execute("CREATE TABLE hit_rules (rule_id TEXT PRIMARY KEY, rule_name TEXT) WITHOUT ROWID")
    db.execute("""CREATE TRIGGER hits_count_insert AFTER INSERT ON hits BEGIN
        INSERT INTO hit_days (day, rule_id, source_id, articles)
          SELECT a.day, NEW.rule_id, COALESCE(a.source_id, ''), 1 FROM articles a
          WHERE a.id = NEW.article_id AND a.day IS NOT NULL
          ON CONFLICT (day, rule_id, source_id) DO UPDATE SET articles = articles + 1;
        INSERT INTO hit_rules (rule_id, rule_name) VALUES (NEW.rule_id, NEW.rule_name)
          ON CONFLICT (rule_id) DO UPDATE SET rule_name = excluded.rule_name
          WHERE excluded.rule_name > COALESCE(rule_name, '');
        END""")
    db.execute("""CREATE TRIGGER hits_count_delete AFTER DELETE ON hits BEGIN
        UPDATE hit_days SET articles = articles - 1 WHERE rule_id = OLD.rule_id
          AND (day, source_id) = (SELECT a.day, COALESCE(a.source_id, '') FROM articles a
                                  WHERE a.id = OLD.article_id);
        DELETE FROM hit_days WHERE articles <= 0;
        END""")
    db.execute("INSERT INTO hit_days (day, rule_id, source_id, articles) "
               "SELECT a.day, h.rule_id, COALESCE(a.source_id, ''), count(*) FROM hits h "
               "JOIN articles a ON a.id = h.article_id WHERE a.day IS NOT NULL "
               "GROUP BY a.day, h.rule_id, COALESCE(a.source_id, '')")
    db.execute("INSERT INTO hit_rules (rule_id, rule_name) "
               "SELECT rule_id, MAX(rule_name) FROM hits GROUP BY rule_id")


@migrations()
def m008_matched_with(db: Database) -> None:
    """Which rules each article was matched with (`matched_with`, the digest of the folder rules
    in force, NULL when there were none): an article stored under other rules than those now in
    force (a worker killed while loading them, an older version, a rule edited since) is matched
    again by the worker (tracker.worker.rematch). `first_seen` indexed for that window."""
    db.execute("ALTER TABLE articles ADD COLUMN matched_with TEXT")
    db.execute("CREATE INDEX idx_articles_first_seen ON articles (first_seen)")


@migrations()
def m009_notice_recipients(db: Database) -> None:
    """Each notice's recipient mailbox (`name+tag@host` counted as `name@host`), indexed with its
    time: a mailbox gets at most NOTICES_PER_DAY confirmation and reminder mails, however many
    subscriptions and spellings a stranger makes for it (tracker.alerts.notices)."""
    from tracker.store.notices import recipient_key

    db["notices"].add_column("recipient", str)
    for row_id, address in db.execute("SELECT id, address FROM notices").fetchall():
        db.execute("UPDATE notices SET recipient = ? WHERE id = ?", [recipient_key(address), row_id])
    db["notices"].create_index(["recipient", "created_at"])


@migrations()
def m010_notice_requests(db: Database) -> None:
    """What a subscriber who left asked for when they came back (`request`: the themes,
    frequency and own keywords of that form, as JSON), kept with the confirmation mail it sent:
    nothing of the subscription changes until its owner confirms (tracker.alerts.rejoin)."""
    db["notices"].add_column("request", str)


@migrations()
def m011_document_fields(db: Database) -> None:
    """The fields a government document prints above its text (发文机关, 发文字号, 成文日期,
    发布日期), as a JSON object, for the articles a policy source reads (NULL elsewhere); alerts
    show them."""
    db.execute("ALTER TABLE articles ADD COLUMN doc_fields TEXT")


@migrations()
def m012_source_health(db: Database) -> None:
    """Source health episodes (a source failing, silent, empty or low from the time the worker
    first saw it until a run no longer shows it: tracker.ops.source_health) and the admin's
    notices about them (one when an episode opens, one when it closes), queued and retried like
    deliveries."""
    db["health_episodes"].create({
        "id": int, "source_id": str, "kind": str, "started_at": str, "ended_at": str,
        "detail": str, "end_detail": str,
    }, pk="id", not_null={"source_id", "kind", "started_at"})
    db["health_episodes"].create_index(["source_id", "ended_at"])
    db["admin_notices"].create({
        "id": int, "episode_id": int, "event": str, "created_at": str, "subject": str,
        "body": str, "status": str, "attempts": int, "next_attempt_at": str, "last_error": str,
        "sent_at": str, "message_id": str, "target": str,
    }, pk="id", not_null={"event", "created_at", "subject", "body", "status"},
        foreign_keys=[("episode_id", "health_episodes", "id")])
    db["admin_notices"].create_index(["status", "next_attempt_at"])


@migrations()
def m013_source_revisions(db: Database) -> None:
    """Every change the admin's source editor made to sources.yaml, like rule_revisions: who,
    when, which source, the diff and the whole old text (so it can be put back)."""
    db["source_revisions"].create({
        "id": int, "file": str, "source_id": str, "action": str, "at": str, "who": str,
        "remote_addr": str, "diff": str, "old_text": str, "new_text": str, "note": str,
    }, pk="id", not_null={"file", "action", "at", "who", "diff", "old_text", "new_text"})
    db["source_revisions"].create_index(["source_id", "id"])


@migrations()
def m014_stories(db: Database) -> None:
    """Stories: the copies of one news story in several papers (reprints with another headline,
    a local lead, a cut, traditional characters) are one story (tracker.store.stories). Each
    article's story (NULL until clustered: `tracker stories rebuild` does the older ones); each
    story's first appearance; the MinHash signatures (plain little-endian integers, never a
    pickle) and LSH band keys of the articles new copies are compared with; and per subscription
    the story already due or sent to it, with the one article it gets: triggers on the outbox
    drop, in the transaction that writes them, rows for any other copy of a story a subscriber
    already has (so neither a digest nor the instant channel nor a crash sends it twice)."""
    db.execute("CREATE TABLE stories (id INTEGER PRIMARY KEY, first_article_id INTEGER NOT NULL,"
               " day TEXT NOT NULL, created_at TEXT NOT NULL, indexed INTEGER NOT NULL DEFAULT 0)")
    db.execute("CREATE INDEX idx_stories_day ON stories (day)")
    db.execute("ALTER TABLE articles ADD COLUMN story_id INTEGER")
    db.execute("CREATE INDEX idx_articles_story ON articles (story_id)")
    db.execute("CREATE INDEX idx_articles_unclustered ON articles (day, id) WHERE story_id IS NULL")
    db.execute("CREATE TABLE story_signatures (article_id INTEGER PRIMARY KEY, story_id INTEGER "
               "NOT NULL, size INTEGER NOT NULL, signature BLOB NOT NULL)")
    # day: the article's day as a day number (date.toordinal), for the window
    db.execute("CREATE TABLE story_bands (key INTEGER NOT NULL, day INTEGER NOT NULL, article_id "
               "INTEGER NOT NULL, PRIMARY KEY (key, day, article_id)) WITHOUT ROWID")
    db.execute("CREATE TABLE subscription_stories (subscription_id INTEGER NOT NULL, story_id "
               "INTEGER NOT NULL, article_id INTEGER NOT NULL, created_at TEXT NOT NULL, "
               "PRIMARY KEY (subscription_id, story_id)) WITHOUT ROWID")
    db.execute("""CREATE TRIGGER outbox_story_once BEFORE INSERT ON outbox
        WHEN EXISTS (SELECT 1 FROM articles a JOIN subscription_stories ss
                     ON ss.story_id = a.story_id AND ss.subscription_id = NEW.subscription_id
                     WHERE a.id = NEW.article_id AND ss.article_id != NEW.article_id)
        BEGIN SELECT RAISE(IGNORE); END""")
    db.execute("""CREATE TRIGGER outbox_story_record AFTER INSERT ON outbox BEGIN
        INSERT OR IGNORE INTO subscription_stories (subscription_id, story_id, article_id,
                                                    created_at)
          SELECT NEW.subscription_id, a.story_id, NEW.article_id, NEW.created_at FROM articles a
          WHERE a.id = NEW.article_id AND a.story_id IS NOT NULL;
        END""")
    db.execute("""CREATE TRIGGER outbox_story_forget AFTER DELETE ON outbox
        WHEN NOT EXISTS (SELECT 1 FROM outbox WHERE subscription_id = OLD.subscription_id
                         AND article_id = OLD.article_id)
        BEGIN
          DELETE FROM subscription_stories WHERE subscription_id = OLD.subscription_id
            AND article_id = OLD.article_id;
        END""")


@migrations()
def m015_snippets(db: Database) -> None:
    """The column of a hit's keyword occurrences and snippets is `snippets` (it was `hits`, the
    table's own name), in `hits` and `personal_hits` alike; the data stays as it was."""
    for table in ("hits", "personal_hits"):
        if db[table].exists() and "hits" in db[table].columns_dict:
            db.execute(f"ALTER TABLE {table} RENAME COLUMN hits TO snippets")


@migrations()
def m016_error_codes(db: Database) -> None:
    """Why a subscription changed state and what a delivery's last error was, as codes with
    fields (`subscriptions.state_code`/`state_fields`, `deliveries.error_code`/`error_fields`;
    the codes are tracker.store.subscriptions.STATE_CODES and deliveries.ERROR_CODES) beside the
    English text kept for admins. The rows of earlier versions, which have the text only, are
    given their code here once, from the texts those versions wrote (and, for what a library or
    a receiver said, the patterns the pages matched it with): the pages say it by code alone."""
    db.execute("ALTER TABLE subscriptions ADD COLUMN state_code TEXT")
    db.execute("ALTER TABLE subscriptions ADD COLUMN state_fields TEXT")
    db.execute("ALTER TABLE deliveries ADD COLUMN error_code TEXT")
    db.execute("ALTER TABLE deliveries ADD COLUMN error_fields TEXT")
    for row_id, text in db.execute("SELECT id, state_reason FROM subscriptions "
                                   "WHERE state_reason IS NOT NULL").fetchall():
        code, fields = _old_reason(text)
        db.execute("UPDATE subscriptions SET state_code = ?, state_fields = ? WHERE id = ?",
                   [code, json.dumps(fields, ensure_ascii=False), row_id])
    for row_id, text in db.execute("SELECT id, last_error FROM deliveries "
                                   "WHERE last_error IS NOT NULL").fetchall():
        code, fields = _old_error(text)
        db.execute("UPDATE deliveries SET error_code = ?, error_fields = ? WHERE id = ?",
                   [code, json.dumps(fields, ensure_ascii=False), row_id])


# What m016 reads old texts with: frozen with it (the texts of the versions before it).

def _old_reason(text: str) -> tuple[str, dict[str, Any]]:
    """A state_reason as versions before m016 wrote it, as (code, fields)."""
    if re.match(r"unsubscribe link", text, re.I):
        return "unsubscribe_link", {}
    if "410 Gone" in text:
        return "gone", {}
    failing = re.match(r"failing since ([^;\s]+)(?:; last error: (.*))?", text, re.S)
    if failing:
        fields: dict[str, Any] = {"since": failing.group(1)}
        if failing.group(2):
            fields["error_code"], fields["error_fields"] = _old_error(failing.group(2))
        return "failing", fields
    return "other", {}


_OLD_KINDS = ("loopback", "private", "link_local", "this_network", "cgnat", "documentation",
              "multicast", "mapped", "reserved")
_STAGE = r"(MAIL FROM|RCPT TO|DATA|end of data)"
# (pattern, code, the names of its groups as fields): the first found wins. Our own texts first,
# then what libraries and receivers said, as the pages matched it before m016.
_OLD_ERRORS: list[tuple[str, str, tuple[str, ...]]] = [
    (r"^(?:webhook|chat) URL refused: ", "unsafe", ()),
    (r"^cannot sign: ", "bad_secret", ()),
    (r"^internal error: |^the sender gave no result|^no sender for |^not sent$", "internal", ()),
    (r"^no complete answer within ([\d.]+) s", "timeout", ("seconds",)),
    (r"^timed out after ([\d.]+) s", "timeout", ("seconds",)),
    (r"^HTTP (410)\b", "gone", ("status",)),
    (r"^HTTP (3\d\d)\b", "redirect", ("status",)),
    (r"^HTTP (4\d\d)\b", "rejected", ("status",)),
    (r"^HTTP (5\d\d)\b", "server_error", ("status",)),
    (r"does not offer STARTTLS", "no_starttls", ()),
    (r"^\S+ login refused: (\d{3})\b", "smtp_login", ("status",)),
    (r"^\S+ refused: (\d{3})\b", "smtp", ("status",)),
    (r"^(\d{3}) at (MAIL FROM): .*\(sender refused", "smtp_sender", ("status", "stage")),
    (rf"^(\d{{3}}) at {_STAGE}:", "smtp", ("status", "stage")),
    (rf"^connection lost at {_STAGE}", "connection_lost", ("stage",)),
    (r"^cannot make the email", "compose", ()),
    (r"^configuration: ", "config", ()),
    (r"^cannot write to the mailbox", "mailbox", ()),
    (r"^not a URL Apprise understands", "not_apprise", ()),
    (r"^the chat service did not take the message", "chat_failed", ()),
    (r"timed? ?out", "timeout", ()),
    (r"connection refused|ConnectionRefused|Errno 111\b", "refused", ()),
    (r"cannot resolve|Name or service not known|getaddrinfo|nodename nor servname",
     "unresolvable", ()),
    (r"certificate|\bSSL|\bTLS", "tls", ()),
    (r"^cannot connect|^HTTP request failed|Connection error occur|connection reset|broken pipe",
     "network", ()),
    (r"\berror=(3\d\d)\b", "redirect", ("status",)),
    (r"\b(410)\b", "gone", ("status",)),
    (r"\b(4\d\d)\b", "rejected", ("status",)),
    (r"\b(5\d\d)\b", "server_error", ("status",)),
    (r"SMTP|smtplib|mail server", "smtp", ()),
    (r"apprise|notify|notification", "chat_failed", ()),
    (r"^[\w.]*(?:Error|Exception)\b", "internal", ()),
]


def _old_error(text: str) -> tuple[str, dict[str, Any]]:
    """A delivery's last_error as versions before m016 wrote it, as (code, fields)."""
    for pattern, code, names in _OLD_ERRORS:
        found = re.search(pattern, text, re.I | re.S)
        if not found:
            continue
        fields: dict[str, Any] = {}
        for name, value in zip(names, found.groups()):
            fields[name] = int(value) if name == "status" else \
                float(value) if name == "seconds" else value
        if code == "unsafe":
            fields.update(_old_refusal(text))
        return code, fields
    return "other", {}


def _old_refusal(text: str) -> dict[str, Any]:
    """The address check's code (and kind) in a refusal's old text, as far as it says."""
    if "cannot resolve" in text or "which is not an address" in text:
        host = re.search(r"cannot resolve (\S+)|(\S+) resolves to", text)
        return {"check": "unresolvable", **({"host": next(filter(None, host.groups()))}
                                            if host else {})}
    if re.search(r"is this machine \(loopback\)", text):
        return {"check": "loopback"}
    which = re.search(r"which is ([\w-]+)|a zone-scoped address", text)
    if which:
        kind = (which.group(1) or "link_local").lower().replace("-", "_")
        return {"check": "forbidden_address", **({"kind": kind} if kind in _OLD_KINDS else {})}
    return {"check": "other"}
