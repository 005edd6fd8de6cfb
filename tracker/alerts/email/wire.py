"""How an email is written on the wire: the policy (CRLF, lines of at most 76 characters), the
headers not left to Python's folding, a text part in base64, the bytes, and the last check that the
header block reads back as the headers set.

Three headers are not left to Python's folding: Subject is written as encoded words of whole
characters with the spaces inside them (Python's folding loses a space between Chinese and digits,
and writes over-long words); List-Unsubscribe and List-Id are written verbatim (Python would turn
a long URL into encoded words). Every line is at most 76 characters.

Made to be cheap per message (a pool of connections sends as fast as mail is made): header
classes made once, a boundary that needs no search, fixed headers parsed once and shared.
"""

from __future__ import annotations

import base64
import binascii
import random
from email import policy as email_policy
from email.generator import BytesGenerator
from email.headerregistry import HeaderRegistry
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from functools import lru_cache
from io import BytesIO
from typing import Any


def _fold_words(name: str, words: list[str], policy: email_policy.EmailPolicy) -> str:
    """`name: word word …`, a line break put before a word that would pass the line length
    (unfolding takes the break away and keeps the space)."""
    lines = [f"{name}:"]
    for number, word in enumerate(words):
        if number and len(lines[-1]) + 1 + len(word) > (policy.max_line_length or 998):
            lines.append("")
        lines[-1] += " " + word
    return policy.linesep.join(lines) + policy.linesep


class _VerbatimHeader:
    """An ASCII header written as given, folded only at its spaces, never RFC 2047-encoded.
    Python folds a long `<https://…>` into `=?utf-8?q?…?=` words and the link stops working
    (odoo/odoo#289182); List-Unsubscribe and List-Id go through this class instead."""

    max_count = 1

    @classmethod
    def parse(cls, value: Any, kwds: dict) -> None:
        kwds["parse_tree"] = None
        kwds["decoded"] = str(value)

    def fold(self, *, policy: email_policy.EmailPolicy) -> str:
        return _fold_words(self.name, str(self).split(" "), policy)  # type: ignore[attr-defined]


class _EncodedHeader(_VerbatimHeader):
    """Text written whole as RFC 2047 B-encoded words of whole characters, spaces inside the words.
    Python's own folding puts a space *between* two encoded words, where readers drop it
    ("专业镇 1 篇" arrives as "专业镇1 篇"; the same bug as mjl-/mox#398), and writes words of 76
    characters where RFC 2047 allows 75. The value given is taken as text, never decoded."""

    def fold(self, *, policy: email_policy.EmailPolicy) -> str:
        return _fold_words(self.name, encoded_words(str(self)), policy)  # type: ignore[attr-defined]


def encoded_words(text: str, chunk_bytes: int = 39) -> list[str]:
    """Text as RFC 2047 B-encoded UTF-8 words of whole characters (39 bytes: 64 characters a word,
    so that "Subject: " + word fits in 76). Made here, not with email.header.Header, whose
    encoding follows the process-wide email.charset table (Apprise switches utf-8 to QP there)."""
    chunks, chunk = [], b""
    for char in text:
        data = char.encode("utf-8")
        if chunk and len(chunk) + len(data) > chunk_bytes:
            chunks.append(chunk)
            chunk = b""
        chunk += data
    chunks.append(chunk)
    return [f"=?utf-8?b?{base64.b64encode(c).decode('ascii')}?=" for c in chunks if c]


class _Registry(HeaderRegistry):
    """HeaderRegistry that makes each header class once: the stock one builds a new class with
    `type()` for every header it parses, the largest single cost of composing a mail."""

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[str, type] = {}

    def map_to_type(self, name: str, cls: type) -> None:
        super().map_to_type(name, cls)
        self._made.clear()

    def __getitem__(self, name: str) -> type:
        key = name.lower()
        made = self._made.get(key)
        if made is None:  # two threads may both make it: harmless, either class is right
            made = self._made[key] = super().__getitem__(name)
        return made


class _Generator(BytesGenerator):
    """BytesGenerator with a boundary that cannot occur in what it separates: `_` is outside
    base64's alphabet (both parts are base64) and the parts' own headers are fixed. The stock
    boundary is a random number checked against the whole text with a regular expression
    compiled anew for every message."""

    @classmethod
    def _make_boundary(cls, text: str | None = None) -> str:
        # Uniqueness, not secrecy: `random`, not os.urandom (a system call per message).
        return f"=_tracker_{random.getrandbits(96):024x}"


def _policy() -> email_policy.EmailPolicy:
    registry = _Registry()
    registry.map_to_type("subject", _EncodedHeader)
    registry.map_to_type("list-unsubscribe", _VerbatimHeader)
    registry.map_to_type("list-id", _VerbatimHeader)
    # 76, not 78, for what Python still folds (display names): it fills a folded line with one
    # encoded word, and RFC 2047 allows 75 characters (" " + 75); at 78 it writes 76.
    return email_policy.SMTP.clone(header_factory=registry, max_line_length=76)


POLICY = _policy()


@lru_cache(maxsize=64)
def fixed_header(name: str, value: str) -> Any:
    """A header whose value is the same in every message (MIME-Version, a part's Content-Type…),
    parsed once and shared: `msg[name] = fixed_header(name, value)` stores it as it is. Header
    objects are not changed by writing them out, so threads may share them."""
    return POLICY.header_factory(name, value)


def boundary() -> str:
    """A multipart boundary that cannot occur in a message made here (see _Generator)."""
    return _Generator._make_boundary()


def as_bytes(msg: EmailMessage) -> bytes:
    """The message as sent (POLICY: CRLF, lines of at most 76 characters)."""
    out = BytesIO()
    _Generator(out, mangle_from_=False, policy=POLICY).flatten(msg)
    return out.getvalue()


def text_part(text: str, subtype: str) -> EmailMessage:
    """A text part in UTF-8, base64 (Chinese is shorter so than quoted-printable, and no line
    nears 998 octets): what `set_content(…, cte="base64")` writes, without parsing its own
    headers back again and again; no MIME-Version, which belongs to the top level only."""
    part = EmailMessage(policy=POLICY)
    part["Content-Type"] = fixed_header("Content-Type", f'text/{subtype}; charset="utf-8"')
    part["Content-Transfer-Encoding"] = fixed_header("Content-Transfer-Encoding", "base64")
    linesep = POLICY.linesep.encode("ascii")
    data = linesep.join(text.encode("utf-8").splitlines()) + linesep  # bytes: only CR/LF end a line
    step = (POLICY.max_line_length or 76) // 4 * 3
    part.set_payload("".join(binascii.b2a_base64(data[i:i + step]).decode("ascii")
                             for i in range(0, len(data), step)))
    return part


def check_headers(msg: EmailMessage, data: bytes | None = None) -> None:
    """Refuse the message if any header value holds a line break, or if a receiver reading the
    bytes would find other headers than the ones set (a header smuggled in, or the block cut).
    `data`: the message's bytes when already made (`as_bytes`), else they are made here."""
    for name, value in msg.raw_items():  # as stored: nothing parsed again to be checked
        if "\r" in str(value) or "\n" in str(value):
            raise ValueError(f"header {name} would contain a line break")
    head = (as_bytes(msg) if data is None else data).split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
    seen = [name.lower() for name in BytesHeaderParser(policy=email_policy.compat32).parsebytes(head).keys()]
    if seen != [name.lower() for name in msg.keys()]:
        raise ValueError(f"the header block would read as {seen}, not as the headers set")
