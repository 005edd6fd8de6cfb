"""Bytes of unknown encoding to text: BOMs, UTF-8, GBK family, Big5, lying declarations, junk.

Peer bugs turned into cases here:
- miniflux/v2#255, projectdiscovery/httpx#167, mitmproxy/mitmproxy#3150: a page whose header or
  <meta> says one charset while the bytes are GBK came out as mojibake.
- mdn/translated-content#4724: the reverse, <meta charset=GBK> on a UTF-8 file.
- mitmproxy/mitmproxy#3150, open-webui/open-webui#24973: gb2312 used for text with GBK-only
  characters; decode as GB18030, the superset.
- chardet/chardet#219, CharsetDetector/UTF-unknown#143, jawah/charset_normalizer#587 and #365:
  short GB2312/GBK text detected as EUC-JP, Big5, cp949 or cp874.
"""

from __future__ import annotations

import codecs
import random
import zlib

import opencc
import pytest

from tracker.documents import InputError
from tracker.text.encoding import decode, sniff_declared

GBK_ONLY = "朱镕基到访，王堃主持"  # 镕 and 堃 are in GBK but not in GB2312


def short_lines(text: str, low: int = 8, high: int = 40) -> list[str]:
    return [line.strip() for line in text.splitlines() if low <= len(line.strip()) <= high]


