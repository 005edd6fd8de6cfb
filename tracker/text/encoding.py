"""Bytes of unknown encoding to text.

Order of trust: a byte-order mark, then strict UTF-8, then what charset_normalizer detects from
the bytes. A declared charset (HTTP header, `<meta charset>`, `<?xml encoding?>`) is only a hint
that breaks ties between candidates the detector already found plausible: Chinese pages often
declare `utf-8` or `gb2312` and are really GBK, so a declaration never overrides the bytes.
Every GB family result is decoded as GB18030, the superset (镕, 堃 are GBK-only).
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

from tracker.errors import InputError

BINARY = "looks like binary data, not text"

# Checked longest first: the UTF-32-LE mark starts with the UTF-16-LE one.
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# XML without a byte-order mark announces UTF-16/32 by how its first "<?" (or "<" and a name)
# is spelled (XML 1.0, appendix F; newsboat/newsboat#2660): these four byte patterns, after any
# whitespace a careless server put first (kurtmckee/feedparser#508); the prolog names the codec.
XML_WIDE = (
    (re.compile(rb"\A(?:\x00\x00\x00[\t\n\r ])*\x00\x00\x00<\x00\x00\x00[?!a-zA-Z]"), "utf-32-be"),
    (re.compile(rb"\A(?:[\t\n\r ]\x00\x00\x00)*<\x00\x00\x00[?!a-zA-Z]\x00\x00\x00"), "utf-32-le"),
    (re.compile(rb"\A(?:\x00[\t\n\r ])*\x00<\x00[?!a-zA-Z]"), "utf-16-be"),
    (re.compile(rb"\A(?:[\t\n\r ]\x00)*<\x00[?!a-zA-Z]\x00"), "utf-16-le"),
)

# Signatures of common binary formats that can pass as text in a single-byte code page.
MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"PK\x03\x04", b"\x1f\x8b", b"%PDF-", b"\x7fELF")

GB_FAMILY = {"gb2312", "gbk", "gb18030", "hz"}  # Python codec names; cp936, euc-cn etc. are aliases

# Encodings the newspapers we read actually use: preferred when the detector finds them as
# plausible as its best guess (short GBK text is often "detected" as cp949 or UTF-16).
PRIOR = ("gb18030",)

# How much more mess (charset_normalizer's chaos, 0..1) a hinted candidate may show than the best.
AMBIGUITY = 0.1

# Control characters that never occur in text (tab, newlines, form feed and ESC excluded).
CONTROL = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")

DECLARED = (
    re.compile(rb"<\?xml[^>]*?\bencoding\s*=\s*[\"']?\s*([\w.:-]+)", re.I),
    re.compile(rb"<meta\s[^>]*?\bcharset\s*=\s*[\"']?\s*([\w.:-]+)", re.I),
)


def canonical(name: str | None) -> str | None:
    """Python's codec name for an encoding label (`GB2312` -> `gb18030`), or None if unknown."""
    if not name:
        return None
    try:
        codec = codecs.lookup(name.strip()).name
    except (LookupError, ValueError):
        return None
    return "gb18030" if codec in GB_FAMILY else codec


def sniff_declared(data: bytes) -> str | None:
    """The charset a page declares in its first 4 KB (`<?xml encoding>`, `<meta charset>`), if any."""
    head = data[:4096]
    for pattern in DECLARED:
        match = pattern.search(head)
        if match:
            return match.group(1).decode("ascii", "replace").lower()
    return None


def decode(data: bytes, where: str, declared: str | None = None) -> tuple[str, str]:
    """Decode `data` to text with `\\n` line ends; returns (text, encoding name)."""
    if not data:
        raise InputError(where, "is empty")
    text, encoding = _decode(data, where, declared)
    if _looks_binary(text):
        raise InputError(where, BINARY)
    return text.replace("\r\n", "\n").replace("\r", "\n"), encoding


def _decode(data: bytes, where: str, declared: str | None) -> tuple[str, str]:
    for bom, encoding in BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding).lstrip("\ufeff"), encoding
            except UnicodeDecodeError:
                problem = f"starts with a {encoding} byte-order mark but is not {encoding}"
                raise InputError(where, problem) from None
    for pattern, encoding in XML_WIDE:
        if pattern.match(data):
            try:
                return data.decode(encoding).lstrip("\ufeff"), encoding
            except UnicodeDecodeError:
                raise InputError(where, f"starts like {encoding} XML but is not {encoding}") from None
    if b"\x00" in data or data.startswith(MAGIC):
        raise InputError(where, BINARY)
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    hints = [canonical(declared), canonical(sniff_declared(data)), *PRIOR]
    encoding = _detect(data, [h for h in hints if h and h != "utf-8"])
    if encoding is None:
        raise InputError(where, BINARY)
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError:
        raise InputError(where, f"is not valid {encoding} text") from None


def _detect(data: bytes, hints: list[str]) -> str | None:
    """The best encoding for `data` by charset_normalizer; `hints` win only among near-equals."""
    matches = list(from_bytes(data))
    if not matches:
        # Too short or too odd for the detector: accept a hint only if the bytes decode strictly.
        for hint in hints:
            try:
                data.decode(hint)
            except (UnicodeDecodeError, LookupError):
                continue
            return hint
        return None
    best = matches[0]
    plausible = [m for m in matches if m.chaos <= best.chaos + AMBIGUITY]
    if _single_byte(best.encoding):
        # Among single-byte code pages the detector guesses (cp1250, cp1257, …) for Latin text,
        # windows-1252 is what an undeclared Western page really is (HTML's default for
        # latin-1), as long as the bytes are valid in it.
        hints = [*hints, *(["cp1252"] if _valid(data, "cp1252") else [])]
    for hint in hints:
        for match in plausible:
            if hint in {canonical(name) for name in (match.encoding, *match.could_be_from_charset)}:
                return hint
    return canonical(best.encoding) or best.encoding


def _single_byte(encoding: str) -> bool:
    """A code page with no Chinese characters: one byte a character."""
    try:
        return not "中".encode(encoding, "ignore")
    except LookupError:
        return False


def _valid(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _looks_binary(text: str) -> bool:
    """Text with control characters (beyond a stray few) is a binary file decoded by accident."""
    sample = text[:65536]
    return len(CONTROL.findall(sample)) > max(2, len(sample) // 1000)
