"""PDF to text with pypdfium2. PDFs are written at test time with reportlab's built-in CID font
STSong-Light (no font file needed, and pdfium maps its glyphs back to Unicode).

Peer bugs turned into cases here:
- pypdfium2-team/pypdfium2#444, datalab-to/pdftext#47: pdfium objects left to the garbage
  collector leak or race; every page, text page and document must be closed, on errors too.
"""

from __future__ import annotations

import pypdfium2 as pdfium
import pytest
from reportlab.lib import pdfencrypt

from tracker.documents import InputError
from tracker.text.pdf import NO_TEXT, extract_text, pdf_text

from builders import LINES_PER_PAGE, make_pdf, seed_lines

def test_seed_pages_come_back_from_a_pdf(seed_texts):
    for name, text in seed_texts.items():
        lines = seed_lines(text)[:2 * LINES_PER_PAGE]
        pages = [lines[:LINES_PER_PAGE], lines[LINES_PER_PAGE:]]
        extracted = pdf_text(make_pdf(pages), name)
        assert "\r" not in extracted
        assert extracted.split("\n\n") == ["\n".join(page) for page in pages], name


def test_pages_stay_in_order_and_separated():
    extracted = pdf_text(make_pdf([["第一页 专业镇"], ["第二页 标准地"], ["第三页 绿电"]]), "x.pdf")
    assert extracted == "第一页 专业镇\n\n第二页 标准地\n\n第三页 绿电"


@pytest.mark.parametrize("pages", [[[]], [[], []]], ids=["one-drawing", "two-drawings"])
def test_no_text_layer_is_refused(pages):
    with pytest.raises(InputError) as caught:
        pdf_text(make_pdf(pages), "scan.pdf")
    assert (caught.value.where, caught.value.problem) == ("scan.pdf", NO_TEXT)


def test_a_page_without_text_among_pages_with_text_is_kept_empty():
    assert pdf_text(make_pdf([["专业镇"], [], ["标准地"]]), "x.pdf") == "专业镇\n\n\n\n标准地"


@pytest.mark.parametrize("damage, problem", [
    (lambda data: data[: len(data) // 3], "PDF is damaged or truncated"),
    (lambda data: b"%PDF-1.4\n" + b"\x00garbage" * 100, "PDF is damaged or truncated"),
    (lambda data: b"hello, not a pdf", "PDF is damaged or truncated"),
])
def test_broken_pdfs_are_refused(damage, problem):
    with pytest.raises(InputError) as caught:
        pdf_text(damage(make_pdf([["专业镇"]])), "broken.pdf")
    assert (caught.value.where, caught.value.problem) == ("broken.pdf", problem)


def test_an_encrypted_pdf_is_refused():
    data = make_pdf([["专业镇"]], encrypt=pdfencrypt.StandardEncryption("secret", canPrint=0))
    with pytest.raises(InputError) as caught:
        pdf_text(data, "locked.pdf")
    assert "encrypted" in caught.value.problem


def test_a_pdf_encrypted_without_a_user_password_opens():
    data = make_pdf([["专业镇"]], encrypt=pdfencrypt.StandardEncryption("", ownerPassword="owner"))
    assert pdf_text(data, "x.pdf") == "专业镇"


@pytest.mark.parametrize("pages", [[["专业镇"], ["标准地"]], [[], []]], ids=["text", "no-text"])
def test_pdfium_objects_are_closed(monkeypatch, pages):
    opened: list[str] = []
    closed: list[str] = []
    for cls in (pdfium.PdfDocument, pdfium.PdfPage, pdfium.PdfTextPage):
        original_init, original_close = cls.__init__, cls.close

        def init(self, *args, _init=original_init, _name=cls.__name__, **kwargs):
            _init(self, *args, **kwargs)
            opened.append(_name)

        def close(self, *args, _close=original_close, _name=cls.__name__, **kwargs):
            closed.append(_name)
            return _close(self, *args, **kwargs)

        monkeypatch.setattr(cls, "__init__", init)
        monkeypatch.setattr(cls, "close", close)
    try:
        extract_text(make_pdf(pages), "x.pdf")  # in this process, where the patches are
    except InputError:
        pass
    assert sorted(opened) == sorted(closed)
    assert (opened.count("PdfDocument"), opened.count("PdfPage")) == (1, 2)