@pytest.mark.parametrize("bom, codec, expected", [
    (b"", "utf-8", "utf-8"),
    (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
    (b"", "gbk", "gb18030"),
    (b"", "gb18030", "gb18030"),
])
def test_whole_seed_pages_decode_in_each_encoding(seed_texts, bom, codec, expected):
    for name, text in seed_texts.items():
        assert decode(bom + text.encode(codec), name) == (text, expected), name


def test_gbk_only_characters_in_a_page_declared_gb2312(seed_texts):
    text = next(iter(seed_texts.values()))[:2000] + GBK_ONLY
    data = text.encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("gb2312")  # what trusting the declaration would do
    assert decode(data, "page", declared="gb2312") == (text, "gb18030")


@pytest.mark.parametrize("declared", ["utf-8", "UTF8", "big5", "shift_jis", "iso-8859-1"])
def test_a_declaration_contradicting_gbk_bytes_does_not_win(seed_texts, declared):
    for name, text in seed_texts.items():
        assert decode(text.encode("gbk"), name, declared=declared) == (text, "gb18030"), name


def test_gbk_html_with_meta_utf8_is_not_mojibake(seed_texts):
    text = next(iter(seed_texts.values()))
    page = f'<html><head><meta charset="utf-8"></head><body><p>{text}</p></body></html>'
    assert decode(page.encode("gbk"), "page.html", declared="utf-8") == (page, "gb18030")


@pytest.mark.parametrize("declared", ["gbk", "gb2312", "big5", None])
def test_utf8_bytes_are_utf8_whatever_is_declared(seed_texts, declared):
    for name, text in seed_texts.items():
        page = f'<meta http-equiv="Content-Type" content="text/html; charset=gbk">{text}'
        assert decode(page.encode("utf-8"), name, declared=declared) == (page, "utf-8")


def test_short_gbk_lines_with_a_declared_hint(seed_texts):
    lines = [line for text in seed_texts.values() for line in short_lines(text)
             if not line.isascii()]
    assert len(lines) > 200
    wrong = [line for line in lines if decode(line.encode("gbk"), "line", "gb2312")[0] != line]
    # charset_normalizer alone gets ~20% of these wrong (cp949, UTF-16, Shift_JIS, cp874).
    assert len(wrong) <= len(lines) // 100, wrong


def test_short_gbk_lines_without_any_hint(seed_texts):
    lines = [line for text in seed_texts.values() for line in short_lines(text)
             if not line.isascii()]
    wrong = [line for line in lines if decode(line.encode("gbk"), "line")[0] != line]
    assert len(wrong) <= len(lines) // 50, wrong


def test_traditional_characters_in_big5_and_in_gbk(seed_texts):
    to_traditional = opencc.OpenCC("s2t")
    for name, text in seed_texts.items():
        traditional = to_traditional.convert(text)
        assert traditional != text
        big5_lines = []
        for line in traditional.splitlines():
            try:
                line.encode("big5")
            except UnicodeEncodeError:
                continue
            big5_lines.append(line)
        big5_text = "\n".join(big5_lines)
        assert decode(big5_text.encode("big5"), name) == (big5_text, "big5"), name
        assert decode(traditional.encode("gbk"), name) == (traditional, "gb18030"), name


def test_short_big5_lines_follow_a_big5_declaration(seed_texts):
    to_traditional = opencc.OpenCC("s2t")
    lines = []
    for text in seed_texts.values():
        for line in short_lines(to_traditional.convert(text)):
            try:
                lines.append((line, line.encode("big5")))
            except UnicodeEncodeError:
                continue
    assert len(lines) > 100
    assert [line for line, data in lines if not data.isascii() and decode(data, "x", "big5")[0] != line] == []


@pytest.mark.parametrize("raw, expected", [
    (b"a\r\nb\rc\nd", "a\nb\nc\nd"),
    ("第一行\r\n第二行\r第三行\r\n".encode("gbk") * 20, "第一行\n第二行\n第三行\n" * 20),
    ("\r\n专业镇\r\n".encode("utf-16"), "\n专业镇\n"),
])
def test_line_endings_become_newlines(raw, expected):
    assert decode(raw, "x")[0] == expected


def _random_bytes(seed: int, size: int, low: int = 0) -> bytes:
    rng = random.Random(seed)
    return bytes(rng.randrange(low, 256) for _ in range(size))


def _png() -> bytes:
    row = _random_bytes(2, 3 * 64 + 1)
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + zlib.compress(row * 64)


@pytest.mark.parametrize("data", [
    b"text\x00with\x00nuls" * 50,
    _random_bytes(0, 4096),
    _random_bytes(1, 4096, low=1),  # random, no NUL
    _png(),
    zlib.compress("专业镇".encode() * 500),
    bytes(range(1, 32)) * 100,  # control characters only: valid UTF-8, still not text
], ids=["nul", "random", "random-no-nul", "png", "zlib", "controls"])
def test_binary_junk_is_refused(data):
    with pytest.raises(InputError) as caught:
        decode(data, "junk.bin")
    assert (caught.value.where, caught.value.problem) == ("junk.bin", "looks like binary data, not text")


def test_empty_input_is_refused():
    with pytest.raises(InputError) as caught:
        decode(b"", "empty.txt")
    assert (caught.value.where, caught.value.problem) == ("empty.txt", "is empty")


@pytest.mark.parametrize("head, expected", [
    (b'<html><head><meta charset="gb2312"></head>', "gb2312"),
    (b"<meta charset=GBK>", "gbk"),
    (b'<META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=gb18030">', "gb18030"),
    (b"<?xml version='1.0' encoding='GB2312'?><rss>", "gb2312"),
    (b'<?xml version="1.0"?><rss>', None),
    (b"<html><body>no declaration</body></html>", None),
    (b" " * 5000 + b'<meta charset="gbk">', None),  # only the first 4 KB count
])
def test_sniff_declared(head, expected):
    assert sniff_declared(head) == expected


def test_a_meta_declaration_breaks_a_tie_for_short_big5():
    # The same bytes are plausible as GBK and as Big5; the page's own <meta> picks Big5.
    line = "經濟開發區"
    page = f'<meta charset="big5"><p>{line}</p>'.encode("big5")
    assert decode(page, "page.html") == (page.decode("big5"), "big5")


# --- Feeds that are legal but unusual (like feedparser's tests/encoding/*-autodetect.xml: wide
# encodings without a byte-order mark, named only in the XML prolog). Our own fixtures, made here.

WIDE_FEED = ('<?xml version="1.0" encoding="{label}"?>\n<rss version="2.0"><channel><title>演示</title>'
             "<item><title>专业镇建设提速</title><description>推动专业镇高质量发展。</description>"
             "<link>https://example.org/a</link></item></channel></rss>")


@pytest.mark.parametrize("codec,label", [("utf-16-le", "utf-16"), ("utf-16-be", "utf-16"),
                                         ("utf-16-le", "UTF-16LE"), ("utf-16-be", "utf-16be"),
                                         ("utf-32-le", "utf-32"), ("utf-32-be", "UTF-32BE")])
def test_wide_feed_without_bom_is_read(codec, label):
    from tracker.sources.reader import documents

    data = WIDE_FEED.format(label=label).encode(codec)
    assert not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE,
                                codecs.BOM_UTF32_BE))
    (entry,) = documents("feed.xml", data, suffix=".xml")
    assert entry.title == "专业镇建设提速" and entry.text == "推动专业镇高质量发展。"


def test_wide_text_that_is_not_what_it_looks_like_is_refused():
    data = "<?xml version='1.0'?><rss/>".encode("utf-16-le") + b"\x00\xd8"  # a lone surrogate
    with pytest.raises(InputError, match="utf-16-le"):
        decode(data, "feed.xml")


LATIN1_FEED = ('<?xml version="1.0"?><rss version="2.0"><channel><title>Revue</title><item>'
               "<title>Le marché de Noël ouvre à Zürich</title><description>Crème brûlée, pâté, "
               "façade : déjà vu, naïve, Größe.</description></item></channel></rss>")


@pytest.mark.parametrize("text", [LATIN1_FEED, "naïve café résumé", "Müller fährt über die Brücke. Größe, Straße."])
def test_undeclared_latin1_is_not_read_as_central_european(text):
    decoded, encoding = decode(text.encode("latin-1"), "feed.xml")
    assert decoded == text and encoding in ("cp1252", "iso8859-1")


def test_declared_central_european_still_wins():
    text = "Příliš žluťoučký kůň úpěl ďábelské ódy."
    decoded, encoding = decode(text.encode("cp1250"), "page.html", declared="windows-1250")
    assert decoded == text and encoding == "cp1250"


def test_text_in_an_inline_svg_title_of_a_feed_entry_is_kept():
    from tracker.sources.reader import documents

    feed = ('<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            "<title>演示</title><entry><title>图表</title><content type='xhtml'>"
            "<div xmlns='http://www.w3.org/1999/xhtml'><p>见图：</p>"
            "<svg xmlns='http://www.w3.org/2000/svg'><title>专业镇产值增长</title><rect/></svg>"
            "</div></content></entry></feed>")
    (entry,) = documents("feed.atom", feed.encode("utf-8"), suffix=".atom")
    assert entry.text == "见图：\n专业镇产值增长"


@pytest.mark.parametrize("label", ["cp1252", "windows-1252", "koi8-r", "cp1251", "cp437", "mac-roman",
                                   "cp1250", "cp1253", "cp1255", "cp1257"])
def test_a_declared_single_byte_feed_keeps_its_declaration(label):
    """Like feedparser's tests/encoding/x80_*.xml (our own bytes): byte 0x80 and 0xE9 in a feed
    whose prolog names the code page read as that code page says, not as windows-1252."""
    from tracker.sources.reader import documents

    feed = (f'<?xml version="1.0" encoding="{label}"?><rss version="2.0"><channel><title>t</title>'
            "<item><title>T</title><description>x</description></item></channel></rss>")
    data = feed.encode("ascii").replace(b"<title>T</title>", b"<title>\x80\xe9</title>")
    (entry,) = documents("feed.xml", data, suffix=".xml")
    assert entry.title == b"\x80\xe9".decode(label)


@pytest.mark.parametrize("codec", ["utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_whitespace_before_the_xml_declaration_is_tolerated(codec):
    """kurtmckee/feedparser#508: a newline before <?xml broke the parse."""
    from tracker.sources.reader import documents

    data = ("\r\n  " + WIDE_FEED.format(label=codec.replace("-le", "").replace("-be", ""))).encode(codec)
    (entry,) = documents("feed.xml", data, suffix=".xml")
    assert entry.title == "专业镇建设提速"
